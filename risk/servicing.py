"""Daily simple-interest servicing, the way credit-union car loans accrue.

Conventions (each one a choice a credit union states in its loan agreement):

* Interest accrues each calendar day on the unpaid principal at ``annual_rate / 100 / 365``. The
  divisor is 365 in leap years too, so February 29 accrues one more ordinary day (a leap year
  earns 366/365 of the annual rate), the common credit-union convention.
* The daily amount is rounded half-up to 10 decimal places (1e-10 dollar) and accrued interest is
  the sum of daily amounts: accruing over a span in one call or day by day gives the same figure.
* Accrued interest is rounded half-up to the cent only when it is paid or quoted: a payment that
  covers the rounded interest clears the accrued interest (a sub-cent difference is settled in
  the borrower's favour or the credit union's, never carried); a partial interest payment leaves
  the rest accrued, sub-cent part included.
* A payment goes to fees due, then to interest, then to principal. Anything above the payoff is
  not applied: it is returned in :attr:`Allocation.excess` for the credit union to refund.
* A payment dated before the state is refused (:class:`~risk.errors.BackdatedPayment`): to
  backdate, replay the history from an earlier state.
* The disclosed schedule counts every month as 1/12 year; accrual counts actual days. So a borrower
  who pays each disclosed amount on its due date usually ends with a residual. The final
  installment is therefore billed as the payoff on the maturity date (:func:`payoff_amount`), and a
  residual owed of at most a small tolerance left on or after the maturity date is written off
  (:func:`close_small_balance`), as daily simple-interest car loans are serviced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from risk import validation
from risk.errors import BackdatedPayment, InvalidTerms
from risk.money import ZERO, money

#: Precision of accrued interest between payments.
ACCRUAL_QUANTUM = Decimal("1E-10")
#: Days in the interest year, leap years included.
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class LoanState:
    """What a borrower owes at the end of a day.

    Attributes
    ----------
    principal_balance
        Unpaid principal, in cents.
    accrued_interest
        Interest accrued and unpaid, to 1e-10 dollar (see the module docstring).
    fees_due
        Fees assessed and unpaid (e.g. late charges), in cents.
    as_of
        The date through which interest has been accrued.
    annual_rate
        The note rate in percent (``Decimal("9.00")`` is 9%).
    """

    principal_balance: Decimal
    accrued_interest: Decimal
    fees_due: Decimal
    as_of: dt.date
    annual_rate: Decimal

    def __post_init__(self) -> None:
        validation.amount("principal_balance", self.principal_balance, allow_zero=True)
        validation.amount("fees_due", self.fees_due, allow_zero=True)
        validation.annual_rate("annual_rate", self.annual_rate)
        validation.date("as_of", self.as_of)
        accrued = self.accrued_interest
        if not isinstance(accrued, Decimal) or not accrued.is_finite() or accrued < 0:
            raise InvalidTerms("accrued_interest", f"must be a Decimal of zero or more: {accrued!r}")
        if accrued != accrued.quantize(ACCRUAL_QUANTUM):
            raise InvalidTerms("accrued_interest", f"has more than 10 decimals: {accrued}")

    @classmethod
    def opened(
        cls, principal: Decimal | int | str, annual_rate: Decimal | int | str, on: dt.date
    ) -> LoanState:
        """A new loan: the full principal owed, nothing accrued, from the funding date."""
        return cls(
            principal_balance=validation.principal("principal", principal),
            accrued_interest=Decimal("0E-10"),
            fees_due=ZERO,
            as_of=validation.date("on", on),
            annual_rate=validation.annual_rate("annual_rate", annual_rate),
        )


@dataclass(frozen=True)
class Allocation:
    """How one payment was split. ``to_fees + to_interest + to_principal + excess`` is the payment."""

    to_fees: Decimal
    to_interest: Decimal
    to_principal: Decimal
    excess: Decimal

    @property
    def applied(self) -> Decimal:
        """The part of the payment applied to the loan."""
        return self.to_fees + self.to_interest + self.to_principal


def daily_interest(principal_balance: Decimal, annual_rate: Decimal) -> Decimal:
    """One day's interest: ``principal * rate / 100 / 365``, half-up to 1e-10 dollar."""
    return (principal_balance * annual_rate / (100 * DAYS_PER_YEAR)).quantize(
        ACCRUAL_QUANTUM, rounding=ROUND_HALF_UP
    )


