"""Issue #11, point 1: maturity under daily interest. The final installment is billed as the payoff
on the maturity date; a borrower who pays what is billed ends paid off on that date with the reserve
commitment released; a residual within the tolerance is written off (owed) or is a refund due
(overpaid), each a replay-derived, audited adjustment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from loanapp.audit.models import AuditEvent
from loanapp.extensions import db
from loanapp.servicing import aging, operations, queries
from loanapp.servicing.models import Adjustment, BucketHistory, LoanServicing
from loanapp.servicing.policy import current_policy
from reserve import commitment_balance
from reserve.check import verify
from risk.dates import add_months, days_in_month
from tests.app.servicing.conftest import make_loan, pay
from tests.app.servicing.test_payments import snapshot


def _history(loan: Any) -> list[tuple[str, dt.date]]:
    return [
        (h.bucket, h.opened_on)
        for h in db.session.scalars(
            select(BucketHistory).where(BucketHistory.loan_id == loan.id).order_by(BucketHistory.opened_on)
        )
    ]


def _pay_schedule_until_final(loan: Any, officer: Any, on_date: Any) -> list[Any]:
    """Pay every disclosed installment but the last on its due date; return the installments."""
    installments = queries.installments_of(loan)
    for inst in installments[:-1]:
        on_date(inst.due_date)
        position = queries.loan_position(loan, inst.due_date)
        assert position.standing.days_past_due == 0
        assert position.standing.next_due_date == inst.due_date
        pay(loan, f"{inst.payment:.2f}", inst.due_date, officer)
    return installments


contract_dates = st.one_of(
    st.builds(
        lambda year, month, back: dt.date(year, month, days_in_month(year, month) - back),
        st.integers(2026, 2030),
        st.integers(1, 12),
        st.integers(0, 2),
    ),
    st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2030, 12, 31)),
)


@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a shrink replays whole loans: too slow
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.integers(100_000, 3_000_000).map(lambda c: f"{Decimal(c) / 100:.2f}"),
    st.integers(0, 1800).map(lambda bp: f"{Decimal(bp) / 100:.2f}"),
    st.sampled_from([12, 18, 24, 36]),
    contract_dates,
)
@example("30000.00", "18.00", 84, dt.date(2028, 1, 31))  # the longest, at the ceiling, leap February
def test_property_paying_what_is_billed_on_each_due_date_ends_paid_off_at_maturity(
    people: dict[str, Any], funded: None, on_date: Any, amount: str, rate: str, term: int, contract: dt.date
) -> None:
    officer = people["officer"]
    with db.session.begin_nested() as example:
        loan = _book(people, contract, amount, rate, term)
        installments = _pay_schedule_until_final(loan, officer, on_date)
        maturity = loan.maturity_date
        assert (
            installments[-1].due_date == maturity == add_months(loan.first_payment_date, term - 1, _day(loan))
        )
        today = on_date(maturity)
        summary = queries.summary_for_api(loan, today)
        # Billed: the payoff on the maturity date, not the disclosed figure.
        assert summary["next_due_date"] == maturity and summary["days_past_due"] == 0
        assert summary["next_payment_amount"] == queries.payoff_quote(loan, maturity)
        _assert_reminder_bills(loan, maturity, summary["next_payment_amount"])
        pay(loan, f"{summary['next_payment_amount']:.2f}", maturity, officer)
        db.session.refresh(loan)
        row = db.session.get(LoanServicing, loan.id)
        assert loan.status == "paid_off" and row.paid_off_on == maturity
        assert row.total_excess == 0 and row.principal_balance == 0
        assert commitment_balance(db.session, loan.id, maturity) == Decimal("0.00")
        assert verify(db.session) == []
        assert [bucket for bucket, _ in _history(loan)] == ["current", "paid_off"]
        assert _history(loan)[-1] == ("paid_off", maturity)
        example.rollback()


def _assert_reminder_bills(loan: Any, maturity: dt.date, billed: Decimal) -> None:
    """The "payment due" reminder before maturity names the billed payoff, not the disclosed figure."""
    from loanapp.notices import events
    from loanapp.notices.models import Notice

    events.queue_reminders(maturity - dt.timedelta(days=1))
    bodies = db.session.scalars(
        select(Notice.body).where(Notice.loan_id == loan.id, Notice.event == "payment_due")
    ).all()
    assert bodies and all(f"{billed:,.2f}" in body for body in bodies)


def _book(people: dict[str, Any], contract: dt.date, amount: str, rate: str, term: int) -> Any:
    """A loan in the program's range: a car new enough for any amount and term."""
    return make_loan(
        people,
        booked_on=contract,
        amount=amount,
        rate=rate,
        term=term,
        vehicle_year=contract.year - 1,
        vehicle_price=Decimal(amount) + 1000,
        vehicle_mileage=20000,
    )


