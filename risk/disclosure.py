"""Truth-in-Lending figures of a closed-end car loan (12 CFR 1026.18), from its terms.

The principal is the note amount: the sum on which interest accrues and which the schedule
amortises. A prepaid finance charge (a loan fee paid at closing or withheld from the proceeds) is
part of the finance charge, so the amount financed is the principal less that charge, and the
finance charge is the total of payments less the amount financed.

The schedule starts on the contract date: an odd first period (first payment not one calendar
month after the contract date) earns its whole months at the monthly rate plus its odd days at the
daily rate the credit union accrues (``risk.amortization``, module docstring), so the finance charge
includes the odd days' interest that servicing collects, and the level payment is set so that the
last payment stays close to the others.

Terms whose disclosed APR would exceed the federal credit union ceiling (18%, inclusive of finance
charges, 12 CFR 701.21(c)(7)) are refused with :class:`~risk.errors.AprAboveCeiling`, naming the
prepaid finance charge when there is one: $1,000 at 18% for 12 months with a $500 fee would
disclose 104.35%. A first payment on Feb 28/29 after a contract on the 29th-31st keeps the
contract's day for the later due dates (``risk.amortization.due_day``), so the first period is a
month to Appendix J as it is to the schedule, and an 18% loan discloses at most 18.00%.

The APR is the Appendix J actuarial rate (``risk.apr``) of the amount financed advanced on the
contract date against the scheduled payments. A fee-free loan's APR is then the note rate, up to
how Appendix J measures an odd first period (its whole months compound, its odd days are 1/360
year): for first periods of 15 to 75 days and terms of 12 to 120 months at rates up to 18%, within
0.09 point below it, give or take the payments' cent rounding (at most 0.02 point, at $500;
tests/risk/test_first_period.py). A first period of one calendar month gives the schedule
without a contract date, to the cent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from risk import validation
from risk.amortization import Installment, schedule
from risk.apr import annual_percentage_rate
from risk.dates import add_months
from risk.errors import AprAboveCeiling, InvalidTerms

#: The APR is disclosed to two decimals, the customary precision (1026.22 allows any that is
#: accurate to 1/8 point); rounded half-up.
DISCLOSED_APR_PLACES = Decimal("0.01")
#: Latest first payment, in months after the contract date: later is a typo, not a car loan.
MAX_FIRST_PERIOD_MONTHS = 3


class PaymentGroup(NamedTuple):
    """A run of consecutive equal monthly payments, as the disclosure's payment schedule lists it."""

    number_of_payments: int
    amount: Decimal
    first_due_date: dt.date

    def describe(self) -> str:
        """E.g. ``59 payments of $212.27 monthly beginning 2027-01-15``."""
        if self.number_of_payments == 1:
            return f"1 payment of ${self.amount:,} on {self.first_due_date.isoformat()}"
        return f"{self.number_of_payments} payments of ${self.amount:,} monthly beginning {self.first_due_date.isoformat()}"


@dataclass(frozen=True)
class TruthInLending:
    """The federal box of a closed-end loan disclosure, and what it was computed from.

    Attributes
    ----------
    principal
        The note amount (interest accrues on it).
    prepaid_finance_charge
        Finance charge paid at closing or withheld from the proceeds.
    amount_financed
        ``principal - prepaid_finance_charge``.
    total_of_payments
        Sum of all scheduled payments.
    finance_charge
        ``total_of_payments - amount_financed``.
    annual_percentage_rate
        The disclosed APR in percent, rounded half-up to two decimals.
    annual_percentage_rate_exact
        The actuarial APR before rounding (8 decimals).
    note_rate
        The contract interest rate in percent.
    payment_groups
        The payment schedule as runs of equal payments.
    schedule
        Every installment.
    """

    principal: Decimal
    prepaid_finance_charge: Decimal
    amount_financed: Decimal
    total_of_payments: Decimal
    finance_charge: Decimal
    annual_percentage_rate: Decimal
    annual_percentage_rate_exact: Decimal
    note_rate: Decimal
    payment_groups: tuple[PaymentGroup, ...]
    schedule: tuple[Installment, ...]

    @property
    def payment_summary(self) -> str:
        """The payment schedule in one line, e.g. ``59 payments of $212.27 monthly beginning ...``."""
        return ", ".join(group.describe() for group in self.payment_groups)


