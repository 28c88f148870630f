"""Stored positions equal the replay: the worker's page (servicing rows), the month-end positions the
past-date report reads, and the three sources of ``positions.positions_on``."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from loanapp.extensions import db
from loanapp.jobs import runner
from loanapp.loans.models import Loan
from loanapp.servicing import bulk, operations, positions, queries, reports
from loanapp.servicing.models import MonthEndPosition, Payment
from loanapp.servicing.policy import current_policy
from risk import delinquency
from risk.money import ZERO, money
from risk.servicing import LoanState, accrue, apply_payment, payoff_amount
from tests.app.servicing.conftest import make_loan, pay

TODAY = dt.date(2026, 7, 20)


def replayed(loan: Loan, today: dt.date) -> dict[str, Any]:
    """The loan's position today recomputed from nothing: every standing payment in (received date,
    id) order through ``risk.servicing``, days past due from the schedule (no stored state read)."""
    policy = current_policy()
    reversed_ids = set(
        db.session.scalars(
            select(Payment.reverses_id).where(Payment.loan_id == loan.id, Payment.kind == "reversal")
        )
    )
    standing = [
        p
        for p in db.session.scalars(
            select(Payment)
            .where(Payment.loan_id == loan.id, Payment.kind == "payment")
            .order_by(Payment.received_on, Payment.id)
        )
        if p.id not in reversed_ids
    ]
    state = LoanState.opened(loan.principal, loan.annual_rate, loan.contract_date)
    credited = ZERO
    for payment in standing:
        state, split = apply_payment(state, payment.amount, payment.received_on)
        credited += split.to_interest + split.to_principal
    on = max(today, state.as_of)
    schedule = queries.schedule_of(loan)
    if loan.status == "paid_off":
        days, bucket = 0, delinquency.PAID_OFF
    else:
        days = delinquency.days_past_due(
            today, schedule, credited, tolerance=policy.tolerance, balance=state.principal_balance
        )
        bucket = policy.buckets.labels[max(policy.buckets.index_for(days), 0)]
    return {
        "principal_balance": state.principal_balance,
        "accrued_interest": money(accrue(state, on).accrued_interest),
        "fees_due": state.fees_due,
        "payoff": payoff_amount(state, on),
        "days_past_due": days,
        "bucket": bucket,
        "credited": money(credited),
        "total_paid": sum((p.amount for p in standing), ZERO),
        "last_payment_on": max((p.received_on for p in standing), default=None),
    }


def shown(loan: Loan, today: dt.date) -> dict[str, Any]:
    """What the worker's page shows, from the stored servicing state."""
    db.session.expire_all()
    position = queries.loan_position(loan, today)
    return {
        "principal_balance": position.principal_balance,
        "accrued_interest": position.accrued_interest,
        "fees_due": position.fees_due,
        "payoff": position.payoff,
        "days_past_due": position.standing.days_past_due,
        "bucket": position.bucket,
        "credited": position.credited,
        "total_paid": position.total_paid,
        "last_payment_on": position.last_payment_on,
    }


def shuffle_payments(loan: Loan, people: dict[str, Any], rng: random.Random, count: int) -> list[Any]:
    """``count`` payments of about an installment on random dates, recorded in random order (so most
    are backdated), and one of them reversed."""
    officer = people["officer"]
    days = sorted(
        loan.contract_date + dt.timedelta(days=rng.randint(1, (TODAY - loan.contract_date).days))
        for _ in range(count)
    )
    rng.shuffle(days)
    made = []
    for day in days:
        amount = (loan.payment_amount * Decimal(rng.choice(("0.5", "1", "1", "1.5", "2")))).quantize(
            Decimal("0.01")
        )
        made.append(pay(loan, str(amount), day, officer))
    victim = rng.choice(made)
    operations.reverse_payment(
        loan.id,
        victim.id,
        actor=officer,
        key=operations.scoped_key(officer, secrets.token_hex(6)),
        reason="Returned: insufficient funds",
        returned_on=TODAY,
    )
    return made


