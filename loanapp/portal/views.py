"""The worker's loan pages (mobile first, English and Spanish): balance, next payment, how late in
plain words, payment history, the schedule with paid marks, and the payoff today or on a chosen date.

Only the borrower sees a loan: anyone else's loan id is "not found" (404), never "forbidden".
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from loanapp.access import roles
from loanapp.clock import business_date
from loanapp.collections.plans import plans_of
from loanapp.formatting import money as show_money
from loanapp.outcomes.worker import check_in_link
from loanapp.servicing import queries
from loanapp.servicing.policy import current_policy
from risk.amortization import Installment
from risk.disclosure import group_payments

bp = Blueprint("portal", __name__, url_prefix="/my")


@bp.route("/loans")
@roles("worker")
def my_loans():  # type: ignore[no-untyped-def]
    today = business_date()
    policy = current_policy()
    loans = [
        (loan, queries.loan_position(loan, today, policy=policy))
        for loan in queries.loans_of(current_user.id)
    ]
    return render_template("portal/my_loans.html", loans=loans, today=today)


@lru_cache(maxsize=4096)
def _day(day: dt.date, locale: str) -> str:
    """A date in words in the page's language ("March 5, 2026", "5 de marzo de 2026"), cached: the
    schedule repeats the same dates on every visit."""
    return format_date(day, "long", locale=locale)


@bp.route("/loans/<int:loan_id>")
@roles("worker")
def loan(loan_id: int):  # type: ignore[no-untyped-def]
    # Served from the stored servicing state (kept current by each payment's transaction and the
    # nightly aging): the loan and its state in one query, the schedule and the payments in one each;
    # texts are translated once and filled in per line (tests/app/servicing/test_positions.py holds
    # the figures equal to a replay of every payment).
    found = queries.borrower_loan(loan_id, current_user.id)
    if found is None:
        abort(404)
    loan, row = found
    today = business_date()
    policy = current_policy()
    locale = str(get_locale())
    installments = queries.installments_of(loan)
    position = queries.loan_position(
        loan, today, policy=policy, row=row, schedule=queries.schedule_from(installments)
    )
    status = 200
    quote: dict[str, Any] | None = None
    quote_error = None
    raw = request.args.get("payoff_date", "").strip()
    latest = today + dt.timedelta(days=policy.payoff_quote_days)
    if raw:
        try:
            chosen = dt.date.fromisoformat(raw)
        except ValueError:
            chosen = None
        if chosen is None or not today <= chosen <= latest:
            quote_error = _("Choose a date from today to %(date)s.", date=_day(latest, locale))
            status = 422
        elif loan.status == "active":
            quote = {"date": chosen, "amount": queries.payoff_quote(loan, chosen, row)}
    marks = {
        "paid": ("badge badge-ok", "✓ " + _("Paid")),
        "partly_paid": ("badge badge-warn", _("Partly paid")),
        "late": ("badge badge-bad", _("Not paid")),
        "upcoming": ("", _("Upcoming")),
    }
    lines = queries.schedule_with_marks(
        loan,
        today,
        position.credited,
        policy,
        paid_off=loan.status == "paid_off",
        installments=installments,
        final_payment=position.final_billed,
    )
    schedule = [
        (
            line.number,
            _day(line.due_date, locale),
            show_money(line.payment),
            *marks[line.status if line.status != "unpaid" else ("late" if line.due else "upcoming")],
        )
        for line in lines
    ]
    split = _("Interest %(interest)s · loan %(principal)s")  # the translation, filled in per payment
    history = [
        (
            _day(line.received_on, locale),
            show_money(line.amount),
            line.returned,
            None
            if line.returned or line.to_interest is None
            else split
            % {"interest": show_money(line.to_interest), "principal": show_money(line.to_principal)},
        )
        for line in queries.payment_lines(loan.id)
    ]
    return render_template(
        "portal/loan.html",
        loan=loan,
        position=position,
        schedule=schedule,
        paid_count=sum(1 for line in lines if line.status == "paid"),
        groups=group_payments(
            [
                Installment(r.number, r.due_date, r.payment, r.interest, r.principal, r.balance)
                for r in installments
            ]
        ),
        history=history,
        adjustments=[
            (_day(a.effective_on, locale), show_money(a.amount), a.kind) for a in queries.adjustments_of(loan)
        ],
        today=today,
        latest=latest,
        quote=quote,
        quote_error=quote_error,
        payoff_date=raw,
        check_in_url=check_in_link(loan.id, today),
        hardship_plans=plans_of(loan),
    ), status
