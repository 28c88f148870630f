"""Annual percentage rate by the actuarial method of Regulation Z, Appendix J (12 CFR 1026).

The general equation of Appendix J (b)(8), for one advance ``A`` on the advance date::

    A = sum_k  P_k / ((1 + f_k * i) * (1 + i) ** t_k)

``P_k`` is payment k, ``t_k`` the number of full unit-periods and ``f_k`` the fraction of a
unit-period from the advance to payment k, and ``i`` the rate per unit-period. The APR is
``i`` times the number of unit-periods in a year (b)(1).

Time is measured as Appendix J (b)(3) and (b)(5) say:

* all months are equal; full months are counted back from the payment date to the advance date;
  a series of payments on the last day of the month (or the 29th/30th, landing on the last day of
  February) is measured last day to last day;
* month unit-period: ``t`` = full months, ``f`` = remaining days / 30;
* semimonth, 2 months, quarter: days = 30 x full months + remaining days, then divided by 15, 60
  or 90 into full unit-periods and a fraction;
* week, 2 weeks, 4 weeks: actual days divided by 7, 14 or 28;
* year: full years of 12 months counted back; the rest is months / 12 when it is a whole number
  of months, otherwise days / 365;
* one payment (single advance, single payment, (b)(5)(vi)-(vii)): when no unit-period is given
  and the term is under a year, the unit-period is the term itself (``t = 1, f = 0``) and there
  are 12 / months (whole months) or 365 / days of them in a year; a longer term uses the year.

With no ``unit_period`` given, the unit-period is the common period (one occurring more than
once) that occurs most often, the shorter one on a tie (b)(4); with no common period, the
standard interval nearest the average period (the shorter one on a tie).

The equation is solved for ``i`` by Newton's method from ``i = 0``, kept inside a bisection
bracket, until the step is below 1e-13 of ``i``: the APR is good to far better than 1e-8
percentage point. It is returned in percent, to 8 decimal places, not rounded for disclosure.

Choices where Appendix J leaves room:

* Payments that add up to less than the amount financed have only a negative rate; that is
  refused with :class:`~risk.errors.APRError` rather than disclosed. Payments that add up to
  exactly the amount financed give 0.
* Payments must be dated strictly after the advance and strictly increasing (payments due on the
  same day are one payment: add them up first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Literal, NamedTuple, get_args

import numpy as np
import numpy.typing as npt

from risk import validation
from risk.errors import APRError, InvalidTerms
from risk.money import D, MoneyError

UnitPeriod = Literal["week", "2week", "semimonth", "4week", "month", "2month", "quarter", "year"]
Payment = tuple[dt.date, Decimal]

#: The unit-periods from shortest to longest; position is the code used in the arrays below.
UNIT_PERIODS: tuple[UnitPeriod, ...] = get_args(UnitPeriod)
_PER_YEAR = np.array([52, 26, 24, 13, 12, 6, 4, 1], dtype=np.int64)
_NOMINAL_DAYS = np.array([7, 14, 365 / 24, 28, 365 / 12, 365 / 6, 365 / 4, 365])
_WEEK, _2WEEK, _SEMIMONTH, _4WEEK, _MONTH, _2MONTH, _QUARTER, _YEAR = range(8)
_TERM = 8  # single advance, single payment under a year: the term is the unit-period

#: 12 CFR 1026.22(a)(2)-(3): 1/8 percentage point; 1/4 for irregular transactions.
REGULAR_TOLERANCE = Decimal("0.125")
IRREGULAR_TOLERANCE = Decimal("0.25")

_EPOCH = np.datetime64("1970-01-01", "D")

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class TimeFactors(NamedTuple):
    """The unit-period of a transaction and where each payment falls in it.

    Attributes
    ----------
    unit_period
        One of :data:`UNIT_PERIODS`, or ``"term"`` for a single payment under a year.
    periods_per_year
        Unit-periods in a year (exact; 365/255 for a 255-day single-payment term).
    periods
        ``(t_k, f_k)`` for each payment: full unit-periods and the fraction of one.
    """

    unit_period: str
    periods_per_year: Fraction
    periods: tuple[tuple[int, Fraction], ...]


class _Batch(NamedTuple):
    """Payments of many loans, flattened; ``loan`` maps each payment to its loan."""

    financed_cents: I64
    advance: I64  # days since 1970-01-01, per loan
    loan: I64
    paid_on: I64  # days since 1970-01-01, per payment
    cents: I64
    first: I64  # index of each loan's first payment
    counts: I64


class _Factors(NamedTuple):
    unit: I64  # per loan
    per_year_num: I64
    per_year_den: I64
    t: I64  # per payment
    f_num: I64
    f_den: I64


_ORDINAL_1970 = dt.date(1970, 1, 1).toordinal()


def _day_numbers(field: str, dates: list[dt.date]) -> I64:
    """Days since 1970-01-01; plain ``date`` objects take the fast path, anything else is checked."""
    if not all(type(d) is dt.date for d in dates):
        for d in dates:
            validation.date(field, d)
    return np.array([d.toordinal() for d in dates], dtype=np.int64) - _ORDINAL_1970


def _amounts_in_cents(field: str, amounts: Sequence[object]) -> I64:
    """Whole cents of positive amounts with at most two decimals (fast path for Decimal)."""
    if all(type(a) is Decimal for a in amounts):
        try:
            scaled = [a.scaleb(2) for a in amounts]  # type: ignore[attr-defined]
            cents = [int(c) for c in scaled]
        except (ValueError, OverflowError):
            cents = None  # NaN or infinity: let the slow path name it
        if cents is not None and all(c == i for c, i in zip(scaled, cents, strict=True)) and min(cents) > 0:
            return np.array(cents, dtype=np.int64)
    return np.array([int(validation.amount(field, a) * 100) for a in amounts], dtype=np.int64)


def _previous_dates(advance: I64, paid_on: I64, first: I64) -> I64:
    """For each payment, the date of the payment before it, or the advance for a first payment."""
    previous = np.empty_like(paid_on)
    previous[1:] = paid_on[:-1]
    previous[first] = advance[first]
    return previous


def _prepare(
    amounts_financed: Sequence[Decimal | int | str],
    advance_dates: Sequence[dt.date],
    payment_lists: Sequence[Sequence[Payment]],
) -> _Batch:
    if not len(amounts_financed) == len(advance_dates) == len(payment_lists):
        raise InvalidTerms("payments", "amounts financed, advance dates and payment lists differ in length")
    counts = [len(p) for p in payment_lists]
    if not counts or 0 in counts:
        raise InvalidTerms("payments", "there must be at least one payment")
    try:
        flat_dates = [d for payments in payment_lists for d, _ in payments]
        flat_amounts = [a for payments in payment_lists for _, a in payments]
    except (TypeError, ValueError) as exc:
        raise InvalidTerms("payments", "each payment must be a (date, amount) pair") from exc
    financed = _amounts_in_cents("amount_financed", list(amounts_financed))
    advance = _day_numbers("advance_date", list(advance_dates))
    paid_on = _day_numbers("payments", flat_dates)
    cents = _amounts_in_cents("payments", flat_amounts)
    count = np.array(counts, dtype=np.int64)
    loan = np.repeat(np.arange(len(counts), dtype=np.int64), count)
    first = np.concatenate(([0], np.cumsum(count)[:-1])).astype(np.int64)
    out_of_order = paid_on <= _previous_dates(advance[loan], paid_on, first)
    if out_of_order.any():
        bad = int(loan[np.argmax(out_of_order)])
        raise InvalidTerms(
            "payments",
            f"loan {bad}: payments must fall after the advance date and on strictly increasing dates",
        )
    return _Batch(financed, advance, loan, paid_on, cents, first, count)


def _month_index(days: I64) -> I64:
    return (days.astype("datetime64[D]").astype("datetime64[M]") - np.datetime64("1970-01", "M")).astype(
        np.int64
    )


def _month_start(month_index: I64) -> I64:
    months = month_index.astype("timedelta64[M]") + np.datetime64("1970-01", "M")
    return (months.astype("datetime64[D]") - _EPOCH).astype(np.int64)


def _month_length(month_index: I64) -> I64:
    return _month_start(month_index + 1) - _month_start(month_index)


def _back(month_index: I64, nominal_day: I64, months: I64) -> I64:
    """The date ``months`` months before, on the nominal day clamped to the month's length."""
    target = month_index - months
    return _month_start(target) + np.minimum(nominal_day, _month_length(target)) - 1


