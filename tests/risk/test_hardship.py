"""risk.hardship: the schedule after each kind of plan, its projection, refusals, and the bucket
timeline measured against the schedule in force."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk import amortization, delinquency, hardship
from risk.errors import InvalidTerms
from risk.money import ZERO
from risk.servicing import LoanState, accrue, apply_payment

TOL = Decimal("5.00")
BOOKED = dt.date(2026, 1, 5)


def loan_at(
    effective: dt.date, paid: list[tuple[dt.date, str]]
) -> tuple[list[delinquency.Installment], hardship.AtEffective]:
    """$8,500 at 7.50% for 48 months from 2026-01-05 (the servicing tests' loan), paid as listed."""
    rows = amortization.schedule(
        Decimal("8500.00"), Decimal("7.50"), 48, dt.date(2026, 2, 5), contract_date=BOOKED
    )
    schedule = [delinquency.Installment(r.due_date, r.payment) for r in rows if r.due_date is not None]
    state = LoanState.opened(Decimal("8500.00"), Decimal("7.50"), BOOKED)
    credited = ZERO
    for day, amount in paid:
        state, split = apply_payment(state, Decimal(amount), day)
        credited += split.to_interest + split.to_principal
    return schedule, hardship.AtEffective(accrue(state, effective), credited)


def revise(
    schedule: list[delinquency.Installment], at: hardship.AtEffective, **terms: object
) -> hardship.Revision:
    return hardship.revise(
        schedule,
        at,
        hardship.PlanTerms(effective_on=at.state.as_of, **terms),  # type: ignore[arg-type]
        tolerance=TOL,
        level_payment=schedule[0].amount,
        latest_maturity=dt.date(2032, 12, 5),
    )


def test_a_one_month_deferral_moves_the_oldest_open_installment_to_the_end_and_makes_the_loan_current() -> (
    None
):
    day = dt.date(2026, 3, 17)
    schedule, at = loan_at(day, [(dt.date(2026, 2, 5), "205.52")])
    assert delinquency.days_past_due(day, schedule, at.credited, tolerance=TOL) == 12
    plan = revise(schedule, at, kind="deferral", installments=1)
    assert delinquency.days_past_due(day, plan.schedule, at.credited, tolerance=TOL) == 0
    assert plan.schedule[0] == schedule[0] and plan.first_open == 1
    assert [i.due_date for i in plan.schedule[1:3]] == [dt.date(2026, 4, 5), dt.date(2026, 5, 5)]
    assert plan.schedule[-1].due_date == dt.date(2030, 2, 5) and len(plan.schedule) == 48
    assert plan.resumes_on == dt.date(2026, 4, 5)
    last = plan.projection.lines[-1]
    assert last.balance == 0 and last.to_pay == last.payment
    # The projection is exact: what is paid is the principal and interest owed, to the cent.
    assert plan.projection.total_to_pay == sum(
        line.interest + line.principal for line in plan.projection.lines
    )
    assert sum(line.principal for line in plan.projection.lines) == at.state.principal_balance
    before, _ = hardship.current_projection(schedule, at, tolerance=TOL)
    assert plan.projection.interest > before.interest  # interest keeps accruing: a deferral costs more


def test_a_deferral_cannot_move_more_installments_than_are_left() -> None:
    schedule, at = loan_at(dt.date(2026, 3, 17), [])
    with pytest.raises(InvalidTerms) as refused:
        revise(schedule[:2], at, kind="deferral", installments=3)
    assert refused.value.field == "installments"


def test_a_due_date_change_never_brings_a_payment_forward_and_charges_the_added_days() -> None:
    day = dt.date(2026, 3, 1)
    schedule, at = loan_at(day, [(dt.date(2026, 2, 5), "205.52")])
    plan = revise(schedule, at, kind="due_day", due_day=20)
    assert plan.schedule[1].due_date == dt.date(2026, 3, 20) and plan.schedule[2].due_date == dt.date(
        2026, 4, 20
    )
    extra = plan.schedule[1].amount - schedule[1].amount
    # 15 added days of interest on the principal then: 8,348.62 * 7.5% / 365 * 15 = 25.73
    assert extra == Decimal("25.73")
    earlier = revise(schedule, at, kind="due_day", due_day=1)  # day 1 < day 5: the next month's 1st
    assert earlier.schedule[1].due_date == dt.date(2026, 4, 1)
    for bad in (0, 29, 31):
        with pytest.raises(InvalidTerms) as refused:
            revise(schedule, at, kind="due_day", due_day=bad)
        assert refused.value.field == "due_day"
    with pytest.raises(InvalidTerms):
        revise(schedule, at, kind="due_day", due_day=5)


def test_re_amortisation_spreads_what_is_owed_over_the_new_term_with_bookings_level_payment() -> None:
    day = dt.date(2026, 5, 10)
    schedule, at = loan_at(day, [(dt.date(2026, 2, 5), "205.52")])  # March and April missed
    plan = revise(schedule, at, kind="reamortize", term_months=60)
    assert delinquency.days_past_due(day, plan.schedule, at.credited, tolerance=TOL) == 0
    new = plan.schedule[plan.first_open :]
    assert (
        len(new) == 60 and new[0].due_date == dt.date(2026, 6, 5) and new[-1].due_date == dt.date(2031, 5, 5)
    )
    assert plan.payment < schedule[0].amount and all(i.amount == plan.payment for i in new[:-1])
    assert plan.projection.lines[-1].balance == 0
    with pytest.raises(InvalidTerms) as refused:
        revise(schedule, at, kind="reamortize", term_months=84)
    assert refused.value.field == "term_months"


def test_a_re_age_moves_every_past_due_installment_to_the_end() -> None:
    day = dt.date(2026, 5, 10)
    schedule, at = loan_at(day, [(dt.date(2026, 2, 5), "205.52")])
    plan = revise(schedule, at, kind="reage")
    assert delinquency.days_past_due(day, plan.schedule, at.credited, tolerance=TOL) == 0
    # March, April and May were due and unpaid on May 10: they follow the last one (January 2030).
    assert [i.due_date for i in plan.schedule[-3:]] == [dt.date(2030, m, 5) for m in (2, 3, 4)]
    assert len(plan.schedule) == 48
    current, at_now = loan_at(dt.date(2026, 2, 10), [(dt.date(2026, 2, 5), "205.52")])
    with pytest.raises(InvalidTerms):
        revise(current, at_now, kind="reage")


def test_the_on_time_run_counts_whole_months_back_from_the_date() -> None:
    pays = [(dt.date(2026, m, 5), Decimal("205.52")) for m in (2, 3, 5)]
    assert hardship.on_time_run(pays, dt.date(2026, 5, 10), Decimal("205.52"), TOL) == 1
    pays.append((dt.date(2026, 4, 5), Decimal("201.00")))  # short by less than the tolerance
    assert hardship.on_time_run(pays, dt.date(2026, 5, 10), Decimal("205.52"), TOL) == 4


def test_the_timeline_measures_each_stretch_against_the_schedule_in_force() -> None:
    day = dt.date(2026, 3, 17)
    schedule, at = loan_at(day, [(dt.date(2026, 2, 5), "205.52")])
    plan = revise(schedule, at, kind="deferral", installments=1)
    credits = [delinquency.Credit(dt.date(2026, 2, 5), at.credited, at.state.principal_balance)]
    segments = hardship.timeline(
        [(BOOKED, schedule), (day, plan.schedule)],
        Decimal("8500.00"),
        credits,
        BOOKED,
        dt.date(2026, 4, 10),
        tolerance=TOL,
        scheme=delinquency.PROGRAM_BUCKETS,
    )
    assert segments == [
        delinquency.Segment("current", BOOKED, dt.date(2026, 3, 6)),
        delinquency.Segment("1-29", dt.date(2026, 3, 6), day),
        delinquency.Segment("current", day, dt.date(2026, 4, 6)),
        delinquency.Segment("1-29", dt.date(2026, 4, 6), None),
    ]


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 9),  # months paid
    st.integers(0, 40),  # days into the month of the effective date
    st.sampled_from(["deferral", "due_day", "reamortize", "reage"]),
    st.integers(1, 3),
    st.integers(1, 28),
    st.integers(12, 72),
)
def test_property_every_plan_projects_to_a_zero_balance_to_the_cent(
    months: int, days: int, kind: str, installments: int, due_day: int, term: int
) -> None:
    paid = [(dt.date(2026, 2, 5) + dt.timedelta(days=31 * k), "205.52") for k in range(months)]
    day = dt.date(2026, 2, 5) + dt.timedelta(days=31 * max(months, 1) + days)
    schedule, at = loan_at(day, paid)
    try:
        plan = revise(schedule, at, kind=kind, installments=installments, due_day=due_day, term_months=term)
    except InvalidTerms:
        return
    lines = plan.projection.lines
    assert lines[-1].balance == 0
    assert sum(line.principal for line in lines) == at.state.principal_balance
    assert all(i.amount > 0 for i in plan.schedule)
    assert all(b.due_date > a.due_date for a, b in zip(plan.schedule, plan.schedule[1:], strict=False))
    assert plan.schedule[: plan.first_open] == tuple(schedule[: plan.first_open])
