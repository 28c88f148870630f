"""Days past due, buckets and bucket timelines (risk.delinquency): examples, then properties."""

from __future__ import annotations

import datetime as dt
import doctest
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk import delinquency
from risk.dates import add_months
from risk.delinquency import (
    CALL_REPORT_BUCKETS,
    PROGRAM_BUCKETS,
    BucketScheme,
    Credit,
    Installment,
    bucket_timeline,
    days_past_due,
    days_past_due_many,
    standing,
    unpaid_installments,
)
from risk.errors import InvalidTerms

FIVE = Decimal("5.00")
FIRST_DUE = dt.date(2027, 2, 1)


def level_schedule(n: int = 12, amount: str = "215.40", final: str | None = None) -> list[Installment]:
    rows = [Installment(add_months(FIRST_DUE, k), Decimal(amount)) for k in range(n)]
    if final is not None:
        rows[-1] = Installment(rows[-1].due_date, Decimal(final))
    return rows


def test_docstring_examples_run() -> None:
    result = doctest.testmod(delinquency, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_nothing_due_yet_is_zero_days_past_due() -> None:
    assert days_past_due(dt.date(2027, 1, 20), level_schedule(), Decimal(0), tolerance=FIVE) == 0


def test_a_loan_is_not_late_on_the_due_date_itself() -> None:
    assert days_past_due(FIRST_DUE, level_schedule(), Decimal(0), tolerance=FIVE) == 0
    assert days_past_due(FIRST_DUE + dt.timedelta(days=1), level_schedule(), Decimal(0), tolerance=FIVE) == 1


def test_days_past_due_count_from_the_oldest_installment_not_fully_paid() -> None:
    schedule = level_schedule()
    # One payment made, two due: the second (March 1) is the oldest unpaid.
    assert days_past_due(dt.date(2027, 4, 10), schedule, Decimal("215.40"), tolerance=FIVE) == 40
    # Nothing paid: counted from February 1.
    assert days_past_due(dt.date(2027, 4, 10), schedule, Decimal(0), tolerance=FIVE) == 68


def test_a_shortfall_within_the_tolerance_does_not_count() -> None:
    schedule = level_schedule()
    assert days_past_due(dt.date(2027, 2, 20), schedule, Decimal("210.40"), tolerance=FIVE) == 0
    assert days_past_due(dt.date(2027, 2, 20), schedule, Decimal("210.39"), tolerance=FIVE) == 19
    assert days_past_due(dt.date(2027, 2, 20), schedule, Decimal("215.39"), tolerance=Decimal("0")) == 19


def test_the_tolerance_is_on_the_cumulative_shortfall_not_per_installment() -> None:
    # $3 short each month: the first month is forgiven, by the third the shortfall is $9.
    schedule = level_schedule()
    paid = Decimal("212.40") * 3
    assert days_past_due(dt.date(2027, 4, 20), schedule, paid, tolerance=FIVE) == 19  # April 1 unpaid


def test_prepaying_moves_the_next_due_date() -> None:
    result = standing(dt.date(2027, 2, 10), level_schedule(), Decimal("430.80"), tolerance=FIVE)
    assert result.days_past_due == 0
    assert (result.next_due_date, result.next_amount) == (dt.date(2027, 4, 1), Decimal("215.40"))


def test_a_late_borrower_is_told_what_catches_them_up_and_what_comes_next() -> None:
    result = standing(dt.date(2027, 3, 13), level_schedule(), Decimal("215.40"), tolerance=FIVE)
    assert result.days_past_due == 12
    assert result.past_due_amount == Decimal("215.40")
    assert (result.next_due_date, result.next_amount) == (dt.date(2027, 4, 1), Decimal("215.40"))


def test_a_partial_payment_leaves_the_rest_of_the_installment_to_pay() -> None:
    result = standing(dt.date(2027, 1, 20), level_schedule(), Decimal("100.00"), tolerance=FIVE)
    assert result.days_past_due == 0 and result.next_amount == Decimal("115.40")


def test_past_maturity_a_balance_left_is_past_due_from_the_maturity_date() -> None:
    schedule = level_schedule(3)
    everything = Decimal("646.20")
    after = dt.date(2027, 4, 11)  # maturity April 1
    assert days_past_due(after, schedule, everything, tolerance=FIVE, balance=Decimal("30.00")) == 10
    assert days_past_due(after, schedule, everything, tolerance=FIVE, balance=Decimal("4.00")) == 0
    assert days_past_due(after, schedule, everything, tolerance=FIVE, balance=Decimal("0.00")) == 0


def test_a_paid_off_loan_is_never_past_due() -> None:
    assert (
        days_past_due(dt.date(2027, 9, 1), level_schedule(), Decimal(0), tolerance=FIVE, balance=Decimal(0))
        == 0
    )


def test_default_buckets_and_call_report_buckets() -> None:
    cases = {
        0: "current",
        1: "1-29",
        29: "1-29",
        30: "30-59",
        59: "30-59",
        60: "60-89",
        90: "90-119",
        119: "90-119",
        120: "120+",
        999: "120+",
    }
    assert {d: PROGRAM_BUCKETS.label_for(d) for d in cases} == cases
    calls = {
        29: None,
        30: "30-59",
        89: "60-89",
        90: "90-179",
        179: "90-179",
        180: "180-359",
        359: "180-359",
        360: "360+",
    }
    assert {d: CALL_REPORT_BUCKETS.label_for(d) for d in calls} == calls


def test_buckets_are_configurable() -> None:
    scheme = BucketScheme.from_pairs([["ok", 0], ["late", 15], ["very late", 45]])
    assert [scheme.label_for(d) for d in (14, 15, 44, 45)] == ["ok", "late", "late", "very late"]
    assert scheme.indexes_for(np.array([0, 15, 100])).tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    "pairs",
    [
        [],
        [["a", 0], ["b", 0]],
        [["a", 10], ["b", 5]],
        [["a", 0], ["a", 5]],
        [["paid_off", 0]],
        [["a", -1]],
        [["a"]],
    ],
)
def test_bad_bucket_configuration_is_refused(pairs: list[list[object]]) -> None:
    with pytest.raises(InvalidTerms):
        BucketScheme.from_pairs(pairs)