def _factors(batch: _Batch, unit_period: UnitPeriod | None) -> _Factors:
    n_loans = batch.counts.shape[0]
    loan, paid_on = batch.loan, batch.paid_on
    month = _month_index(paid_on)
    day = paid_on - _month_start(month) + 1
    month_end = day == _month_length(month)

    # (b)(3)(iv): a series on the last day of the month, or on the 29th/30th, is measured from the
    # last day of a month to the last day of another. Stepping back from a month-end payment
    # therefore uses the series' day: the latest month-end day of the loan's payments, or the
    # loan's most common payment day when that is the 29th or later.
    latest_month_end = np.zeros(n_loans, dtype=np.int64)
    np.maximum.at(latest_month_end, loan[month_end], day[month_end])
    day_counts = np.zeros((n_loans, 32), dtype=np.int64)
    np.add.at(day_counts, (loan, day), 1)
    common_day = 31 - np.argmax(day_counts[:, ::-1], axis=1)  # the later day on a tie
    series_day = np.maximum(latest_month_end, np.where(common_day >= 29, common_day, 0))
    nominal = np.where(month_end, np.maximum(day, series_day[loan]), day)

    # Full months back from each payment to the advance (b)(5)(ii), and the days left over.
    advance = batch.advance[loan]
    full_months = month - _month_index(advance)
    landed = _back(month, nominal, full_months)
    overshot = landed < advance
    full_months = full_months - overshot
    landed = np.where(overshot, _back(month, nominal, full_months), landed)
    rest_days = landed - advance
    days = paid_on - advance

    if unit_period is None:
        unit = _common_unit(batch, month, nominal)
    else:
        if unit_period not in UNIT_PERIODS:
            raise InvalidTerms("unit_period", f"must be one of {', '.join(UNIT_PERIODS)}: {unit_period!r}")
        unit = np.full(n_loans, UNIT_PERIODS.index(unit_period), dtype=np.int64)
    per_year_num = _PER_YEAR[np.minimum(unit, _YEAR)]
    per_year_den = np.ones(n_loans, dtype=np.int64)
    if unit_period is None:
        single = batch.counts == 1
        last = batch.first  # the only payment of a single-payment loan
        under_year = single & (full_months[last] < 12)
        whole_months = under_year & (rest_days[last] == 0)
        unit = np.where(under_year, _TERM, np.where(single, _YEAR, unit))
        per_year_num = np.where(under_year, np.where(whole_months, 12, 365), per_year_num)
        per_year_den = np.where(whole_months, full_months[last], np.where(under_year, days[last], 1))

    payment_unit = unit[loan]
    thirty_day_days = 30 * full_months + rest_days  # (b)(5)(iii)
    length = np.select(
        [payment_unit == u for u in (_WEEK, _2WEEK, _4WEEK, _SEMIMONTH, _2MONTH, _QUARTER)],
        [7, 14, 28, 15, 60, 90],
        1,
    )
    measured = np.where(np.isin(payment_unit, (_WEEK, _2WEEK, _4WEEK)), days, thirty_day_days)
    t = measured // length
    f_num = measured % length
    f_den = length.copy()

    is_month = payment_unit == _MONTH
    t = np.where(is_month, full_months, t)
    f_num = np.where(is_month, rest_days, f_num)
    f_den = np.where(is_month, 30, f_den)

    is_year = payment_unit == _YEAR
    years = full_months // 12
    after_years = _back(month, nominal, 12 * years)
    t = np.where(is_year, years, t)
    f_num = np.where(
        is_year, np.where(rest_days == 0, full_months - 12 * years, after_years - advance), f_num
    )
    f_den = np.where(is_year, np.where(rest_days == 0, 12, 365), f_den)

    is_term = payment_unit == _TERM
    t = np.where(is_term, 1, t)
    f_num = np.where(is_term, 0, f_num)
    f_den = np.where(is_term, 1, f_den)
    return _Factors(unit, per_year_num, per_year_den, t, f_num, f_den)