def _day(loan: Any) -> int:
    from risk.amortization import due_day

    return due_day(loan.contract_date, loan.first_payment_date)


def _adjustments(loan: Any) -> list[tuple[str, dt.date, Decimal]]:
    return [
        (a.kind, a.effective_on, a.amount)
        for a in db.session.scalars(
            select(Adjustment).where(Adjustment.loan_id == loan.id).order_by(Adjustment.id)
        )
    ]


def _actions(loan: Any) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == "loan", AuditEvent.entity_id == str(loan.id))
            .order_by(AuditEvent.id)
        )
    )


def test_a_residual_within_the_tolerance_is_written_off_on_maturity_and_the_loan_pays_off(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    """$8,500 at 7.5% for 12 months from 2026-03-05: the disclosed amounts leave $1.93 owed."""
    officer = people["officer"]
    loan = _book(people, dt.date(2026, 3, 5), "8500.00", "7.50", 12)
    installments = _pay_schedule_until_final(loan, officer, on_date)
    maturity = loan.maturity_date
    early = on_date(maturity - dt.timedelta(days=3))
    final = pay(loan, f"{installments[-1].payment:.2f}", early, officer)  # the disclosed figure, early
    db.session.refresh(loan)
    assert loan.status == "active"  # closed out on the maturity date, not before
    summary = queries.summary_for_api(loan, early)
    # Within the tolerance nothing more is asked for (the shortfall does not count, as for any
    # installment): the maturity date closes it.
    assert summary["next_due_date"] is None and summary["days_past_due"] == 0
    residual = queries.payoff_quote(loan, maturity)
    assert Decimal("0.00") < residual <= Decimal("5.00")

    # The nightly aging of the maturity date closes it, with no payment that day.
    on_date(maturity)
    counts = aging.age_portfolio(maturity)
    assert counts["small_balances_closed"] == 1
    db.session.refresh(loan)
    row = db.session.get(LoanServicing, loan.id)
    assert loan.status == "paid_off" and row.paid_off_on == maturity
    ((kind, effective_on, amount),) = _adjustments(loan)
    assert (kind, effective_on) == ("write_off", maturity)
    assert amount == residual
    assert commitment_balance(db.session, loan.id, maturity) == Decimal("0.00")
    assert verify(db.session) == []
    assert {"loan.small_balance_written_off", "loan.paid_off"} <= set(_actions(loan))
    assert _history(loan)[-1] == ("paid_off", maturity)

    # The final payment comes back: the write-off is withdrawn and the loan owes again.
    returned = on_date(maturity + dt.timedelta(days=2))
    operations.reverse_payment(
        loan.id, final.id, actor=officer, key=operations.scoped_key(officer, "nsf"), reason="NSF"
    )
    db.session.refresh(loan)
    assert loan.status == "active" and _adjustments(loan) == []
    assert "loan.adjustment_withdrawn" in _actions(loan)
    assert commitment_balance(db.session, loan.id, returned) > 0  # the release was reversed


def test_a_final_payment_above_the_payoff_is_a_refund_due_and_the_loan_pays_off_on_maturity(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    """$8,500 at 7.5% for 12 months from 2026-01-05: the disclosed final payment is $1.50 above the payoff."""
    officer = people["officer"]
    loan = _book(people, dt.date(2026, 1, 5), "8500.00", "7.50", 12)
    installments = _pay_schedule_until_final(loan, officer, on_date)
    maturity = on_date(loan.maturity_date)
    assert queries.summary_for_api(loan, maturity)["next_payment_amount"] == installments[
        -1
    ].payment - Decimal("1.50")
    final = pay(loan, f"{installments[-1].payment:.2f}", maturity, officer)
    db.session.refresh(loan)
    assert loan.status == "paid_off" and db.session.get(LoanServicing, loan.id).paid_off_on == maturity
    assert _adjustments(loan) == [("refund_due", maturity, Decimal("1.50"))]
    assert final.allocation.excess == Decimal("1.50")
    assert "loan.refund_due" in _actions(loan)
    assert commitment_balance(db.session, loan.id, maturity) == Decimal("0.00")


def test_a_residual_above_the_tolerance_is_billed_and_counts_against_the_final_installment(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    """$20,000 at 18% for 24 months from 2026-03-05: the disclosed amounts leave $14.71 owed."""
    officer = people["officer"]
    loan = _book(people, dt.date(2026, 3, 5), "20000.00", "18.00", 24)
    installments = _pay_schedule_until_final(loan, officer, on_date)
    maturity = on_date(loan.maturity_date)
    billed = queries.summary_for_api(loan, maturity)["next_payment_amount"]
    assert billed == installments[-1].payment + Decimal("14.71")
    # The worker's schedule shows the final installment as billed, not the disclosed figure.
    position = queries.loan_position(loan, maturity)
    lines = queries.schedule_with_marks(
        loan, maturity, position.credited, current_policy(), final_payment=position.final_billed
    )
    assert lines[-1].payment == billed and lines[-1].status == "unpaid"
    assert [line.payment for line in lines[:-1]] == [inst.payment for inst in installments[:-1]]
    pay(loan, f"{installments[-1].payment:.2f}", maturity, officer)
    db.session.refresh(loan)
    assert loan.status == "active" and _adjustments(loan) == []
    later = on_date(maturity + dt.timedelta(days=1))
    position = queries.loan_position(loan, later)
    assert position.standing.days_past_due == 1
    assert position.catch_up_amount == queries.payoff_quote(loan, later)
    pay(loan, f"{position.catch_up_amount:.2f}", later, officer)
    db.session.refresh(loan)
    assert loan.status == "paid_off" and _adjustments(loan) == []


@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.booleans(),
    st.lists(st.integers(0, 25), min_size=11, max_size=11),
    st.integers(-400, 400),
    st.integers(0, 5),
    st.permutations(range(12)),
)
@example(False, [0] * 11, -193, 0, list(reversed(range(12))))  # $1.93 short: a write-off
@example(False, [0] * 11, 400, 2, [11, *range(11)])  # $4.00 over, 2 days early: a refund due
def test_property_arrival_order_gives_the_date_order_state_with_fees_write_offs_and_refunds(
    people: dict[str, Any],
    funded: None,
    on_date: Any,
    app: Any,
    late_fees: bool,
    late_days: list[int],
    final_delta_cents: int,
    final_early_days: int,
    order: list[int],
) -> None:
    """The backdated-payment replay property with the new transaction types: late fees, the
    small-balance write-off at maturity and refunds due. $8,500 at 7.5% for 12 months from
    2026-03-05 (the disclosed amounts leave $1.93 owed): installments paid 0-25 days late, the final
    one a few dollars off the disclosed figure and up to 5 days early; recorded in date order and in
    a random order, the stored state, allocations, bucket history and adjustments are the same."""
    app.config["LATE_FEES_ENABLED"] = late_fees
    officer = people["officer"]
    with db.session.begin_nested() as example_:
        loan = _book(people, dt.date(2026, 3, 5), "8500.00", "7.50", 12)
        installments = queries.installments_of(loan)
        maturity = loan.maturity_date
        dated = [
            (inst.payment, inst.due_date + dt.timedelta(days=late))
            for inst, late in zip(installments[:-1], late_days, strict=True)
        ]
        final_amount = installments[-1].payment + Decimal(final_delta_cents) / 100
        dated.append((final_amount, maturity - dt.timedelta(days=final_early_days)))
        on_date(maturity + dt.timedelta(days=30))

        def record(order: list[tuple[Decimal, dt.date]]) -> dict[str, Any]:
            for amount, day in order:
                pay(loan, f"{amount:.2f}", day, officer, allow_excess=True)
            db.session.refresh(loan)
            return {**snapshot(loan), "adjustments": _adjustments(loan)}

        with db.session.begin_nested() as in_date_order:
            expected = record(sorted(dated, key=lambda p: p[1]))
            in_date_order.rollback()
        assert record([dated[i] for i in order]) == expected
        kinds = {kind for kind, _, _ in expected["adjustments"]}
        paid_off = expected["status"] == "paid_off"
        total_to_principal, total_excess = expected["state"][6], expected["state"][7]
        assert ("refund_due" in kinds) == (total_excess > 0)
        assert ("write_off" in kinds) == (paid_off and total_to_principal < loan.principal)
        if paid_off:
            assert commitment_balance(db.session, loan.id, maturity + dt.timedelta(days=30)) == 0
        else:  # owed more than the tolerance at maturity: billed, so past due
            assert expected["state"][10] > 0
        assert verify(db.session) == []
        example_.rollback()
    app.config["LATE_FEES_ENABLED"] = False
