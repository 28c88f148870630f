"""Demo servicing for ``flask seed-demo``: payment histories in several delinquency states, a charged-off
loan with its reserve claim, a paid-off loan, the nightly aging and month-end snapshots.

Everything goes through the real operations, each on its own business date (payments are recorded on
the day they arrive, so the bucket history is what the nightly aging would have written). Idempotent:
payments are keyed by a demo reference, the charge-off happens once, the jobs run once per date.
Demo data only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from loanapp.accounts.models import User
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.loans.models import Loan, LoanInstallment
from loanapp.servicing import operations, queries
from loanapp.servicing.errors import ServicingError
from risk.dates import add_months

OFFICER_EMAIL = "officer@demo.coopfed.org"


@dataclass(frozen=True)
class Story:
    """How a demo borrower pays: ``behind`` installments left unpaid at the end (0: on time),
    ``late_days`` after each due date, a payoff after ``paid_off_after`` payments, or a charge-off
    after ``charged_off_after`` payments."""

    behind: int = 0
    late_days: int = -2
    paid_off_after: int | None = None
    charged_off_after: int | None = None


# The applications demo books these loans (about 160, 145, 115, 90 and 45 days ago); servicing gives
# them their histories: a charge-off with its claim, a loan two months behind, a payoff, a loan a
# month behind and one paid on time.
STORIES = {
    "demo-02": Story(charged_off_after=0),
    "demo-03": Story(behind=3, late_days=6),
    "demo-05": Story(paid_off_after=2),
    "demo-07": Story(behind=1, late_days=3),
    "demo-10": Story(),
}


@contextmanager
def on(day: dt.date) -> Iterator[None]:
    config = current_app.config
    had, previous = "BUSINESS_DATE" in config, config.get("BUSINESS_DATE")
    config["BUSINESS_DATE"] = day
    try:
        yield
    finally:
        if had:
            config["BUSINESS_DATE"] = previous
        else:
            config.pop("BUSINESS_DATE", None)


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _loan_of(key: str) -> Loan | None:
    from loanapp.applications.operations import find_by_submission_key
    from loanapp.loans.operations import loan_of_application

    application = find_by_submission_key(key)
    return None if application is None else loan_of_application(application.id)


def _schedule(loan: Loan) -> list[tuple[int, dt.date, Decimal]]:
    return [
        (number, due, Decimal(str(payment)))
        for number, due, payment in db.session.execute(
            select(LoanInstallment.number, LoanInstallment.due_date, LoanInstallment.payment)
            .where(LoanInstallment.loan_id == loan.id)
            .order_by(LoanInstallment.number)
        )
    ]


def _pay(loan: Loan, key: str, number: int, amount: Decimal, day: dt.date, officer: User) -> None:
    reference = f"DEMO-{key}-{number}"
    with on(day):
        operations.record_payment(
            loan.id,
            operations.PaymentInput(amount, day, "ach" if number % 3 else "check", reference),
            actor=officer,
            key=operations.import_key(reference),
            source="import",
        )


def tell(loan: Loan, key: str, story: Story, officer: User, today: dt.date) -> None:
    """Record the story's payments up to today (those already recorded are skipped by their key)."""
    schedule = _schedule(loan)
    due = [row for row in schedule if row[1] <= today]
    stop = len(due) - story.behind
    for count in (story.paid_off_after, story.charged_off_after):
        if count is not None:
            stop = min(stop, count)
    for number, due_date, amount in due[: max(stop, 0)]:
        day = max(due_date + dt.timedelta(days=story.late_days), loan.contract_date + dt.timedelta(days=1))
        if day <= today and loan.status == "active":
            _pay(loan, key, number, amount, day, officer)
            db.session.refresh(loan)
    if story.paid_off_after is not None and loan.status == "active" and len(schedule) > story.paid_off_after:
        day = schedule[story.paid_off_after][1] - dt.timedelta(days=10)
        if day <= today:
            payoff = queries.payoff_quote(loan, day)
            _pay(loan, key, 0, payoff, day, officer)
    if story.charged_off_after is not None and loan.status == "active":
        last_paid = story.charged_off_after
        if last_paid < len(schedule):
            day = schedule[last_paid][1] + dt.timedelta(days=125)
            if day <= today:
                with on(day):
                    operations.charge_off(
                        loan.id,
                        operations.ChargeOffInput(
                            "repossessed_sold",
                            Decimal("2400.00"),
                            Decimal("350.00"),
                            "Demo: car repossessed and sold at auction",
                        ),
                        actor=officer,
                    )


def seed_servicing_demo(echo: Callable[[str], Any] = print) -> None:
    """Add the servicing demo (safe to rerun); the caller commits."""
    officer = _user(OFFICER_EMAIL)
    if officer is None:
        return
    today = business_date()
    told = 0
    for key, story in STORIES.items():
        loan = _loan_of(key)
        if loan is None:
            continue
        try:
            tell(loan, key, story, officer, today)
        except ServicingError as exc:  # a demo rerun on a later day may find a story already over
            echo(f"  servicing demo {key}: {exc.message}")
        told += 1
    db.session.commit()
    from loanapp.jobs.runner import run_job

    firsts = [add_months(today.replace(day=1), -k) for k in range(11, -1, -1)]
    for first in firsts:
        run_job("delinquency_snapshot", first, trigger="manual")
    aged = run_job("aging", today, trigger="manual")
    echo(f"demo loans with payment histories: {told}; aging {today}: {aged.outcome}")
