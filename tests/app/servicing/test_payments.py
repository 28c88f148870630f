"""Payments: allocation, idempotency, refusals, backdating, reversals, payoff and the reserve."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from loanapp.audit.models import AuditEvent
from loanapp.extensions import db
from loanapp.servicing import operations, queries
from loanapp.servicing.errors import (
    AlreadyReversed,
    BadKey,
    IdempotencyConflict,
    InvalidInput,
    LoanClosed,
    PaymentNotFound,
)
from loanapp.servicing.models import BucketHistory, LoanServicing, Payment, PaymentAllocation
from reserve import commitment_balance
from reserve.schema import TransactionRow
from risk.servicing import LoanState, apply_payment
from tests.app.servicing.conftest import BOOKED, pay

FEB, MAR, APR, MAY = (dt.date(2026, m, 5) for m in (2, 3, 4, 5))


def snapshot(loan: Any) -> dict[str, Any]:
    """Everything derived about a loan: state, allocations per date, bucket history, status."""
    db.session.expire_all()
    row = db.session.get(LoanServicing, loan.id)
    per_day = db.session.execute(
        select(
            PaymentAllocation.received_on,
            func.sum(PaymentAllocation.to_interest),
            func.sum(PaymentAllocation.to_principal),
            func.sum(PaymentAllocation.to_fees),
            func.sum(PaymentAllocation.excess),
        )
        .where(PaymentAllocation.loan_id == loan.id)
        .group_by(PaymentAllocation.received_on)
        .order_by(PaymentAllocation.received_on)
    ).all()
    history = db.session.execute(
        select(BucketHistory.bucket, BucketHistory.opened_on, BucketHistory.closed_on)
        .where(BucketHistory.loan_id == loan.id)
        .order_by(BucketHistory.opened_on)
    ).all()
    assert row is not None
    return {
        "status": loan.status,
        "state": (
            row.principal_balance,
            Decimal(row.accrued_interest).quantize(Decimal("1E-10")),
            row.interest_as_of,
            row.fees_due,
            row.total_paid,
            row.total_to_interest,
            row.total_to_principal,
            row.total_excess,
            row.last_payment_on,
            row.paid_off_on,
            row.days_past_due,
            row.bucket,
        ),
        "per_day": [
            tuple(Decimal(str(v)).quantize(Decimal("0.01")) if i else v for i, v in enumerate(r))
            for r in per_day
        ],
        "history": [tuple(r) for r in history],
    }


def test_a_payment_goes_to_accrued_interest_then_principal(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 2, 10))
    payment = pay(loan, "205.52", FEB, people["officer"])
    expected_state, split = apply_payment(
        LoanState.opened(loan.principal, loan.annual_rate, BOOKED), Decimal("205.52"), FEB
    )
    assert payment.allocation.to_interest == split.to_interest == Decimal("54.14")  # 31 days at 7.5% / 365
    assert payment.allocation.to_principal == split.to_principal
    row = db.session.get(LoanServicing, loan.id)
    assert row.principal_balance == expected_state.principal_balance
    assert (row.days_past_due, row.bucket, row.aged_on) == (0, "current", dt.date(2026, 2, 10))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.recorded"))
    assert event is not None and event.details["amount"] == "205.52"


def test_the_same_key_posts_once_and_a_changed_request_with_it_is_refused(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 2, 10))
    officer = people["officer"]
    data = operations.PaymentInput(Decimal("205.52"), FEB, "ach", "r-1")
    key = operations.scoped_key(officer, "client-key-1")
    first = operations.record_payment(loan.id, data, actor=officer, key=key, source="api")
    again = operations.record_payment(loan.id, data, actor=officer, key=key, source="api")
    assert first.created and not again.created and again.payment.id == first.payment.id
    with pytest.raises(IdempotencyConflict):
        operations.record_payment(
            loan.id,
            operations.PaymentInput(Decimal("300.00"), FEB, "ach", "r-1"),
            actor=officer,
            key=key,
            source="api",
        )
    # Keys are scoped per user: another officer's identical key is another request.
    assert operations.scoped_key(people["admin"], "client-key-1") != key
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    with pytest.raises(BadKey):
        operations.scoped_key(officer, "  ")


@pytest.mark.parametrize(
    ("amount", "received_on", "method", "field"),
    [
        (Decimal("0.00"), FEB, "ach", "amount"),
        (Decimal("-10.00"), FEB, "ach", "amount"),
        (Decimal("10.005"), FEB, "ach", "amount"),
        (Decimal("250000.00"), FEB, "ach", "amount"),
        (Decimal("10.00"), dt.date(2099, 1, 1), "ach", "received_on"),
        (Decimal("10.00"), dt.date(2026, 2, 11), "ach", "received_on"),  # tomorrow
        (Decimal("10.00"), dt.date(2025, 12, 31), "ach", "received_on"),  # before the contract
        (Decimal("10.00"), FEB, "bitcoin", "method"),
    ],
)
def test_bad_payments_are_refused_and_change_nothing(
    loan: Any,
    people: dict[str, Any],
    on_date: Any,
    amount: Decimal,
    received_on: dt.date,
    method: str,
    field: str,
) -> None:
    on_date(dt.date(2026, 2, 10))
    with pytest.raises(InvalidInput) as refused:
        operations.record_payment(
            loan.id,
            operations.PaymentInput(amount, received_on, method),
            actor=people["officer"],
            key=operations.scoped_key(people["officer"], secrets.token_hex(4)),
            source="api",
        )
    assert field in refused.value.errors
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert db.session.get(LoanServicing, loan.id) is None


def test_a_backdated_payment_reallocates_every_later_payment(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 5, 10))
    officer = people["officer"]
    pay(loan, "205.52", MAR, officer)
    pay(loan, "205.52", APR, officer)
    later = snapshot(loan)
    assert later["state"][10:] == (35, "30-59")  # February's installment never paid: 35 days late on May 10
    pay(loan, "205.52", FEB, officer)  # the February check, found in a drawer
    backdated = snapshot(loan)
    assert backdated["state"][10:] == (5, "1-29")  # May 5 is the oldest unpaid installment now
    march = db.session.scalar(select(PaymentAllocation).where(PaymentAllocation.received_on == MAR))
    # March's payment now follows February's: 28 days of interest on a lower balance, not 59 on the full one.
    assert march.to_interest < Decimal("60.00")
    # The history is rewritten from February: never late until May's installment was missed.
    assert backdated["history"] == [
        ("current", BOOKED, dt.date(2026, 5, 6)),
        ("1-29", dt.date(2026, 5, 6), None),
    ]
    # Before it, each payment paid the oldest installment: a month behind, then past 30 days in May.
    assert [h[0] for h in later["history"]][-3:] == ["current", "1-29", "30-59"]


def test_in_order_and_out_of_order_arrival_give_the_same_state(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 6, 1))
    officer = people["officer"]
    payments = [("205.52", FEB), ("150.00", MAR), ("300.00", APR), ("100.00", dt.date(2026, 4, 20))]
    with db.session.begin_nested() as in_order:
        for amount, day in payments:
            pay(loan, amount, day, officer)
        expected = snapshot(loan)
        in_order.rollback()
    for amount, day in reversed(payments):
        pay(loan, amount, day, officer)
    assert snapshot(loan) == expected


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.tuples(st.integers(27, 330), st.integers(1, 45000)), min_size=1, max_size=7).flatmap(
        lambda items: st.tuples(st.just(items), st.permutations(range(len(items))))
    )
)
def test_property_any_arrival_order_stores_the_state_of_date_order_arrival(
    loan: Any, people: dict[str, Any], on_date: Any, case: tuple[list[tuple[int, int]], list[int]]
) -> None:
    payments, order = case
    on_date(BOOKED + dt.timedelta(days=340))
    officer = people["officer"]
    dated = [(Decimal(cents) / 100, BOOKED + dt.timedelta(days=offset)) for offset, cents in payments]
    with db.session.begin_nested() as in_date_order:
        for amount, day in sorted(dated, key=lambda p: p[1]):
            pay(loan, f"{amount:.2f}", day, officer)
        expected = snapshot(loan)
        in_date_order.rollback()
    with db.session.begin_nested() as arrival:
        for index in order:
            amount, day = dated[index]
            pay(loan, f"{amount:.2f}", day, officer)
        assert snapshot(loan) == expected
        arrival.rollback()


def test_a_reversal_rederives_the_loan_as_if_the_payment_never_came(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 4, 20))
    officer = people["officer"]
    with db.session.begin_nested() as without:
        pay(loan, "205.52", MAR, officer)
        pay(loan, "205.52", APR, officer)
        expected = snapshot(loan)
        without.rollback()
    bounced = pay(loan, "205.52", FEB, officer)
    pay(loan, "205.52", MAR, officer)
    pay(loan, "205.52", APR, officer)
    assert snapshot(loan)["state"][10] == 0
    result = operations.reverse_payment(
        loan.id,
        bounced.id,
        actor=officer,
        key=operations.scoped_key(officer, "rev-1"),
        reason="NSF",
        returned_on=dt.date(2026, 2, 12),
    )
    assert result.payment.kind == "reversal" and result.payment.reverses_id == bounced.id
    assert snapshot(loan)["state"] == expected["state"]
    assert db.session.get(Payment, bounced.id) is not None  # never deleted
    assert bounced.allocation is None or db.session.get(PaymentAllocation, bounced.id) is None
    with pytest.raises(AlreadyReversed):
        operations.reverse_payment(
            loan.id, bounced.id, actor=officer, key=operations.scoped_key(officer, "rev-2"), reason="again"
        )
    with pytest.raises(PaymentNotFound):
        operations.reverse_payment(
            loan.id, result.payment.id, actor=officer, key=operations.scoped_key(officer, "rev-3"), reason="x"
        )
    with pytest.raises(InvalidInput):
        operations.reverse_payment(
            loan.id, bounced.id + 1, actor=officer, key=operations.scoped_key(officer, "rev-4"), reason=" "
        )


def test_paying_off_releases_the_reserve_commitment_and_a_returned_final_payment_reopens_the_loan(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 3, 1))
    officer = people["officer"]
    assert commitment_balance(db.session, loan.id, dt.date(2026, 3, 1)) == Decimal("1275.00")
    pay(loan, "205.52", FEB, officer)
    payoff = queries.payoff_quote(loan, dt.date(2026, 3, 1))
    final = pay(loan, f"{payoff + Decimal('10.00'):.2f}", dt.date(2026, 3, 1), officer, allow_excess=True)
    db.session.refresh(loan)
    assert loan.status == "paid_off"
    assert final.allocation.excess == Decimal("10.00")  # refund due, not applied
    assert commitment_balance(db.session, loan.id, dt.date(2026, 3, 1)) == Decimal("0.00")
    row = db.session.get(LoanServicing, loan.id)
    assert (row.principal_balance, row.bucket, row.paid_off_on) == (
        Decimal("0.00"),
        "paid_off",
        dt.date(2026, 3, 1),
    )
    with pytest.raises(LoanClosed):
        pay(loan, "10.00", dt.date(2026, 3, 1), officer)

    operations.reverse_payment(
        loan.id,
        final.id,
        actor=officer,
        key=operations.scoped_key(officer, "bounce"),
        reason="returned: account closed",
    )
    db.session.refresh(loan)
    assert loan.status == "active"
    assert commitment_balance(db.session, loan.id, dt.date(2026, 3, 1)) == Decimal(
        "1275.00"
    )  # the release was reversed
    kinds = db.session.scalars(
        select(TransactionRow.kind).where(TransactionRow.loan_id == loan.id).order_by(TransactionRow.id)
    ).all()
    assert kinds == ["commitment", "release", "reversal"]
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"loan.paid_off", "loan.payoff_reversed", "payment.reversed"} <= actions

    # Paid off again: a second release, with its own key.
    pay(loan, f"{queries.payoff_quote(loan, dt.date(2026, 3, 1)):.2f}", dt.date(2026, 3, 1), officer)
    db.session.refresh(loan)
    assert loan.status == "paid_off" and commitment_balance(
        db.session, loan.id, dt.date(2026, 3, 1)
    ) == Decimal("0.00")


def test_late_fees_when_the_program_enables_them(
    loan: Any, people: dict[str, Any], on_date: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LATE_FEES_ENABLED", True)
    on_date(dt.date(2026, 3, 20))
    officer = people["officer"]
    payment = pay(loan, "205.52", dt.date(2026, 3, 20), officer)  # February's installment, 43 days late
    # February's checkpoint (Feb 15) and March's (Mar 15) were both missed: two $15 fees, paid first.
    assert payment.allocation.to_fees == Decimal("30.00")
    row = db.session.get(LoanServicing, loan.id)
    assert row.fees_due == Decimal("0.00") and row.total_to_fees == Decimal("30.00")


def test_without_late_fees_nothing_goes_to_fees(loan: Any, people: dict[str, Any], on_date: Any) -> None:
    on_date(dt.date(2026, 3, 20))
    payment = pay(loan, "205.52", dt.date(2026, 3, 20), people["officer"])
    assert payment.allocation.to_fees == Decimal("0.00")


def test_a_small_shortfall_does_not_make_the_loan_late(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 2, 20))
    pay(loan, "201.00", FEB, people["officer"])  # $4.52 short of $205.52
    assert db.session.get(LoanServicing, loan.id).days_past_due == 0
    pay(loan, "0.50", dt.date(2026, 2, 20), people["officer"])
    on_date(dt.date(2026, 3, 20))
    operations.replay(loan, dt.date(2026, 3, 20), actor=people["officer"])
    # March: cumulative shortfall now 205.52*2 - 201.50 = 209.54 > $5: March's installment is late.
    assert db.session.get(LoanServicing, loan.id).days_past_due == 15


def test_one_late_payment_draws_one_late_fee_and_later_full_installments_are_on_time(
    loan: Any, people: dict[str, Any], on_date: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #11, point 2: fees first used to leave each later installment $15 short, drawing a new
    fee every month ($90 for one late payment and five on-time ones, and the loan past due)."""
    monkeypatch.setitem(app.config, "LATE_FEES_ENABLED", True)
    officer = people["officer"]
    on_date(dt.date(2026, 2, 20))
    pay(loan, "205.52", dt.date(2026, 2, 20), officer)  # 15 days late: one fee on Feb 15
    for month in (3, 4, 5, 6, 7):
        on_date(dt.date(2026, month, 5))
        pay(loan, "205.52", dt.date(2026, month, 5), officer)
    on_date(dt.date(2026, 7, 20))
    operations.replay(loan, dt.date(2026, 7, 20), actor=officer)
    row = db.session.get(LoanServicing, loan.id)
    assert row.total_to_fees == Decimal("15.00") and row.fees_due == Decimal("0.00")
    assert (row.days_past_due, row.bucket) == (0, "current")
    position = queries.loan_position(loan, dt.date(2026, 7, 20))
    assert position.standing.days_past_due == 0 and position.catch_up_amount == Decimal("0.00")
    # The fee was paid out of March's payment, so principal lags the schedule by about the fee.
    installments = queries.installments_of(loan)
    assert Decimal("10.00") < row.principal_balance - installments[5].balance < Decimal("20.00")