def group_payments(installments: list[Installment] | tuple[Installment, ...]) -> tuple[PaymentGroup, ...]:
    """Runs of consecutive equal payments (installments must carry due dates)."""
    groups: list[PaymentGroup] = []
    for row in installments:
        if row.due_date is None:
            raise InvalidTerms("first_payment_date", "a payment schedule needs due dates")
        if groups and groups[-1].amount == row.payment:
            groups[-1] = groups[-1]._replace(number_of_payments=groups[-1].number_of_payments + 1)
        else:
            groups.append(PaymentGroup(1, row.payment, row.due_date))
    return tuple(groups)


def truth_in_lending(
    principal: Decimal | int | str,
    annual_rate: Decimal | int | str,
    term_months: int,
    contract_date: dt.date,
    first_payment_date: dt.date,
    prepaid_finance_charge: Decimal | int | str = Decimal("0"),
) -> TruthInLending:
    """Truth-in-Lending disclosure figures of a level-payment monthly loan.

    Examples
    --------
    >>> tila = truth_in_lending(Decimal("10000.00"), Decimal("9.00"), 60, dt.date(2026, 12, 15), dt.date(2027, 1, 15))
    >>> tila.amount_financed, tila.finance_charge, tila.total_of_payments, tila.annual_percentage_rate
    (Decimal('10000.00'), Decimal('2455.05'), Decimal('12455.05'), Decimal('9.00'))
    >>> tila.payment_summary
    '59 payments of $207.58 monthly beginning 2027-01-15, 1 payment of $207.83 on 2031-12-15'

    Booked mid-month with the first payment on the 1st, 48 days later (1 month and 17 odd days,
    $75.00 + 17 x $2.4657534247 of interest):

    >>> tila = truth_in_lending(Decimal("10000.00"), Decimal("9.00"), 60, dt.date(2026, 12, 15), dt.date(2027, 2, 1))
    >>> tila.schedule[0].interest, tila.finance_charge, tila.annual_percentage_rate
    (Decimal('116.92'), Decimal('2506.77'), Decimal('9.00'))
    >>> tila.payment_summary
    '59 payments of $208.45 monthly beginning 2027-02-01, 1 payment of $208.22 on 2032-01-01'
    """
    amount = validation.principal("principal", principal)
    rate = validation.annual_rate("annual_rate", annual_rate)
    contract = validation.date("contract_date", contract_date)
    first = validation.date("first_payment_date", first_payment_date)
    prepaid = validation.amount("prepaid_finance_charge", prepaid_finance_charge, allow_zero=True)
    if first <= contract:
        raise InvalidTerms("first_payment_date", "must be after the contract date")
    if first > add_months(contract, MAX_FIRST_PERIOD_MONTHS):
        raise InvalidTerms(
            "first_payment_date", f"must be within {MAX_FIRST_PERIOD_MONTHS} months of the contract date"
        )
    if prepaid >= amount:
        raise InvalidTerms("prepaid_finance_charge", "must be less than the principal")

    rows = tuple(schedule(amount, rate, term_months, first, contract_date=contract))
    amount_financed = amount - prepaid
    total = sum((row.payment for row in rows), Decimal("0.00"))
    exact_apr = annual_percentage_rate(
        amount_financed, contract, [(row.due_date, row.payment) for row in rows if row.due_date is not None]
    )
    disclosed_apr = exact_apr.quantize(DISCLOSED_APR_PLACES, rounding=ROUND_HALF_UP)
    if disclosed_apr > validation.MAX_APR:
        # A fee is what takes an APR above a note rate within the ceiling, so name it when there is
        # one; without a fee the schedule's rules keep the APR at or below the note rate.
        field = "prepaid_finance_charge" if prepaid > 0 else "annual_rate"
        raise AprAboveCeiling(
            field,
            f"the APR would be {disclosed_apr}%, above the {validation.MAX_APR}% ceiling "
            "(12 CFR 701.21(c)(7), inclusive of finance charges)",
            apr=disclosed_apr,
            ceiling=validation.MAX_APR,
        )
    return TruthInLending(
        principal=amount,
        prepaid_finance_charge=prepaid,
        amount_financed=amount_financed,
        total_of_payments=total,
        finance_charge=total - amount_financed,
        annual_percentage_rate=disclosed_apr,
        annual_percentage_rate_exact=exact_apr,
        note_rate=rate,
        payment_groups=group_payments(rows),
        schedule=rows,
    )