def _common_unit(batch: _Batch, month: I64, nominal: I64) -> I64:
    """The unit-period of each loan by (b)(4): its most frequent common period."""
    loan, paid_on = batch.loan, batch.paid_on
    previous = _previous_dates(batch.advance[loan], paid_on, batch.first)
    gap_months = month - _month_index(previous)
    whole_months = _back(month, nominal, gap_months) == previous
    gap_days = paid_on - previous
    kind = np.select(
        [
            whole_months & (gap_months == 1),
            whole_months & (gap_months == 2),
            whole_months & (gap_months == 3),
            whole_months & (gap_months == 12),
            gap_days == 7,
            gap_days == 14,
            gap_days == 28,
            (gap_days >= 13) & (gap_days <= 17),
        ],
        [_MONTH, _2MONTH, _QUARTER, _YEAR, _WEEK, _2WEEK, _4WEEK, _SEMIMONTH],
        -1,
    )
    counts = np.zeros((batch.counts.shape[0], len(UNIT_PERIODS)), dtype=np.int64)
    standard = kind >= 0
    np.add.at(counts, (loan[standard], kind[standard]), 1)
    best = np.argmax(counts, axis=1)  # first maximum: the shorter period on a tie
    common = counts[np.arange(best.shape[0]), best] >= 2
    last = batch.first + batch.counts - 1
    average = (paid_on[last] - batch.advance) / batch.counts
    nearest = np.argmin(np.abs(average[:, None] - _NOMINAL_DAYS[None, :]), axis=1)
    unit: I64 = np.where(common, best, nearest).astype(np.int64)
    return unit


