"""The worker's check-in page (phone first, English and Spanish): a few questions about the job and
the car, answered in under a minute from the loan page (or a link in a message).

Only the borrower sees it: anyone else's loan is "not found". Bad answers re-render the form with a
message beside each field (422); nothing is written.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from loanapp.access import roles
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.outcomes import errors, operations, queries
from loanapp.outcomes.vocabulary import COMMUTES, PAYOFF
from loanapp.programs.models import Employer

bp = Blueprint("check_in", __name__, url_prefix="/my")

#: The worker reads one plain message per field, in their language (the API's messages are English).
FIELD_MESSAGES: dict[str, Any] = {
    "employed": _l("Answer yes or no."),
    "employer_id": _l("Choose where you work, or write the name of the company."),
    "employer_other": _l("Choose where you work, or write the name of the company."),
    "hourly_wage": _l("Enter what you earn per hour, from $0 to $200, like 15.50."),
    "hours_per_week": _l("Enter the hours you work in a usual week, from 0 to 80."),
    "started_job": _l("Answer yes or no."),
    "started_on": _l("Enter the day you started: not before your loan began, and not in the future."),
    "commute": _l("Choose how you get to work."),
    "car_running": _l("Answer yes or no."),
    "comment": _l("Please write at most 1,000 characters."),
    "checked_on": _l("Enter a date from when your loan began until today."),
}


def _own_loan(loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    if loan is None or loan.borrower_id != current_user.id:
        abort(404)
    return loan


def _bool(raw: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(raw or "")


def milestone_words(code: str) -> str:
    if code == PAYOFF:
        return _("Your loan is paid off: how are things going?")
    return _("%(months)s months with your car: how are things going?", months=code)


def _render(
    loan: Loan, due: Any, values: dict[str, Any], field_errors: dict[str, Any], status: int = 200
) -> Any:
    employers = list(db.session.scalars(select(Employer).order_by(Employer.name)))
    return render_template(
        "outcomes/worker_check_in.html",
        loan=loan,
        due=due,
        heading=milestone_words(due.milestone),
        values=values,
        errors=field_errors,
        employers=employers,
        commutes=COMMUTES,
        asks_start=operations.asks_start(loan.application) and not operations.start_recorded(loan.id),
        today=business_date(),
    ), status


@bp.route("/loans/<int:loan_id>/check-in", methods=["GET", "POST"])
@roles("worker")
def answer(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _own_loan(loan_id)
    today = business_date()
    if request.method == "GET":
        due = queries.open_check_in(loan.id, today)
        if due is None:
            flash(_("There is no check-in to answer right now. Thank you!"), "info")
            return redirect(url_for("portal.loan", loan_id=loan.id))
        values = {
            "key": secrets.token_urlsafe(16),
            "employer_id": str(loan.employer_id or ""),
        }
        return _render(loan, due, values, {})
    form = request.form
    employed = _bool(form.get("employed"))
    values = {name: form.get(name, "") for name in (
        "key", "milestone", "employed", "employer_id", "employer_other", "hourly_wage", "hours_per_week",
        "started_job", "started_on", "commute", "car_running", "comment",
    )}  # fmt: skip
    working = employed is True
    employer_choice = values["employer_id"]
    data = operations.CheckInInput(
        employed=employed,
        car_running=_bool(values["car_running"]),
        source="self_report",
        employer_id=employer_choice if working and employer_choice not in ("", "other") else None,
        employer_other=values["employer_other"] if working and employer_choice in ("", "other") else "",
        hourly_wage=values["hourly_wage"] if working else None,
        hours_per_week=values["hours_per_week"] if working else None,
        commute=values["commute"] or None,
        started_job=_bool(values["started_job"]) if values["started_job"] else None,
        started_on=values["started_on"] or None if values["started_job"] == "yes" else None,
        comment=values["comment"],
        milestone=values["milestone"] or None,
    )
    due = queries.open_check_in(loan.id, today)
    try:
        key = operations.scoped_key(current_user, values["key"] or None)
        operations.record_check_in(loan.id, data, actor=current_user, key=key)
    except errors.InvalidInput as exc:
        db.session.rollback()
        if due is None:
            abort(404)
        if "milestone" in exc.errors:
            abort(404)
        return _render(loan, due, values, {name: FIELD_MESSAGES.get(name, "") for name in exc.errors}, 422)
    except errors.AlreadyAnswered:
        db.session.rollback()
        flash(_("You already answered this check-in. Thank you!"), "info")
        return redirect(url_for("portal.loan", loan_id=loan.id))
    except errors.OutcomeError:
        db.session.rollback()
        flash(_("There is no check-in to answer right now. Thank you!"), "info")
        return redirect(url_for("portal.loan", loan_id=loan.id))
    db.session.commit()
    flash(_("Thank you! Your answers help keep the car loan program going."), "success")
    return redirect(url_for("portal.loan", loan_id=loan.id))


def check_in_link(loan_id: int, today: dt.date) -> str | None:
    """The page's address when the loan has a check-in open (for the loan page and for messages)."""
    if queries.open_check_in(loan_id, today) is None:
        return None
    return url_for("check_in.answer", loan_id=loan_id)