def test_the_worker_page_from_stored_state_equals_a_replay_from_nothing(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    on_date(TODAY)
    rng = random.Random(16)
    for _ in range(3):
        loan = make_loan(
            people, amount=f"{rng.randint(40, 120)}00.00", rate=rng.choice(("5.00", "7.50", "11.25"))
        )
        assert shown(loan, TODAY) == replayed(loan, TODAY)  # nothing paid yet
        shuffle_payments(loan, people, rng, rng.randint(3, 7))
        assert shown(loan, TODAY) == replayed(loan, TODAY)
        runner.run_job("aging", TODAY, force=True)
        assert shown(loan, TODAY) == replayed(loan, TODAY)
        later = TODAY + dt.timedelta(days=25)
        assert shown(loan, later) == replayed(loan, later)  # a payoff quote's date


def stored_positions(as_of: dt.date) -> dict[int, tuple[int, Decimal, Decimal]]:
    db.session.expire_all()
    return {
        row.loan_id: (row.days_past_due, Decimal(str(row.credited)), Decimal(str(row.principal_balance)))
        for row in db.session.scalars(select(MonthEndPosition).where(MonthEndPosition.as_of == as_of))
    }


def as_dict(found: positions.Positions) -> dict[int, tuple[int, Decimal, Decimal]]:
    return {
        int(loan_id): (int(days), Decimal(int(credited)) / 100, Decimal(int(balance)) / 100)
        for loan_id, days, credited, balance in zip(
            found.loan_ids, found.days_past_due, found.credited_cents, found.balance_cents, strict=True
        )
    }


def test_month_end_positions_stay_equal_to_the_computation_after_backdated_payments_and_reversals(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    on_date(TODAY)
    rng = random.Random(1604)
    loans = [make_loan(people, amount="9000.00"), make_loan(people, amount="6000.00"), make_loan(people)]
    officer = people["officer"]
    for loan in loans[:2]:
        for month in (2, 3, 4):
            pay(loan, str(loan.payment_amount), dt.date(2026, month, 5), officer)
    for first in (dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1)):
        runner.run_job("delinquency_snapshot", first)
    ends = (dt.date(2026, 3, 31), dt.date(2026, 4, 30), dt.date(2026, 5, 31))
    for end in ends:
        assert stored_positions(end) == as_dict(positions.computed(end))
        assert positions.positions_on(end).source == positions.MONTH_END

    # Corrections after the snapshots: backdated payments, a reversal, a backdated payoff.
    shuffle_payments(loans[2], people, rng, 5)
    pay(loans[0], "500.00", dt.date(2026, 3, 20), officer)
    db.session.refresh(loans[1])
    quote = queries.payoff_quote(loans[1], dt.date(2026, 5, 10))
    pay(loans[1], str(quote), dt.date(2026, 5, 10), officer)
    db.session.refresh(loans[1])
    assert loans[1].status == "paid_off"
    for end in ends:
        assert stored_positions(end) == as_dict(positions.computed(end)), end
        found = positions.positions_on(end)
        assert found.source == positions.MONTH_END
        assert as_dict(found) == as_dict(positions.computed(end))
    assert loans[1].id not in stored_positions(dt.date(2026, 5, 31))  # paid off before that month end

    report = reports.delinquency_report(dt.date(2026, 4, 30))
    assert report.source == positions.MONTH_END
    computed = reports._report(positions.computed(dt.date(2026, 4, 30)), current_policy())
    assert report == computed.__class__(**{**computed.__dict__, "source": positions.MONTH_END})


def test_a_month_end_with_a_loan_missing_its_row_is_computed(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    on_date(TODAY)
    loan = make_loan(people)
    runner.run_job("delinquency_snapshot", dt.date(2026, 3, 1))
    assert positions.positions_on(dt.date(2026, 2, 28)).source == positions.MONTH_END
    db.session.execute(db.delete(MonthEndPosition).where(MonthEndPosition.loan_id == loan.id))
    assert positions.positions_on(dt.date(2026, 2, 28)).source == positions.COMPUTED
    assert positions.positions_on(dt.date(2026, 2, 27)).source == positions.COMPUTED


def test_columns_come_back_whole_in_order_and_empty(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    on_date(TODAY)
    loans = [make_loan(people, amount=f"{5000 + k * 100}.00") for k in range(3)]
    ids, principal, booked = bulk.fetch_columns(
        db.session,
        "SELECT CAST(id AS BIGINT), CAST(ROUND(principal * 100) AS BIGINT), contract_date FROM loans "
        "ORDER BY id DESC",
        ["int", "int", "date"],
    )
    assert ids.tolist() == sorted((loan.id for loan in loans), reverse=True)
    assert principal.tolist() == [1_000_000 // 2 + k * 10_000 for k in (2, 1, 0)]
    assert booked.tolist() == [loans[0].contract_date.toordinal()] * 3
    assert all(column.dtype == np.int64 for column in (ids, principal, booked))
    empty = bulk.fetch_columns(
        db.session, "SELECT CAST(id AS BIGINT), contract_date FROM loans WHERE id < 0", ["int", "date"]
    )
    assert [len(column) for column in empty] == [0, 0]


def test_payments_recorded_together_store_what_one_by_one_arrival_stores(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    from loanapp.servicing.errors import IdempotencyConflict
    from tests.app.servicing.test_payments import snapshot

    officer = people["officer"]
    one_by_one, together = make_loan(people), make_loan(people)
    days = [dt.date(2026, 2, 3), dt.date(2026, 3, 9), dt.date(2026, 5, 20), dt.date(2026, 6, 5)]
    amounts = ["205.52", "150.00", "411.04", "205.52"]
    for day, amount in zip(days, amounts, strict=True):
        on_date(day)
        pay(one_by_one, amount, day, officer)
    on_date(TODAY)
    pay(one_by_one, "1.00", TODAY, officer)  # both end on the same business date
    items = [
        (operations.PaymentInput(Decimal(amount), day, "ach", f"CORE-{k}"), operations.import_key(f"T-{k}"))
        for k, (day, amount) in enumerate(zip(days, amounts, strict=True))
    ]
    items.append(
        (operations.PaymentInput(Decimal("1.00"), TODAY, "ach", "CORE-9"), operations.import_key("T-9"))
    )
    made = operations.record_payments(together.id, items, actor=officer, source="import")
    assert [r.created for r in made] == [True] * 5
    assert snapshot(together) == snapshot(one_by_one)
    assert shown(together, TODAY) == replayed(together, TODAY)

    again = operations.record_payments(together.id, items, actor=officer, source="import")
    assert [r.created for r in again] == [False] * 5 and [r.payment.id for r in again] == [
        r.payment.id for r in made
    ]
    changed = [(operations.PaymentInput(Decimal("9.99"), days[0], "ach", "CORE-0"), items[0][1])]
    with pytest.raises(IdempotencyConflict):
        operations.record_payments(together.id, changed, actor=officer, source="import")