def _solve(batch: _Batch, factors: _Factors) -> F64:
    """Unit-period rate of each loan: root of the general equation, Newton inside a bracket."""
    loan = batch.loan
    n_loans = batch.counts.shape[0]
    amount = batch.cents.astype(np.float64)
    financed = batch.financed_cents.astype(np.float64)
    t = factors.t.astype(np.float64)
    f = factors.f_num / factors.f_den
    # Exact comparison in integer cents: no APR below zero is disclosed.
    paid = np.bincount(loan, weights=batch.cents, minlength=n_loans).astype(np.int64)
    short = np.flatnonzero(paid < batch.financed_cents)
    if short.size:
        raise APRError(
            "payments",
            f"loan {short[0]}: payments total less than the amount financed, so no non-negative APR exists",
        )
    rate = np.zeros(n_loans)
    low = np.zeros(n_loans)
    high = np.full(n_loans, np.inf)
    active = paid > batch.financed_cents  # equal totals: the rate is exactly 0
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        for _ in range(200):
            if not active.any():
                break
            i = rate[loan]
            discounted = amount / ((1 + f * i) * np.exp(t * np.log1p(i)))
            value = np.bincount(loan, weights=discounted, minlength=n_loans) - financed
            slope = -np.bincount(
                loan, weights=discounted * (f / (1 + f * i) + t / (1 + i)), minlength=n_loans
            )
            low = np.where(active & (value > 0), rate, low)
            high = np.where(active & (value < 0), rate, high)
            step = rate - value / slope
            outside = ~np.isfinite(step) | (step <= low) | (step >= high)
            fallback = np.where(np.isfinite(high), (low + high) / 2, 2 * rate + 1)
            new = np.where(outside, fallback, step)
            new = np.where(active & (value != 0), new, rate)
            settled = np.abs(new - rate) <= 1e-13 * np.maximum(new, 1e-6)
            rate = new
            active &= ~settled
    if active.any():  # pragma: no cover - Newton inside a bracket converges in a few dozen steps
        raise APRError("payments", f"loan {np.flatnonzero(active)[0]}: the APR equation did not converge")
    return rate


def _as_percent(rate: float, per_year: Fraction) -> Decimal:
    return Decimal(f"{rate * 100 * float(per_year):.8f}")


