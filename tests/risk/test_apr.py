"""APR by Regulation Z Appendix J, checked against the examples the appendix publishes.

The published figures are those of 12 CFR 1026 Appendix J, paragraph (c) "Examples for the
actuarial method" (the same examples appear in 12 CFR 226 Appendix J); each test names its
example and the APR the regulation prints, rounded to two decimals. The ``(t, f)`` values are
worked out by hand from the rule text of paragraph (b)(5) in each test's comment.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.amortization import schedule
from risk.apr import (
    annual_percentage_rate,
    annual_percentage_rates,
    time_factors,
    within_tolerance,
)
from risk.dates import add_months
from risk.errors import APRError, InvalidTerms

Payments = list[tuple[dt.date, Decimal]]


def monthly(first: dt.date, count: int, amount: str, step: int = 1) -> Payments:
    return [(add_months(first, step * k), Decimal(amount)) for k in range(count)]


def every(first: dt.date, count: int, amount: str, days: int) -> Payments:
    return [(first + dt.timedelta(days=days * k), Decimal(amount)) for k in range(count)]


def two_places(apr: Decimal) -> Decimal:
    return apr.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def brute_force_apr(
    amount: Decimal, periods: list[tuple[int, Fraction, Decimal]], per_year: Fraction
) -> Decimal:
    """The general equation solved by plain bisection in 40-digit Decimal, from hand-given (t, f)."""
    with localcontext() as ctx:
        ctx.prec = 40
        low, high = Decimal(0), Decimal(1)
        for _ in range(120):
            mid = (low + high) / 2
            present = sum(
                p / ((1 + Decimal(f.numerator) / Decimal(f.denominator) * mid) * (1 + mid) ** t)
                for t, f, p in periods
            )
            low, high = (mid, high) if present > amount else (low, mid)
        return low * 100 * Decimal(per_year.numerator) / Decimal(per_year.denominator)


def test_example_c1i_monthly_payments_regular_first_period() -> None:
    """(c)(1)(i): $5,000 advanced 1-10-78; 24 monthly payments of $230 from 2-10-78. Published APR 9.69%."""
    payments = monthly(dt.date(1978, 2, 10), 24, "230")
    apr = annual_percentage_rate(Decimal("5000"), dt.date(1978, 1, 10), payments)
    assert two_places(apr) == Decimal("9.69")
    # t = 1, 2, ... and f = 0: the first period is exactly one month.
    assert time_factors(dt.date(1978, 1, 10), [d for d, _ in payments]).periods[:2] == ((1, 0), (2, 0))


def test_example_c1ii_monthly_payments_long_first_period() -> None:
    """(c)(1)(ii): $6,000 advanced 2-10-78; 36 monthly payments of $200 from 4-1-78. Published APR 11.82%."""
    payments = monthly(dt.date(1978, 4, 1), 36, "200")
    apr = annual_percentage_rate(Decimal("6000"), dt.date(1978, 2, 10), payments)
    assert two_places(apr) == Decimal("11.82")
    # Back from 4-1 one full month to 3-1; 3-1 back to 2-10 is 19 days: t = 1, f = 19/30.
    factors = time_factors(dt.date(1978, 2, 10), [d for d, _ in payments])
    assert factors.unit_period == "month"
    assert factors.periods[0] == (1, Fraction(19, 30))
    expected = brute_force_apr(
        Decimal(6000), [(1 + k, Fraction(19, 30), Decimal(200)) for k in range(36)], Fraction(12)
    )
    assert abs(apr - expected) < Decimal("1E-8")


def test_example_c1iii_semimonthly_payments_short_first_period() -> None:
    """(c)(1)(iii): $5,000 advanced 2-23-78; 24 semimonthly payments of $219.17 on the 1st and 16th
    from 3-1-78. Published APR 10.34%."""
    dates = [add_months(dt.date(1978, 3, 1), k // 2).replace(day=1 if k % 2 == 0 else 16) for k in range(24)]
    payments = [(d, Decimal("219.17")) for d in dates]
    apr = annual_percentage_rate(Decimal("5000"), dt.date(1978, 2, 23), payments)
    assert two_places(apr) == Decimal("10.34")
    # 2-23 to 3-1 is 6 days: t = 0, f = 6/15 (b)(5)(iii).
    factors = time_factors(dt.date(1978, 2, 23), dates)
    assert factors.unit_period == "semimonth"
    assert factors.periods[0] == (0, Fraction(6, 15))


def test_example_c1iv_quarterly_payments_long_first_period() -> None:
    """(c)(1)(iv): $10,000 advanced 5-23-78; 40 quarterly payments of $385 from 10-1-78. Published APR 8.97%."""
    payments = monthly(dt.date(1978, 10, 1), 40, "385", step=3)
    apr = annual_percentage_rate(Decimal("10000"), dt.date(1978, 5, 23), payments)
    assert two_places(apr) == Decimal("8.97")
    # 4 full months back to 6-1, then 9 days: 129 days of 30-day months, 1 quarter and 39/90.
    factors = time_factors(dt.date(1978, 5, 23), [d for d, _ in payments])
    assert factors.unit_period == "quarter"
    assert factors.periods[0] == (1, Fraction(39, 90))


def test_example_c1v_weekly_payments_long_first_period() -> None:
    """(c)(1)(v): $500 advanced 3-20-78; 30 weekly payments of $17.60 from 4-21-78. Published APR 14.96%."""
    payments = every(dt.date(1978, 4, 21), 30, "17.60", 7)
    apr = annual_percentage_rate(Decimal("500"), dt.date(1978, 3, 20), payments)
    assert two_places(apr) == Decimal("14.96")
    # 32 days: t = 4 weeks, f = 4/7.
    assert time_factors(dt.date(1978, 3, 20), [d for d, _ in payments]).periods[0] == (4, Fraction(4, 7))


def test_example_c2i_monthly_payments_irregular_first_payment() -> None:
    """(c)(2)(i): $5,000 advanced 1-10-78; first payment $250 on 2-10-78, then 23 of $230. Published APR 10.08%."""
    payments = [(dt.date(1978, 2, 10), Decimal("250"))] + monthly(dt.date(1978, 3, 10), 23, "230")
    assert two_places(annual_percentage_rate(Decimal("5000"), dt.date(1978, 1, 10), payments)) == Decimal(
        "10.08"
    )


def test_example_c2ii_four_weekly_payments_long_first_period_irregular_first_payment() -> None:
    """(c)(2)(ii): $400 advanced 3-18-78; $39.50 on 4-20-78, then 11 payments of $38.31 every 4 weeks.
    Published APR 28.50%."""
    payments = [(dt.date(1978, 4, 20), Decimal("39.50"))] + every(dt.date(1978, 5, 18), 11, "38.31", 28)
    apr = annual_percentage_rate(Decimal("400"), dt.date(1978, 3, 18), payments)
    assert two_places(apr) == Decimal("28.50")
    # 33 days: one 4-week unit-period and 5/28.
    factors = time_factors(dt.date(1978, 3, 18), [d for d, _ in payments])
    assert (factors.unit_period, factors.periods[0]) == ("4week", (1, Fraction(5, 28)))


def test_example_c3i_monthly_payments_irregular_final_payment() -> None:
    """(c)(3)(i): $5,000 advanced 1-10-78; 23 payments of $230 from 2-10-78, final payment $280.
    Published APR 10.50%."""
    payments = monthly(dt.date(1978, 2, 10), 23, "230") + [(dt.date(1980, 1, 10), Decimal("280"))]
    assert two_places(annual_percentage_rate(Decimal("5000"), dt.date(1978, 1, 10), payments)) == Decimal(
        "10.50"
    )


def test_example_c3ii_biweekly_payments_short_first_period_irregular_final_payment() -> None:
    """(c)(3)(ii): $200 advanced 4-3-78; 19 payments of $9.50 every 2 weeks from 4-11-78, final $30.
    Published APR 12.22%."""
    payments = every(dt.date(1978, 4, 11), 19, "9.50", 14) + [
        (dt.date(1978, 4, 11) + dt.timedelta(days=14 * 19), Decimal("30"))
    ]
    apr = annual_percentage_rate(Decimal("200"), dt.date(1978, 4, 3), payments)
    assert two_places(apr) == Decimal("12.22")
    # 8 days: t = 0, f = 8/14.
    factors = time_factors(dt.date(1978, 4, 3), [d for d, _ in payments])
    assert (factors.unit_period, factors.periods[0]) == ("2week", (0, Fraction(8, 14)))


def test_example_c4i_monthly_irregular_first_and_final_payments() -> None:
    """(c)(4)(i): $5,000 advanced 1-10-78; $250 on 2-10-78, 22 payments of $230, final $280 on 1-10-80.
    Published APR 10.90%."""
    payments = (
        [(dt.date(1978, 2, 10), Decimal("250"))]
        + monthly(dt.date(1978, 3, 10), 22, "230")
        + [(dt.date(1980, 1, 10), Decimal("280"))]
    )
    assert two_places(annual_percentage_rate(Decimal("5000"), dt.date(1978, 1, 10), payments)) == Decimal(
        "10.90"
    )


def test_example_c4ii_two_monthly_irregular_first_and_final_payments() -> None:
    """(c)(4)(ii): $8,000 advanced 1-10-78; $449.36 on 3-1-78, 18 payments of $465 every 2 months from
    5-1-78, final $200 on 5-1-81. Published APR 7.30%."""
    payments = (
        [(dt.date(1978, 3, 1), Decimal("449.36"))]
        + monthly(dt.date(1978, 5, 1), 18, "465", step=2)
        + [(dt.date(1981, 5, 1), Decimal("200"))]
    )
    apr = annual_percentage_rate(Decimal("8000"), dt.date(1978, 1, 10), payments)
    assert two_places(apr) == Decimal("7.30")
    # 1 full month back to 2-1, then 22 days: 52 days of 30-day months, t = 0, f = 52/60.
    factors = time_factors(dt.date(1978, 1, 10), [d for d, _ in payments])
    assert (factors.unit_period, factors.periods[0]) == ("2month", (0, Fraction(52, 60)))


def test_example_c5i_single_advance_single_payment_term_in_days() -> None:
    """(c)(5)(i): $1,000 advanced 1-3-78, one payment of $1,080 on 9-15-78. The term, 255 days, is the
    unit-period; 365/255 of them in a year. Published APR 11.45%."""
    apr = annual_percentage_rate(
        Decimal("1000"), dt.date(1978, 1, 3), [(dt.date(1978, 9, 15), Decimal("1080"))]
    )
    assert two_places(apr) == Decimal("11.45")
    # 8% for the term, times 365/255.
    assert abs(apr - Decimal(8) * 365 / 255) < Decimal("1E-8")
    factors = time_factors(dt.date(1978, 1, 3), [dt.date(1978, 9, 15)])
    assert (factors.unit_period, factors.periods_per_year, factors.periods) == (
        "term",
        Fraction(365, 255),
        ((1, 0),),
    )


def test_single_payment_of_whole_months_counts_months_per_year() -> None:
    # (b)(5)(vi): 6 months, so 2 unit-periods a year; 5% for the term is 10% a year.
    apr = annual_percentage_rate(
        Decimal("1000"), dt.date(2027, 1, 15), [(dt.date(2027, 7, 15), Decimal("1050"))]
    )
    assert apr == Decimal("10.00000000")


def test_single_payment_over_a_year_uses_a_year_unit_period() -> None:
    # (b)(5)(v): 18 months = 1 year and 6 months, f = 6/12.
    factors = time_factors(dt.date(2027, 1, 15), [dt.date(2028, 7, 15)])
    assert (factors.unit_period, factors.periods) == ("year", ((1, Fraction(6, 12)),))


def test_regular_monthly_loan_matches_numpy_financial_rate() -> None:
    for amount, payment, count in [("5000", "230", 24), ("18800", "467.84", 48), ("12000", "250.10", 60)]:
        payments = monthly(dt.date(2027, 2, 15), count, payment)
        apr = annual_percentage_rate(Decimal(amount), dt.date(2027, 1, 15), payments)
        expected = 1200 * npf.rate(count, float(payment), -float(amount), 0.0, tol=1e-14, maxiter=200)
        assert abs(float(apr) - expected) < 1e-7


def test_month_end_series_is_measured_last_day_to_last_day() -> None:
    # (b)(3)(iv): payments on the last day of each month; an advance on Jan 31 and a first payment
    # on Feb 28 is a regular one-month first period.
    dates = [add_months(dt.date(2027, 1, 31), k) for k in range(1, 13)]
    factors = time_factors(dt.date(2027, 1, 31), dates)
    assert factors.periods[:3] == ((1, 0), (2, 0), (3, 0))


def test_series_on_the_30th_uses_the_last_day_of_february() -> None:
    dates = [add_months(dt.date(2027, 1, 30), k) for k in range(1, 13)]  # Feb 28, Mar 30, ...
    assert time_factors(dt.date(2027, 1, 30), dates).periods[:2] == ((1, 0), (2, 0))


def test_unit_period_is_the_most_common_interval() -> None:
    biweekly = [dt.date(2027, 1, 20) + dt.timedelta(days=14 * k) for k in range(26)]
    assert time_factors(dt.date(2027, 1, 1), biweekly).unit_period == "2week"
    weekly = [dt.date(2027, 1, 8) + dt.timedelta(days=7 * k) for k in range(10)]
    assert time_factors(dt.date(2027, 1, 1), weekly).unit_period == "week"


def test_without_a_common_period_the_nearest_standard_interval_is_used() -> None:
    # Two payments, 40 and 41 days apart: no period occurs twice; the average (40.5 days) is nearest a month.
    dates = [dt.date(2027, 2, 10), dt.date(2027, 3, 23)]
    assert time_factors(dt.date(2027, 1, 1), dates).unit_period == "month"


def test_forced_unit_period_is_used() -> None:
    payments = monthly(dt.date(2027, 2, 15), 12, "100")
    factors = time_factors(dt.date(2027, 1, 15), [d for d, _ in payments], unit_period="semimonth")
    assert factors.unit_period == "semimonth"
    assert factors.periods[0] == (2, 0)


def test_payments_equal_to_amount_financed_give_zero_apr() -> None:
    apr = annual_percentage_rate(
        Decimal("1200"), dt.date(2027, 1, 15), monthly(dt.date(2027, 2, 15), 12, "100")
    )
    assert apr == 0


def test_payments_below_amount_financed_have_no_apr() -> None:
    with pytest.raises(APRError) as excinfo:
        annual_percentage_rate(
            Decimal("1200"), dt.date(2027, 1, 15), monthly(dt.date(2027, 2, 15), 12, "99.99")
        )
    assert excinfo.value.field == "payments"


@pytest.mark.parametrize(
    ("advance", "payments", "field"),
    [
        (dt.date(2027, 1, 15), [], "payments"),
        (dt.date(2027, 1, 15), [(dt.date(2027, 1, 15), Decimal("1300"))], "payments"),
        (dt.date(2027, 1, 15), [(dt.date(2027, 1, 1), Decimal("1300"))], "payments"),
        (
            dt.date(2027, 1, 15),
            [(dt.date(2027, 3, 15), Decimal("700")), (dt.date(2027, 2, 15), Decimal("700"))],
            "payments",
        ),
        (dt.date(2027, 1, 15), [(dt.date(2027, 2, 15), Decimal("1300.001"))], "payments"),
        (dt.date(2027, 1, 15), [(dt.date(2027, 2, 15), -Decimal("1300"))], "payments"),
        (dt.date(2027, 1, 15), [(dt.date(2027, 2, 15), 1300.0)], "payments"),
        (dt.date(2027, 1, 15), [("2027-02-15", Decimal("1300"))], "payments"),
        (dt.date(2027, 1, 15), [(dt.date(2027, 2, 15),)], "payments"),
        (
            dt.datetime(2027, 1, 15, 12, 0, tzinfo=dt.UTC),
            [(dt.date(2027, 2, 15), Decimal("1300"))],
            "advance_date",
        ),
    ],
)
def test_unusable_payments_are_refused_naming_the_field(
    advance: dt.date, payments: Payments, field: str
) -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        annual_percentage_rate(Decimal("1200"), advance, payments)
    assert excinfo.value.field == field


def test_unknown_unit_period_is_refused() -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        annual_percentage_rate(
            Decimal("1200"),
            dt.date(2027, 1, 15),
            monthly(dt.date(2027, 2, 15), 12, "110"),
            unit_period="fortnight",  # type: ignore[arg-type]
        )
    assert excinfo.value.field == "unit_period"


def test_batch_gives_the_same_rates_as_one_by_one() -> None:
    loans = [
        (Decimal("5000"), dt.date(1978, 1, 10), monthly(dt.date(1978, 2, 10), 24, "230")),
        (Decimal("500"), dt.date(1978, 3, 20), every(dt.date(1978, 4, 21), 30, "17.60", 7)),
        (Decimal("1000"), dt.date(1978, 1, 3), [(dt.date(1978, 9, 15), Decimal("1080"))]),
    ]
    batch = annual_percentage_rates(
        [a for a, _, _ in loans], [d for _, d, _ in loans], [p for _, _, p in loans]
    )
    assert batch == [annual_percentage_rate(a, d, p) for a, d, p in loans]


def test_apr_has_at_least_four_decimals() -> None:
    apr = annual_percentage_rate(
        Decimal("5000"), dt.date(1978, 1, 10), monthly(dt.date(1978, 2, 10), 24, "230")
    )
    assert -apr.as_tuple().exponent >= 4  # type: ignore[operator]


@settings(max_examples=60, deadline=None)
@given(
    principal=st.integers(min_value=500_000, max_value=5_000_000),
    rate_bp=st.integers(min_value=0, max_value=1800),
    term=st.integers(min_value=6, max_value=84),
    contract=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 28)).filter(
        lambda d: d.day <= 28
    ),
)
def test_apr_of_fee_free_loan_with_regular_first_period_is_the_note_rate(
    principal: int, rate_bp: int, term: int, contract: dt.date
) -> None:
    """Checked from $5,000: each month's interest is rounded to the cent, and that alone moves the
    actuarial rate by up to about 1200 x 0.005 x n / (sum of balances), about 24 / principal points.
    On small loans it shows: $500 at 0.01% for 6 months charges 0.00 interest, an APR of 0."""
    rate = Decimal(rate_bp) / 100
    rows = schedule(Decimal(principal) / 100, rate, term, add_months(contract, 1))
    apr = annual_percentage_rate(Decimal(principal) / 100, contract, [(r.due_date, r.payment) for r in rows])  # type: ignore[misc]
    assert abs(apr - rate) <= Decimal("0.005")


@pytest.mark.parametrize(
    ("disclosed", "actual", "irregular", "ok"),
    [
        ("9.75", "9.625", False, True),
        ("9.50", "9.625", False, True),
        ("9.76", "9.625", False, False),
        ("9.49", "9.625", False, False),
        ("9.875", "9.625", True, True),
        ("9.88", "9.625", True, False),
        ("9.80", "9.625", True, True),
    ],
)
def test_within_tolerance_is_an_eighth_or_a_quarter_point_inclusive(
    disclosed: str, actual: str, irregular: bool, ok: bool
) -> None:
    assert within_tolerance(Decimal(disclosed), Decimal(actual), irregular=irregular) is ok


def test_within_tolerance_refuses_floats() -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        within_tolerance(9.75, Decimal("9.625"))  # type: ignore[arg-type]
    assert excinfo.value.field == "disclosed"


def test_batch_of_no_loans_is_empty() -> None:
    assert annual_percentage_rates([], [], []) == []
