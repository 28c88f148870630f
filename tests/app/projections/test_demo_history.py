"""The demo program history (``seed-demo``): a small one, booked and serviced through the real
operations, with month-end bucket history, a charge-off whose claim is paid, and a reserve that
reconciles; a second run adds nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

import reserve
from loanapp.applications.models import Application
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.projections.demo import KEY_PREFIX, seed_program_history
from loanapp.reserve_admin.commands import live_loan_ids
from loanapp.servicing.models import BucketHistory, ChargeOff, LoanServicing, Payment
from reserve.schema import TransactionRow

TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def seeded(ctx: None, on_date: Any) -> list[str]:
    """The demo officer and staff, and a 12-loan history over 8 months before TODAY."""
    from loanapp.accounts.operations import create_user
    from loanapp.commands import DEMO_USERS

    on_date(TODAY)
    for email, name, role, password in DEMO_USERS:
        create_user(email, password, role, name)
    lines: list[str] = []
    assert seed_program_history(loans=12, months=8, echo=lines.append) == 12
    return lines


def _history_loans() -> list[Loan]:
    return list(
        db.session.scalars(
            select(Loan)
            .join(Application, Application.id == Loan.application_id)
            .where(Application.submission_key.like(f"{KEY_PREFIX}%"))
            .order_by(Loan.id)
        )
    )


def _month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


def test_the_history_books_loans_with_payments_over_the_months(seeded: list[str]) -> None:
    loans = _history_loans()
    assert len(loans) == 12
    assert min(loan.contract_date for loan in loans) < TODAY - dt.timedelta(days=200)
    paying = db.session.scalar(
        select(func.count(func.distinct(Payment.loan_id))).where(Payment.loan_id.in_([x.id for x in loans]))
    )
    assert paying >= 10  # the newest may have nothing due yet
    assert all(loan.reserve_transaction_id for loan in loans)


def test_month_end_aging_writes_delinquency_and_a_charge_off_into_the_bucket_history(
    seeded: list[str],
) -> None:
    ids = [loan.id for loan in _history_loans()]
    rows = db.session.execute(
        select(BucketHistory.bucket, BucketHistory.opened_on).where(BucketHistory.loan_id.in_(ids))
    ).all()
    behind = [opened for bucket, opened in rows if bucket in ("30-59", "60-89", "90-119")]
    assert behind and any(_month_end(day) for day in behind)
    assert "charged_off" in {bucket for bucket, _ in rows}
    buckets_today = set(
        db.session.scalars(select(LoanServicing.bucket).where(LoanServicing.loan_id.in_(ids)))
    )
    assert {"30-59", "60-89", "90-119", "120+"} <= buckets_today  # one waits in the charge-off queue


def test_the_charge_off_claim_is_approved_by_someone_else_and_the_reserve_reconciles(
    seeded: list[str],
) -> None:
    ids = [loan.id for loan in _history_loans()]
    entries = db.session.scalars(select(ChargeOff).where(ChargeOff.loan_id.in_(ids))).all()
    assert entries
    for entry in entries:
        claim = reserve.get_claim(db.session, entry.claim_id)
        assert claim.status is reserve.ClaimStatus.PAID
        assert claim.filed_by == entry.charged_off_by
        approver = db.session.scalar(
            select(TransactionRow.actor_id).where(
                TransactionRow.claim_id == claim.id, TransactionRow.kind == "claim_payment"
            )
        )
        assert approver is not None and approver != claim.filed_by
    assert reserve.verify(db.session, live_loan_ids()) == []
    assert reserve.reserve_position(db.session, TODAY).available > 0


def test_a_second_run_adds_nothing(seeded: list[str]) -> None:
    def counts() -> tuple[int, ...]:
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Loan, Payment, BucketHistory, TransactionRow)
        )

    before = counts()
    assert seed_program_history(loans=12, months=8) == 0
    assert counts() == before
