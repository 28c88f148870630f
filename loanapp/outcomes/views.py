"""Staff pages of the outcome feature: the call list of due and overdue check-ins, a loan's check-ins
(officers record calls, employer confirmations and pay stubs there, and corrections), and the outcome
report with charts, CSV and a print layout. Officer and staff pages are in English."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from loanapp import charts
from loanapp.access import roles
from loanapp.applications.forms import DayField
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.outcomes import errors, operations, queries
from loanapp.outcomes import report as rpt
from loanapp.outcomes.presenting import csv_rows
from loanapp.outcomes.schedule import OutcomePolicy
from loanapp.outcomes.vocabulary import (
    COMMUTES,
    SOURCE_NAMES,
    STATE_NAMES,
    milestone_name,
)
from loanapp.programs.models import Employer
from loanapp.reports.charts import horizontal_bars

bp = Blueprint("outcomes", __name__)

FIELDS = (
    "key", "milestone", "corrects_id", "source", "checked_on", "employed", "employer_id", "employer_other",
    "hourly_wage", "hours_per_week", "started_job", "started_on", "commute", "car_running", "comment",
)  # fmt: skip


def _policy() -> OutcomePolicy:
    return OutcomePolicy.from_config(current_app.config)


def _helpers() -> dict[str, Any]:
    return {
        "state_names": STATE_NAMES,
        "source_names": SOURCE_NAMES,
        "commutes": COMMUTES,
        "milestone_name": milestone_name,
    }


@bp.route("/outcomes/check-ins")
@roles("officer", "staff", "admin")
def due_list():  # type: ignore[no-untyped-def]
    today = business_date()
    showing = request.args.get("show", "open")
    states = ("missed",) if showing == "missed" else ("overdue", "due")
    return render_template(
        "outcomes/due_list.html",
        lines=queries.due_list(today, states),
        counts=queries.state_counts(),
        showing="missed" if showing == "missed" else "open",
        today=today,
        **_helpers(),
    )


def _loan_or_404(loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    if loan is None:
        abort(404)
    return loan


def _render_loan(
    loan: Loan, values: dict[str, Any], field_errors: dict[str, list[str]], status: int = 200
) -> Any:
    items = queries.loan_check_ins(loan.id)
    today = business_date()
    answerable = [
        i.due for i in items if i.due.state in ("due", "overdue", "missed") and i.due.due_on <= today
    ]
    return render_template(
        "outcomes/loan.html",
        loan=loan,
        application=loan.application,
        items=items,
        answerable=answerable,
        values=values,
        errors=field_errors,
        employers=list(db.session.scalars(select(Employer).order_by(Employer.name))),
        asks_start=operations.asks_start(loan.application),
        officer_sources=SOURCE_NAMES,
        today=today,
        **_helpers(),
    ), status


def _values_from(check_in: Any) -> dict[str, Any]:
    def yn(value: bool | None) -> str:
        return "" if value is None else ("yes" if value else "no")

    return {
        "corrects_id": str(check_in.id),
        "milestone": check_in.due.milestone,
        "source": check_in.source,
        "checked_on": check_in.checked_on.isoformat(),
        "employed": yn(check_in.employed),
        "employer_id": str(check_in.employer_id)
        if check_in.employer_id
        else ("other" if check_in.employer_other else ""),
        "employer_other": check_in.employer_other,
        "hourly_wage": "" if check_in.hourly_wage is None else f"{check_in.hourly_wage:.2f}",
        "hours_per_week": ""
        if check_in.hours_per_week is None
        else f"{check_in.hours_per_week.normalize():f}",
        "started_job": yn(check_in.started_job),
        "started_on": check_in.started_on.isoformat() if check_in.started_on else "",
        "commute": check_in.commute or "",
        "car_running": yn(check_in.car_running),
        "comment": check_in.comment,
    }


@bp.route("/outcomes/loans/<int:loan_id>")
@roles("officer", "staff", "admin")
def loan_check_ins(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _loan_or_404(loan_id)
    values: dict[str, Any] = {"key": secrets.token_urlsafe(16), "checked_on": business_date().isoformat()}
    correct = request.args.get("correct", "")
    if correct.isdigit():
        from loanapp.outcomes.models import CheckIn

        original = db.session.get(CheckIn, int(correct))
        if original is None or original.loan_id != loan.id:
            abort(404)
        values.update(_values_from(original))
    return _render_loan(loan, values, {})


def _bool(raw: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(raw or "")


@bp.route("/outcomes/loans/<int:loan_id>/check-ins", methods=["POST"])
@roles("officer")
def record(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _loan_or_404(loan_id)
    values = {name: request.form.get(name, "").strip() for name in FIELDS}
    working = values["employed"] == "yes"
    choice = values["employer_id"]
    data = operations.CheckInInput(
        employed=_bool(values["employed"]),
        car_running=_bool(values["car_running"]),
        source=values["source"] or None,
        employer_id=choice if working and choice not in ("", "other") else None,
        employer_other=values["employer_other"] if working and choice in ("", "other") else "",
        hourly_wage=values["hourly_wage"] if working else None,
        hours_per_week=values["hours_per_week"] if working else None,
        commute=values["commute"] or None,
        started_job=_bool(values["started_job"]),
        started_on=(values["started_on"] or None) if values["started_job"] == "yes" else None,
        comment=values["comment"],
        checked_on=values["checked_on"] or None,
        milestone=values["milestone"] or None,
        corrects_id=int(values["corrects_id"]) if values["corrects_id"].isdigit() else None,
    )
    try:
        key = operations.scoped_key(current_user, values["key"] or None)
        result = operations.record_check_in(loan.id, data, actor=current_user, key=key)
    except errors.InvalidInput as exc:
        db.session.rollback()
        return _render_loan(loan, values, exc.errors, 422)
    except errors.OutcomeError as exc:
        db.session.rollback()
        return _render_loan(loan, values, {"_form": [exc.message]}, exc.status)
    db.session.commit()
    what = "Correction" if data.corrects_id else "Check-in"
    flash(f"{what} recorded for {milestone_name(result.check_in.due.milestone).lower()}.", "success")
    return redirect(url_for("outcomes.loan_check_ins", loan_id=loan.id))


# --- the report --------------------------------------------------------------------------------------


class PeriodForm(FlaskForm):  # type: ignore[misc]
    """The report's booking period (GET; no CSRF on a read)."""

    class Meta:
        csrf = False

    booked_from = DayField("Booked from")
    booked_to = DayField("Booked to")