def test_a_schedule_out_of_order_is_refused() -> None:
    schedule = level_schedule()
    with pytest.raises(InvalidTerms):
        days_past_due(dt.date(2027, 5, 1), list(reversed(schedule)), Decimal(0), tolerance=FIVE)
    with pytest.raises(InvalidTerms):
        days_past_due(dt.date(2027, 5, 1), schedule, Decimal(0), tolerance=Decimal("-1"))


def test_vectorised_days_past_due_for_many_loans() -> None:
    as_of = dt.date(2027, 4, 10)
    schedules = [level_schedule(), level_schedule(), level_schedule(3, final="220.00")]
    credited = [Decimal("215.40"), Decimal("861.60"), Decimal("650.40")]
    balances = [Decimal("2000"), Decimal("1500"), Decimal("12.00")]
    loan_of, due, amount, final = [], [], [], []
    for index, schedule in enumerate(schedules):
        for k, row in enumerate(schedule):
            if row.due_date <= as_of:
                loan_of.append(index)
                due.append(row.due_date.toordinal())
                amount.append(int(row.amount * 100))
                final.append(k == len(schedule) - 1)
    result = days_past_due_many(
        as_of.toordinal(),
        np.array(loan_of),
        np.array(due),
        np.array(amount),
        np.array(final),
        np.array([int(c * 100) for c in credited]),
        np.array([int(b * 100) for b in balances]),
        500,
    )
    expected = [
        days_past_due(as_of, s, c, tolerance=FIVE, balance=b)
        for s, c, b in zip(schedules, credited, balances, strict=True)
    ]
    assert result.tolist() == expected == [40, 0, 9]


def test_unsorted_installments_are_refused() -> None:
    with pytest.raises(InvalidTerms):
        unpaid_installments(
            np.array([1, 0]),
            np.array([1, 1]),
            np.array([False, False]),
            np.array([0, 0]),
            np.array([1, 1]),
            0,
        )


def test_timeline_shows_the_loan_rolling_through_buckets_and_curing() -> None:
    schedule = level_schedule()
    credits = [Credit(dt.date(2027, 3, 20), Decimal("430.80"), Decimal("2200.00"))]
    segments = bucket_timeline(
        schedule,
        Decimal("2400.00"),
        credits,
        dt.date(2027, 1, 1),
        dt.date(2027, 4, 5),
        tolerance=FIVE,
        scheme=PROGRAM_BUCKETS,
    )
    assert [(s.bucket, s.opened_on, s.closed_on) for s in segments] == [
        ("current", dt.date(2027, 1, 1), dt.date(2027, 2, 2)),
        ("1-29", dt.date(2027, 2, 2), dt.date(2027, 3, 3)),
        ("30-59", dt.date(2027, 3, 3), dt.date(2027, 3, 20)),
        ("current", dt.date(2027, 3, 20), dt.date(2027, 4, 2)),
        ("1-29", dt.date(2027, 4, 2), None),
    ]


