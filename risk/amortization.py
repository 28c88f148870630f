"""Level-payment amortisation of a car loan, to the cent, one loan or a whole portfolio at once.

Rounding rules (the same for :func:`schedule` and :func:`portfolio_schedules`):

* The level payment is the exact annuity payment ``P * r / (1 - (1 + r) ** -n)`` with
  ``r = annual_rate / 1200``, rounded half-up to the cent (at 0%: ``P / n`` rounded half-up).
* Each period's interest is the running balance times ``annual_rate / 1200``, rounded half-up to
  the cent. Every period counts as one twelfth of a year, whatever its number of days: this is the
  projected schedule; actual servicing accrues daily (``risk.servicing``).
* The last payment is the remaining balance plus its interest, so the final balance is exactly
  0.00 and the principal parts add up exactly to the principal.

An odd first period (only when :func:`schedule` is given the ``contract_date``):

* The first period runs from the contract date, when interest starts to accrue, to the first due
  date. When the first due date is one calendar month after the contract date
  (``add_months(contract_date, 1) == first_payment_date``, so Jan 31 -> Feb 28 counts) the
  schedule is exactly the one above. Otherwise the period is split by :func:`first_period` into
  whole months, counted back from the first due date on its day of the month (the grid of the
  later due dates; Appendix J (b)(5)(ii) counts the same way), and the odd days left between the
  contract date and the first of those months. (Appendix J counts Jan 29-31 to Feb 28 in a series
  on the 28th as 28-30 days, not a month, so such a schedule keeps the contract's day for its
  later due dates, :func:`due_day`, and Appendix J measures it last day to last day: a month.)
* The first period's interest is ``principal * rate / 1200`` per whole month plus the odd days
  accrued as ``risk.servicing`` accrues them (``principal * rate / 36500`` a day, kept to 1e-10
  dollar), the sum rounded half-up to the cent once. Simple interest: nothing compounds inside the
  period, because no payment falls inside it. Why this split rather than ``actual days * rate /
  365`` for the whole period: every later period is one twelfth of a year whatever its days, and
  Appendix J measures time the same way (all months equal, odd days as days), so a February or a
  31-day month inside the first period counts exactly as it does anywhere else in the schedule.
  The odd days are what the one-month schedule left out, and they are charged to the cent as the
  credit union accrues them (a first period shorter than a month is all odd days, and its interest
  is exactly servicing's). Counting the whole period in actual days instead puts the APR of a
  12-month loan at 18% up to 0.26 point below the note rate when the period spans February.
* A first payment that does not cover the first period's interest (a long first period on a long
  term) pays interest only; the unpaid interest is carried, not added to the principal, and the
  next payment pays it first, as daily simple-interest servicing allocates. An installment's
  ``interest`` is the interest it pays; ``balance`` is the principal still owed.
* The level payment is the one that repays the loan exactly under these rules before rounding,
  ``P * (1 + g + (j - 1) * r) / (j + a(n - j))`` with ``g = rate * (months / 12 + days / 365)``,
  ``r = rate / 1200``, ``a(m) = (1 - (1 + r) ** -m) / r`` and ``j`` the first payment that clears
  the carried interest (``j = 1``, i.e. ``P * (1 + g) / (1 + r) * r / (1 - (1 + r) ** -n)``, unless a
  first payment would not cover the first period's interest), computed in exact rational
  arithmetic and rounded half-up to the cent. With ``g = r`` it is the payment above, so the last
  payment stays as close to the others as in a regular schedule.

Rates are percentages with at most two decimals (``Decimal("9.00")`` is 9%), which is what makes the
vectorised code exact: a rate is a whole number of basis points, and a period's interest in cents
is ``balance_cents * rate_bp / 120000`` rounded half-up, an integer computation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from risk import validation
from risk.dates import add_months
from risk.errors import InvalidTerms
from risk.money import CENT, from_cents, to_cents
from risk.servicing import daily_interest

IntArray = npt.NDArray[np.int64]
CentArray = npt.NDArray[np.int32]

# One period's interest in cents is balance_cents * rate_bp / _PERIOD_DIVISOR:
# rate_bp / 10000 is the annual rate as a fraction, and a period is 1/12 year.
_PERIOD_DIVISOR = 10_000 * 12


class Installment(NamedTuple):
    """One scheduled payment.

    Attributes
    ----------
    number
        1 for the first payment.
    due_date
        The due date, or None when the schedule was built without a first payment date.
    payment, interest, principal
        The payment and its split; ``interest + principal == payment``.
    balance
        The principal still owed after this payment (0.00 after the last).
    """

    number: int
    due_date: dt.date | None
    payment: Decimal
    interest: Decimal
    principal: Decimal
    balance: Decimal


class FirstPeriod(NamedTuple):
    """The first period of a loan, from the contract date to the first due date.

    Attributes
    ----------
    months
        Whole months, counted back from the first due date.
    days
        Odd days between the contract date and the first whole month.
    """

    months: int
    days: int


#: A first period of exactly one month: the schedule without a contract date.
REGULAR_FIRST_PERIOD = FirstPeriod(1, 0)


class PortfolioSchedules(NamedTuple):
    """Schedules of many loans as integer-cent arrays of shape ``(n_loans, max_term)``.

    Row ``i`` holds loan ``i``; column ``k`` its payment ``k + 1``. Entries past a loan's term are 0.
    The arrays are int32: every amount is at most about $1,015,000 (``MAX_PRINCIPAL`` plus a month's
    interest), about 1e8 cents against int32's 2.1e9, and half the memory of int64 matters at
    100,000 loans x 84 months x 4 arrays. NumPy sums int32 in int64, so totals do not overflow.
    """

    payment: CentArray
    interest: CentArray
    principal: CentArray
    balance: CentArray


def basis_points(annual_rate: Decimal | int | str) -> int:
    """A percentage with at most two decimals as whole basis points (``Decimal("9.25")`` -> 925)."""
    return int(validation.annual_rate("annual_rate", annual_rate) * 100)


def level_payment(
    principal: Decimal | int | str, annual_rate: Decimal | int | str, term_months: int
) -> Decimal:
    """The level monthly payment, exact annuity formula rounded half-up to the cent.

    Computed in exact rational arithmetic, so the half-up decision never depends on an
    approximation.

    Examples
    --------
    >>> level_payment(Decimal("10000.00"), Decimal("9.00"), 60)
    Decimal('207.58')
    >>> level_payment(Decimal("1000.00"), Decimal("0"), 3)
    Decimal('333.33')
    """
    cents = to_cents(validation.principal("principal", principal))
    rate_bp = basis_points(annual_rate)
    n = validation.term_months("term_months", term_months)
    return from_cents(_exact_level_payment_cents(cents, rate_bp, n))


def _exact_level_payment_cents(principal_cents: int, rate_bp: int, term: int) -> int:
    if rate_bp == 0:
        return (2 * principal_cents + term) // (2 * term)  # half-up of P / n
    r = Fraction(rate_bp, _PERIOD_DIVISOR)
    growth = (1 + r) ** term
    exact = principal_cents * r * growth / (growth - 1)
    return _half_up(exact)


def _half_up(x: Fraction) -> int:
    """Half-up rounding of a non-negative rational: floor(x + 1/2)."""
    return int((x + Fraction(1, 2)) // 1)


def first_period(contract_date: dt.date, first_payment_date: dt.date) -> FirstPeriod:
    """Whole months and odd days from the contract date to the first due date.

    One calendar month (``add_months(contract_date, 1) == first_payment_date``) is
    :data:`REGULAR_FIRST_PERIOD`. Otherwise whole months are counted back from the first due date
    on its day of the month, clamped to the month's end, while they stay on or after the contract
    date; the odd days run from the contract date to the start of the first whole month.

    Examples
    --------
    >>> first_period(dt.date(2027, 1, 1), dt.date(2027, 2, 15))
    FirstPeriod(months=1, days=14)
    >>> first_period(dt.date(2027, 1, 20), dt.date(2027, 2, 1))
    FirstPeriod(months=0, days=12)
    >>> first_period(dt.date(2027, 1, 31), dt.date(2027, 2, 28)), first_period(dt.date(2027, 2, 28), dt.date(2027, 3, 31))
    (FirstPeriod(months=1, days=0), FirstPeriod(months=1, days=0))
    """
    contract = validation.date("contract_date", contract_date)
    first = validation.date("first_payment_date", first_payment_date)
    if first <= contract:
        raise InvalidTerms("first_payment_date", "must be after the contract date")
    if add_months(contract, 1) == first:
        return REGULAR_FIRST_PERIOD
    months = 0
    while add_months(first, -(months + 1)) >= contract:
        months += 1
    return FirstPeriod(months, (add_months(first, -months) - contract).days)


def due_day(contract_date: dt.date | None, first_payment_date: dt.date) -> int:
    """The day of the month the due dates fall on (clamped to each month's end).

    The first due date's day, except when it is the contract date's day clamped by a short month
    (a contract on Jan 29-31 with the first payment on Feb 28 or 29): then the contract's day, so
    the series runs Feb 28, Mar 31, Apr 30 ... for a Jan 31 contract. (A 30-day month clamps a
    31st too, but Appendix J already measures Mar 31 to Apr 30 as a month, so those series keep
    the first due date's day, as they always had.) Otherwise the whole loan
    would fall due on the 28th, every later period would be measured from the 28th, and Appendix J
    (b)(3)(iv), which measures a series on the 29th-31st last day to last day, would count the
    first period as 28 days charged a full month's interest: an 18% loan disclosed at up to 18.19%.

    >>> due_day(dt.date(2027, 1, 31), dt.date(2027, 2, 28)), due_day(dt.date(2027, 1, 30), dt.date(2027, 2, 28))
    (31, 30)
    >>> due_day(dt.date(2027, 1, 15), dt.date(2027, 2, 15)), due_day(None, dt.date(2027, 2, 28))
    (15, 28)
    """
    if (
        contract_date is not None
        and first_payment_date.month == 2
        and first_payment_date.day < contract_date.day
        and add_months(contract_date, 1) == first_payment_date
    ):
        return contract_date.day
    return first_payment_date.day


def first_period_interest(
    principal: Decimal | int | str, annual_rate: Decimal | int | str, period: FirstPeriod
) -> Decimal:
    """The interest the principal earns over a first period (rules in the module docstring).

    Whole months at ``annual_rate / 1200``, odd days accrued as ``risk.servicing`` accrues them,
    the sum rounded half-up to the cent once; :data:`REGULAR_FIRST_PERIOD` gives a month's interest.

    >>> first_period_interest(Decimal("10000.00"), Decimal("9.00"), FirstPeriod(1, 14))
    Decimal('109.52')
    """
    amount = validation.principal("principal", principal)
    rate = validation.annual_rate("annual_rate", annual_rate)
    if period.months < 0 or period.days < 0:
        raise InvalidTerms("first_payment_date", f"not a first period: {period}")
    whole = Fraction(to_cents(amount) * int(rate * 100) * period.months, _PERIOD_DIVISOR)
    odd = Fraction(daily_interest(amount, rate) * period.days) * 100
    return from_cents(_half_up(whole + odd))


def _odd_level_payment_cents(principal_cents: int, rate_bp: int, term: int, period: FirstPeriod) -> int:
    """The level payment of an odd first period (module docstring), exact, then half-up."""
    if rate_bp == 0:
        return (2 * principal_cents + term) // (2 * term)
    r = Fraction(rate_bp, _PERIOD_DIVISOR)
    g = Fraction(rate_bp, 10_000) * (Fraction(period.months, 12) + Fraction(period.days, 365))
    p = principal_cents
    for j in range(1, term + 1):
        # Suppose payment j is the first to cover all the interest accrued so far: payments 1..j
        # pay simple interest on the untouched principal, p * (g + (j - 1) * r) in all, what is
        # left repays principal, and the other term - j payments are an annuity on the rest. That
        # gives `exact`; it is the level payment when the supposition holds for it. One j does:
        # the one where the exact payment's own interest-only run ends.
        annuity = (1 - (1 + r) ** (j - term)) / r
        exact = p * (1 + g + (j - 1) * r) / (j + annuity)
        if j * exact >= p * (g + (j - 1) * r) and all(i * exact < p * (g + (i - 1) * r) for i in range(1, j)):
            return _half_up(exact)
    raise AssertionError("unreachable: some j always fits")  # pragma: no cover


def schedule(
    principal: Decimal | int | str,
    annual_rate: Decimal | int | str,
    term_months: int,
    first_payment_date: dt.date | None = None,
    *,
    contract_date: dt.date | None = None,
) -> list[Installment]:
    """The full amortisation schedule of one loan (rounding rules in the module docstring).

    Due dates fall on the day of month of ``first_payment_date``, clamped to the month's end
    (Jan 31 -> Feb 28/29 -> Mar 31), each computed from the first date so they never drift; when
    that first date is a contract date on the 29th-31st clamped into a short month, on the
    contract's day (:func:`due_day`).

    With ``contract_date`` (which needs ``first_payment_date``) the first period is measured from
    it and an odd first period earns its actual interest (module docstring); without it, or when
    the first due date is one calendar month after it, the first period is one month.

    Examples
    --------
    >>> rows = schedule(Decimal("1000.00"), Decimal("12.00"), 2, dt.date(2027, 1, 31))
    >>> [(r.due_date.isoformat(), str(r.payment), str(r.interest), str(r.balance)) for r in rows]
    [('2027-01-31', '507.51', '10.00', '502.49'), ('2027-02-28', '507.51', '5.02', '0.00')]

    A 45-day first period (1 month and 14 odd days) earns 10.00 + 14 days at 1000 * 12% / 365:

    >>> rows = schedule(Decimal("1000.00"), Decimal("12.00"), 2, dt.date(2027, 2, 15), contract_date=dt.date(2027, 1, 1))
    >>> [(str(r.payment), str(r.interest), str(r.balance)) for r in rows]
    [('509.83', '14.60', '504.77'), ('509.82', '5.05', '0.00')]
    """
    amount = validation.principal("principal", principal)
    rate = validation.annual_rate("annual_rate", annual_rate)
    n = validation.term_months("term_months", term_months)
    first = None if first_payment_date is None else validation.date("first_payment_date", first_payment_date)
    period = REGULAR_FIRST_PERIOD
    if contract_date is not None:
        if first is None:
            raise InvalidTerms(
                "first_payment_date", "is needed to measure the first period from the contract date"
            )
        period = first_period(contract_date, first)
    anchor_day = None if first is None else due_day(contract_date, first)
    cents, rate_bp = to_cents(amount), int(rate * 100)
    if period == REGULAR_FIRST_PERIOD:
        payment = from_cents(_exact_level_payment_cents(cents, rate_bp, n))
        first_interest = None
    else:
        payment = from_cents(_odd_level_payment_cents(cents, rate_bp, n, period))
        first_interest = first_period_interest(amount, rate, period)

    rows: list[Installment] = []
    balance = amount
    carried = Decimal("0.00")  # interest accrued and not yet paid (only after an odd first period)
    with localcontext() as ctx:
        # balance * rate has at most 4 decimals, so the interest in cents is a multiple of
        # 1/120000: 50 digits resolve it exactly and the half-up below sees the true value.
        ctx.prec = 50
        for number in range(1, n + 1):
            if number == 1 and first_interest is not None:
                accrued = first_interest
            else:
                accrued = (balance * rate / 1200).quantize(CENT, rounding=ROUND_HALF_UP)
            owed = carried + accrued
            # A level payment below the interest owed pays interest only (never in a regular
            # schedule: its payment exceeds a month's interest on the principal).
            due = payment if number < n else balance + owed
            interest = min(due, owed)
            carried = owed - interest
            principal_part = due - interest
            balance = balance - principal_part
            rows.append(
                Installment(
                    number=number,
                    due_date=None if first is None else add_months(first, number - 1, anchor_day),
                    payment=due,
                    interest=interest,
                    principal=principal_part,
                    balance=balance,
                )
            )
    return rows


def _int_array(field: str, values: npt.ArrayLike | Sequence[int], low: int, high: int) -> IntArray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidTerms(field, "must be a one-dimensional array")
    if array.size and array.dtype.kind not in "iu":
        raise InvalidTerms(field, f"must hold integers, not {array.dtype}")
    result = array.astype(np.int64)
    bad = np.flatnonzero((result < low) | (result > high))
    if bad.size:
        raise InvalidTerms(field, f"loan {bad[0]}: {result[bad[0]]} is outside {low}..{high}")
    return result


def level_payments_cents(
    principals: npt.ArrayLike, annual_rates: npt.ArrayLike, term_months: npt.ArrayLike
) -> IntArray:
    """Level payments in cents for many loans, identical to :func:`level_payment` for each.

    Same units as :func:`portfolio_schedules`. The annuity formula is evaluated in float64 with
    ``log1p``/``expm1`` (relative error a few units in the last place, far below 1e-11); a loan
    whose float payment lies within ``1e-11 * payment + 1e-9`` cents of a half cent, where that
    error could flip the half-up rounding, is recomputed exactly with rational arithmetic.
    """
    cents, rates, terms = _portfolio_inputs(principals, annual_rates, term_months)
    return _level_payments(cents, rates, terms)


def _portfolio_inputs(
    principals: npt.ArrayLike, annual_rates: npt.ArrayLike, term_months: npt.ArrayLike
) -> tuple[IntArray, IntArray, IntArray]:
    cents = _int_array(
        "principals", principals, to_cents(validation.MIN_PRINCIPAL), to_cents(validation.MAX_PRINCIPAL)
    )
    rates = _int_array("annual_rates", annual_rates, 0, int(validation.MAX_ANNUAL_RATE * 100))
    terms = _int_array("term_months", term_months, 1, validation.MAX_TERM_MONTHS)
    if not cents.shape == rates.shape == terms.shape:
        raise InvalidTerms("principals", "principals, annual_rates and term_months differ in length")
    return cents, rates, terms


def _level_payments(cents: IntArray, rates: IntArray, terms: IntArray) -> IntArray:
    result = (2 * cents + terms) // (2 * terms)  # the 0% loans, exactly; others overwritten
    interest_bearing = rates > 0
    p = cents[interest_bearing].astype(np.float64)
    r = rates[interest_bearing] / float(_PERIOD_DIVISOR)
    n = terms[interest_bearing].astype(np.float64)
    exact_ish = p * r / -np.expm1(-n * np.log1p(r))
    shifted = exact_ish + 0.5
    rounded = np.floor(shifted)
    # How far the payment is from a half-cent boundary, on either side: a float just below an exact
    # tie (x.4999999...) floors one cent short, so the distance is to the nearest whole number of
    # ``shifted``, not to its floor.
    distance = np.abs(shifted - np.round(shifted))
    payments = rounded.astype(np.int64)
    close = np.flatnonzero(distance <= 1e-11 * exact_ish + 1e-9)
    if close.size:
        idx = np.flatnonzero(interest_bearing)[close]
        payments[close] = [
            _exact_level_payment_cents(int(cents[i]), int(rates[i]), int(terms[i])) for i in idx
        ]
    result[interest_bearing] = payments
    return result


def portfolio_schedules(
    principals: npt.ArrayLike, annual_rates: npt.ArrayLike, term_months: npt.ArrayLike
) -> PortfolioSchedules:
    """Schedules of many loans at once, identical to :func:`schedule` for every loan.

    Parameters
    ----------
    principals
        Note amounts in whole cents, integer array (``1_000_000`` is $10,000.00).
    annual_rates
        Note rates in whole basis points, integer array (``900`` is 9.00%); see :func:`basis_points`.
        Integers keep the rates exact; float arrays are refused.
    term_months
        Number of monthly payments of each loan, integer array.

    Returns
    -------
    PortfolioSchedules
        int32 cent arrays ``(n_loans, max_term)``, zero past each loan's term.

    Notes
    -----
    One integer-cent recurrence runs over all loans at once, one month per step: interest is
    ``(balance * rate_bp + 60000) // 120000`` (half-up of ``balance * rate_bp / 120000``), computed
    in int64 (balance x rate is at most 1e8 x 1800) and stored as int32.

    Examples
    --------
    >>> s = portfolio_schedules(np.array([100_000]), np.array([1200]), np.array([2]))
    >>> s.payment.tolist(), s.interest.tolist(), s.balance.tolist()
    ([[50751, 50751]], [[1000, 502]], [[50249, 0]])
    """
    cents, rates, terms = _portfolio_inputs(principals, annual_rates, term_months)
    n_loans = cents.shape[0]
    max_term = int(terms.max()) if n_loans else 0
    level = _level_payments(cents, rates, terms)
    last = terms - 1
    # Filled month by month, so stored month-major; the returned arrays are transposed views.
    payment = np.empty((max_term, n_loans), dtype=np.int32)
    interest = np.empty((max_term, n_loans), dtype=np.int32)
    principal = np.empty((max_term, n_loans), dtype=np.int32)
    balance = np.empty((max_term, n_loans), dtype=np.int32)
    half = _PERIOD_DIVISOR // 2
    owed = cents.copy()
    for k in range(max_term):
        # Past a loan's term its balance is 0, so interest and payment come out 0 by themselves.
        month_interest = (owed * rates + half) // _PERIOD_DIVISOR
        month_payment = np.where(k < last, level, owed + month_interest)
        month_principal = month_payment - month_interest
        owed = owed - month_principal
        payment[k] = month_payment
        interest[k] = month_interest
        principal[k] = month_principal
        balance[k] = owed
    return PortfolioSchedules(payment.T, interest.T, principal.T, balance.T)