def accrue(state: LoanState, to_date: dt.date) -> LoanState:
    """The state with interest accrued through ``to_date`` (actual days, leap days included)."""
    target = validation.date("to_date", to_date)
    days = (target - state.as_of).days
    if days < 0:
        raise BackdatedPayment("to_date", f"{target} is before the loan state's date {state.as_of}")
    interest = daily_interest(state.principal_balance, state.annual_rate) * days
    return replace(state, accrued_interest=state.accrued_interest + interest, as_of=target)


def payoff_amount(state: LoanState, on_date: dt.date) -> Decimal:
    """What pays the loan off on ``on_date``: fees, interest accrued to that day (to the cent), principal."""
    accrued = accrue(state, on_date)
    return accrued.fees_due + money(accrued.accrued_interest) + accrued.principal_balance


def apply_payment(
    state: LoanState, amount: Decimal | int | str, on_date: dt.date
) -> tuple[LoanState, Allocation]:
    """Apply a payment received on ``on_date``: fees, then interest, then principal.

    Returns the new state (as of ``on_date``) and the allocation. A payment above the payoff pays
    the loan off and reports the rest as ``excess``.

    Examples
    --------
    >>> state = LoanState.opened(Decimal("10000.00"), Decimal("9.00"), dt.date(2027, 1, 1))
    >>> after, split = apply_payment(state, Decimal("207.58"), dt.date(2027, 2, 1))
    >>> split.to_interest, split.to_principal, after.principal_balance
    (Decimal('76.44'), Decimal('131.14'), Decimal('9868.86'))
    """
    paid = validation.amount("amount", amount)
    day = validation.date("on_date", on_date)
    if day < state.as_of:
        raise BackdatedPayment("on_date", f"{day} is before the loan state's date {state.as_of}")
    current = accrue(state, day)
    interest_due = money(current.accrued_interest)

    to_fees = min(paid, current.fees_due)
    to_interest = min(paid - to_fees, interest_due)
    to_principal = min(paid - to_fees - to_interest, current.principal_balance)
    excess = paid - to_fees - to_interest - to_principal

    still_accrued = (
        Decimal("0E-10") if to_interest == interest_due else current.accrued_interest - to_interest
    )
    after = replace(
        current,
        fees_due=current.fees_due - to_fees,
        accrued_interest=still_accrued,
        principal_balance=current.principal_balance - to_principal,
    )
    return after, Allocation(
        to_fees=to_fees, to_interest=to_interest, to_principal=to_principal, excess=excess
    )


def assess_fee(state: LoanState, amount: Decimal | int | str) -> LoanState:
    """The state with a fee (e.g. a late charge) added to the fees due."""
    return replace(state, fees_due=state.fees_due + validation.amount("amount", amount))


def close_small_balance(
    state: LoanState, on_date: dt.date, tolerance: Decimal | int | str
) -> tuple[LoanState, Allocation | None]:
    """Write off what is owed on ``on_date`` when it is more than zero and at most ``tolerance``.

    Returns the state accrued to ``on_date`` (closed: nothing owed, when written off) and the parts
    written off as an :class:`Allocation` (``excess`` 0), or None when nothing was written off (the
    loan owes nothing, or more than the tolerance: that is billed, not forgiven).

    >>> state = LoanState(Decimal("3.10"), Decimal("0E-10"), Decimal("0.00"), dt.date(2027, 1, 1), Decimal("9.00"))
    >>> closed, parts = close_small_balance(state, dt.date(2027, 1, 31), Decimal("5.00"))
    >>> parts.to_principal, parts.to_interest, closed.principal_balance
    (Decimal('3.10'), Decimal('0.02'), Decimal('0.00'))
    >>> close_small_balance(state, dt.date(2027, 1, 31), Decimal("3.00"))[1] is None
    True
    """
    limit = validation.amount("tolerance", tolerance, allow_zero=True)
    current = accrue(state, validation.date("on_date", on_date))
    interest = money(current.accrued_interest)
    owed = current.fees_due + interest + current.principal_balance
    if owed <= 0 or owed > limit:
        return current, None
    closed = replace(current, principal_balance=ZERO, accrued_interest=Decimal("0E-10"), fees_due=ZERO)
    return closed, Allocation(
        to_fees=current.fees_due, to_interest=interest, to_principal=current.principal_balance, excess=ZERO
    )