def test_timeline_ends_in_the_terminal_state() -> None:
    segments = bucket_timeline(
        level_schedule(),
        Decimal("2400.00"),
        [],
        dt.date(2027, 1, 1),
        dt.date(2027, 6, 1),
        tolerance=FIVE,
        scheme=PROGRAM_BUCKETS,
        ended=(dt.date(2027, 5, 20), "charged_off"),
    )
    assert segments[-1] == delinquency.Segment("charged_off", dt.date(2027, 5, 20), None)


@st.composite
def portfolios(draw: st.DrawFn) -> tuple[list[list[Installment]], list[Decimal], list[Decimal], dt.date]:
    n_loans = draw(st.integers(1, 6))
    schedules, credited, balances = [], [], []
    for _ in range(n_loans):
        n = draw(st.integers(1, 14))
        first = dt.date(2027, 1, 1) + dt.timedelta(days=draw(st.integers(0, 60)))
        amounts = draw(st.lists(st.integers(100, 50000), min_size=n, max_size=n))
        schedules.append([Installment(add_months(first, k), Decimal(a) / 100) for k, a in enumerate(amounts)])
        credited.append(Decimal(draw(st.integers(0, sum(amounts) + 1000))) / 100)
        balances.append(Decimal(draw(st.integers(0, 300000))) / 100)
    as_of = dt.date(2027, 1, 1) + dt.timedelta(days=draw(st.integers(0, 600)))
    return schedules, credited, balances, as_of


@settings(max_examples=150, deadline=None)
@given(portfolios(), st.integers(0, 1000))
def test_vectorised_equals_scalar(case: tuple, tolerance_cents: int) -> None:  # type: ignore[type-arg]
    schedules, credited, balances, as_of = case
    tolerance = Decimal(tolerance_cents) / 100
    loan_of, due, amount, final = [], [], [], []
    for index, schedule in enumerate(schedules):
        for k, row in enumerate(schedule):
            if row.due_date <= as_of:  # the nightly loader leaves out installments not yet due
                loan_of.append(index)
                due.append(row.due_date.toordinal())
                amount.append(int(row.amount * 100))
                final.append(k == len(schedule) - 1)
    vector = days_past_due_many(
        as_of.toordinal(),
        np.array(loan_of, dtype=np.int64),
        np.array(due, dtype=np.int64),
        np.array(amount, dtype=np.int64),
        np.array(final, dtype=bool),
        np.array([int(c * 100) for c in credited], dtype=np.int64),
        np.array([int(b * 100) for b in balances], dtype=np.int64),
        tolerance_cents,
    )
    scalar = [
        days_past_due(as_of, s, c, tolerance=tolerance, balance=b)
        for s, c, b in zip(schedules, credited, balances, strict=True)
    ]
    assert vector.tolist() == scalar


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 420), st.integers(1, 60000)), max_size=8),
    st.integers(0, 800),
)
def test_timeline_agrees_with_days_past_due_on_every_day(
    payments: list[tuple[int, int]], tolerance_cents: int
) -> None:
    schedule = level_schedule(12)
    principal = Decimal("2400.00")
    start, end = dt.date(2027, 1, 1), dt.date(2028, 3, 1)
    credits, total = [], Decimal(0)
    for offset, cents in sorted(payments):
        day = start + dt.timedelta(days=offset)
        total += Decimal(cents) / 100
        balance = max(principal - total * Decimal("0.8"), Decimal(0)).quantize(Decimal("0.01"))
        if credits and credits[-1].on == day:
            credits[-1] = Credit(day, total, balance)
        else:
            credits.append(Credit(day, total, balance))
    tolerance = Decimal(tolerance_cents) / 100
    segments = bucket_timeline(
        schedule, principal, credits, start, end, tolerance=tolerance, scheme=PROGRAM_BUCKETS
    )
    assert segments[0].opened_on == start and segments[-1].closed_on is None
    assert all(
        a.bucket != b.bucket and a.closed_on == b.opened_on
        for a, b in zip(segments, segments[1:], strict=False)
    )
    day = start
    while day <= end:
        known = [c for c in credits if c.on <= day]
        credited = known[-1].credited if known else Decimal(0)
        balance = known[-1].balance if known else principal
        expected = PROGRAM_BUCKETS.label_for(
            days_past_due(day, schedule, credited, tolerance=tolerance, balance=balance)
        )
        segment = next(
            s for s in segments if s.opened_on <= day and (s.closed_on is None or day < s.closed_on)
        )
        assert segment.bucket == expected, day
        day += dt.timedelta(days=9)