def time_factors(
    advance_date: dt.date, payment_dates: Sequence[dt.date], unit_period: UnitPeriod | None = None
) -> TimeFactors:
    """Unit-period and ``(t, f)`` of each payment, exactly as the APR computation uses them.

    Examples
    --------
    >>> tf = time_factors(dt.date(1978, 2, 10), [dt.date(1978, 4, 1), dt.date(1978, 5, 1)])
    >>> tf.unit_period, tf.periods
    ('month', ((1, Fraction(19, 30)), (2, Fraction(19, 30))))
    """
    batch = _prepare([Decimal(1)], [advance_date], [[(d, Decimal(1)) for d in payment_dates]])
    factors = _factors(batch, unit_period)
    code = int(factors.unit[0])
    return TimeFactors(
        unit_period="term" if code == _TERM else UNIT_PERIODS[code],
        periods_per_year=Fraction(int(factors.per_year_num[0]), int(factors.per_year_den[0])),
        periods=tuple(
            (int(t), Fraction(int(n), int(d)))
            for t, n, d in zip(factors.t, factors.f_num, factors.f_den, strict=True)
        ),
    )


def annual_percentage_rates(
    amounts_financed: Sequence[Decimal | int | str],
    advance_dates: Sequence[dt.date],
    payment_lists: Sequence[Sequence[Payment]],
    unit_period: UnitPeriod | None = None,
) -> list[Decimal]:
    """:func:`annual_percentage_rate` of many loans at once (one vectorised solve for all).

    The three sequences run in parallel, one entry per loan. An error names the first bad loan.
    """
    if not len(amounts_financed) == len(advance_dates) == len(payment_lists):
        raise InvalidTerms("payments", "amounts financed, advance dates and payment lists differ in length")
    if not payment_lists:
        return []
    batch = _prepare(amounts_financed, advance_dates, payment_lists)
    factors = _factors(batch, unit_period)
    rates = _solve(batch, factors)
    return [
        _as_percent(float(r), Fraction(int(n), int(d)))
        for r, n, d in zip(rates, factors.per_year_num, factors.per_year_den, strict=True)
    ]


def annual_percentage_rate(
    amount_financed: Decimal | int | str,
    advance_date: dt.date,
    payments: Sequence[Payment],
    unit_period: UnitPeriod | None = None,
) -> Decimal:
    """The actuarial APR of a single-advance loan, in percent (``Decimal("9.69…")`` is 9.69%).

    Parameters
    ----------
    amount_financed
        The amount financed (12 CFR 1026.18(b)), advanced on ``advance_date``.
    advance_date
        Date the finance charge begins to be earned (the contract date for a car loan).
    payments
        ``(due date, amount)`` pairs, strictly increasing dates after the advance date.
    unit_period
        Force a unit-period; by default it is chosen as Appendix J (b)(4) says.

    Returns
    -------
    Decimal
        The APR in percent to 8 decimal places; round it only for disclosure.

    Raises
    ------
    APRError
        When the payments add up to less than the amount financed.
    InvalidTerms
        On unusable input (no payments, dates out of order, amounts with fractions of a cent...).

    Examples
    --------
    Appendix J (c)(1)(i): $5,000 advanced 1978-01-10, 24 monthly payments of $230 from 1978-02-10.

    >>> from risk.dates import monthly_due_dates
    >>> dates = monthly_due_dates(dt.date(1978, 2, 10), 24)
    >>> apr = annual_percentage_rate(Decimal("5000"), dt.date(1978, 1, 10), [(d, Decimal("230")) for d in dates])
    >>> round(apr, 2)
    Decimal('9.69')
    """
    return annual_percentage_rates([amount_financed], [advance_date], [payments], unit_period)[0]


def within_tolerance(disclosed: Decimal, actual: Decimal, irregular: bool = False) -> bool:
    """Whether a disclosed APR is accurate under 12 CFR 1026.22(a)(2)-(3).

    Accurate means within 1/8 of a percentage point of the actuarial APR, or 1/4 of a point in an
    irregular transaction (multiple advances, irregular payment periods or amounts other than an
    irregular first period or an irregular first or final payment). The bound is inclusive.

    >>> within_tolerance(Decimal("9.75"), Decimal("9.625")), within_tolerance(Decimal("9.76"), Decimal("9.625"))
    (True, False)
    """
    limit = IRREGULAR_TOLERANCE if irregular else REGULAR_TOLERANCE
    return abs(_percent("disclosed", disclosed) - _percent("actual", actual)) <= limit


def _percent(field: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidTerms(field, f"must be a percentage as Decimal, int or str, not {type(value).__name__}")
    try:
        return D(value)
    except MoneyError as exc:
        raise InvalidTerms(field, f"not a percentage: {value!r}") from exc