def _period() -> tuple[Any, Any, Any]:
    form = PeriodForm(request.args)
    form.validate()
    return form, form.booked_from.data, form.booked_to.data


def _report(booked_from: Any, booked_to: Any) -> rpt.OutcomeReport:
    policy = _policy()
    return queries.build_report(
        db.session, business_date(), policy.months, policy.min_group, booked_from, booked_to
    )


def _employment_chart(report: rpt.OutcomeReport) -> Any:
    shown = [m for m in report.total.milestones if not m.suppressed] if not report.total.suppressed else []
    if not shown:
        return None
    return charts.render(
        charts.Chart(
            title="Still employed at each check-in (% of those reached)",
            x_labels=[f"{m.months} months" for m in shown],
            series=[charts.Series("Still employed", [m.share_employed or 0 for m in shown], "series-1")],
            bars=True,
            y_format=lambda v: f"{v:,.0f}%",
        )
    )


@bp.route("/reports/outcomes")
@roles("staff", "officer", "admin")
def report_page():  # type: ignore[no-untyped-def]
    form, booked_from, booked_to = _period()
    report = _report(booked_from, booked_to)
    cohort_bars = [
        (g.name, g.milestones[0].share_employed)
        for g in report.groups["cohort"]
        if not g.suppressed and g.milestones and g.milestones[0].share_employed is not None
    ]
    return render_template(
        "outcomes/report.html",
        form=form,
        report=report,
        dimensions=rpt.DIMENSIONS,
        performance_names=rpt.PERFORMANCE_NAMES,
        employment_chart=_employment_chart(report),
        cohort_chart=horizontal_bars(
            f"Still employed at {report.months[0]} months by booking quarter (%)", cohort_bars
        )
        if cohort_bars
        else None,
        today=business_date(),
        csv_args={k: v for k, v in request.args.items() if k in ("booked_from", "booked_to") and v},
    )


@bp.route("/reports/outcomes.csv")
@roles("staff", "officer", "admin")
def report_csv():  # type: ignore[no-untyped-def]
    _form, booked_from, booked_to = _period()
    out = io.StringIO()
    csv.writer(out).writerows(csv_rows(_report(booked_from, booked_to)))
    name = f"outcome-report-{business_date().isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
