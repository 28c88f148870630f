"""Underwriting figures of a car-loan application and the program's eligibility flags.

Pure arithmetic on ``Decimal``: no web framework, no database. The app gathers the facts (stated
or verified), calls :func:`assess`, shows the result to the loan officer and stores it with the
decision.

The program's loan-loss reserve is why the credit union can say yes where a normal lender says
no, so the eligibility rules here **flag**; they never decline. The officer decides.

Conventions
-----------
* Ratios are percentages with two decimals, rounded half-up (``Decimal("18.25")`` is 18.25%).
* Monthly gross income from an hourly wage is ``wage x hours x 52 / 12``, rounded half-up to
  the cent: 52 weeks a year spread over 12 equal months, the usual convention for hourly pay.
* Debt-to-income counts the new car payment on top of the stated monthly debts.

Examples
--------
>>> monthly_income_from_wage(Decimal("12.50"), Decimal("40"))
Decimal('2166.67')
>>> ratio(Decimal("250.00"), Decimal("2166.67"))
Decimal('11.54')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from risk.amortization import level_payment
from risk.errors import InvalidTerms
from risk.money import D, money

PERCENT_PLACES = Decimal("0.01")
HUNDRED = Decimal(100)


class IncomeSource(StrEnum):
    """Where the monthly gross income used in underwriting came from."""

    VERIFIED = "verified"  # the employment verification's wage x hours
    STATED = "stated"  # the applicant's stated monthly income


class FlagCode(StrEnum):
    """Why an application falls outside a program rule (a flag for the officer, not a decline)."""

    NO_INCOME = "no_income"
    INCOME_BELOW_MINIMUM = "income_below_minimum"
    HOURS_BELOW_MINIMUM = "hours_below_minimum"
    PTI_ABOVE_MAXIMUM = "pti_above_maximum"
    DTI_ABOVE_MAXIMUM = "dti_above_maximum"
    LTV_ABOVE_MAXIMUM = "ltv_above_maximum"
    AMOUNT_ABOVE_VEHICLE_LIMIT = "amount_above_vehicle_limit"
    TERM_ABOVE_VEHICLE_LIMIT = "term_above_vehicle_limit"
    EMPLOYMENT_NOT_VERIFIED = "employment_not_verified"
    VERIFICATION_DISCREPANCY = "verification_discrepancy"


@dataclass(frozen=True)
class VehicleTier:
    """Loan limits for vehicles up to an age (model years) and a mileage.

    A vehicle falls in the first tier (tiers ordered from newest) whose age and mileage both
    cover it; a vehicle older or more driven than every tier gets the last tier's limits.
    """

    max_age_years: int
    max_mileage: int
    max_amount: Decimal
    max_term_months: int


#: Typical credit-union used-car limits: older, more driven cars get smaller, shorter loans.
DEFAULT_VEHICLE_TIERS: tuple[VehicleTier, ...] = (
    VehicleTier(4, 60_000, Decimal("25000.00"), 72),
    VehicleTier(8, 100_000, Decimal("18000.00"), 60),
    VehicleTier(12, 150_000, Decimal("12000.00"), 48),
    VehicleTier(99, 10_000_000, Decimal("8000.00"), 36),
)


@dataclass(frozen=True)
class UnderwritingRules:
    """The program's eligibility rules (configurable; see ``loanapp.config.Defaults``).

    Attributes
    ----------
    min_hours_per_week
        Fewer scheduled hours than this is flagged (part-time work is less steady).
    max_payment_to_income
        Highest car payment as a percentage of monthly gross income (non-prime norm: 15-20%).
    max_debt_to_income
        Highest total monthly debt, the new payment included, as a percentage of income.
    max_loan_to_value
        Highest loan amount as a percentage of the vehicle's price.
    min_monthly_income
        Lowest monthly gross income (non-prime norm: $1,500-2,000).
    vehicle_tiers
        Largest amount and longest term by vehicle age and mileage, newest tier first.
    """

    min_hours_per_week: Decimal = Decimal("20")
    max_payment_to_income: Decimal = Decimal("20.00")
    max_debt_to_income: Decimal = Decimal("50.00")
    max_loan_to_value: Decimal = Decimal("120.00")
    min_monthly_income: Decimal = Decimal("1500.00")
    vehicle_tiers: tuple[VehicleTier, ...] = DEFAULT_VEHICLE_TIERS

    def __post_init__(self) -> None:
        if not self.vehicle_tiers:
            raise ValueError("at least one vehicle tier is needed")


@dataclass(frozen=True)
class Facts:
    """What underwriting reads: the proposed terms and the applicant's (stated or verified) facts.

    ``verified_wage``/``verified_hours`` come from the latest employment verification (the caller
    passes them only when it verified or found a discrepancy) and, when both are known, override the
    stated income and hours. ``verification_outcome`` is that verification's outcome (``verified``,
    ``discrepancy``, ``unable``) or None when nothing was verified.
    """

    amount: Decimal
    annual_rate: Decimal
    term_months: int
    vehicle_price: Decimal
    vehicle_year: int
    vehicle_mileage: int
    application_year: int
    stated_monthly_income: Decimal
    monthly_debts: Decimal
    stated_hours: Decimal | None = None
    verified_wage: Decimal | None = None
    verified_hours: Decimal | None = None
    verification_outcome: str | None = None


@dataclass(frozen=True)
class Flag:
    code: FlagCode
    message: str


@dataclass(frozen=True)
class Underwriting:
    """The figures an officer sees and the decision stores.

    Ratios are percentages (two decimals) or None when income is zero.
    """

    monthly_income: Decimal
    income_source: IncomeSource
    hours_per_week: Decimal | None
    payment: Decimal
    payment_to_income: Decimal | None
    debt_to_income: Decimal | None
    loan_to_value: Decimal
    vehicle_tier: VehicleTier
    flags: tuple[Flag, ...] = field(default_factory=tuple)

    @property
    def flag_codes(self) -> tuple[str, ...]:
        return tuple(str(f.code) for f in self.flags)


def monthly_income_from_wage(hourly_wage: Decimal, hours_per_week: Decimal) -> Decimal:
    """Monthly gross income of an hourly job: wage x hours x 52 / 12, half-up to the cent.

    >>> monthly_income_from_wage(Decimal("11.00"), Decimal("37.5"))
    Decimal('1787.50')
    """
    wage, hours = D(hourly_wage), D(hours_per_week)
    if wage < 0 or hours < 0:
        raise InvalidTerms("hourly_wage", "wage and hours cannot be negative")
    return money(wage * hours * 52 / 12)


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part / whole`` as a percentage with two decimals (half-up); None when ``whole`` is zero."""
    whole = D(whole)
    if whole == 0:
        return None
    return (D(part) * HUNDRED / whole).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def vehicle_tier(
    vehicle_year: int, mileage: int, application_year: int, tiers: tuple[VehicleTier, ...]
) -> VehicleTier:
    """The limits that apply to a vehicle (see :class:`VehicleTier`).

    >>> vehicle_tier(2019, 80_000, 2026, DEFAULT_VEHICLE_TIERS).max_term_months
    60
    """
    age = max(0, application_year - vehicle_year)
    for tier in tiers:
        if age <= tier.max_age_years and mileage <= tier.max_mileage:
            return tier
    return tiers[-1]


def _income(facts: Facts) -> tuple[Decimal, IncomeSource, Decimal | None]:
    if facts.verified_wage is not None and facts.verified_hours is not None:
        return (
            monthly_income_from_wage(facts.verified_wage, facts.verified_hours),
            IncomeSource.VERIFIED,
            facts.verified_hours,
        )
    return money(facts.stated_monthly_income), IncomeSource.STATED, facts.stated_hours


def assess(facts: Facts, rules: UnderwritingRules | None = None) -> Underwriting:
    """Underwriting figures and flags of the proposed terms.

    Examples
    --------
    >>> result = assess(Facts(
    ...     amount=Decimal("9000.00"), annual_rate=Decimal("6.00"), term_months=48,
    ...     vehicle_price=Decimal("10000.00"), vehicle_year=2018, vehicle_mileage=70_000,
    ...     application_year=2026, stated_monthly_income=Decimal("1900.00"),
    ...     monthly_debts=Decimal("150.00"), verified_wage=Decimal("12.50"),
    ...     verified_hours=Decimal("40"), verification_outcome="verified"))
    >>> result.monthly_income, result.payment, result.payment_to_income, result.debt_to_income
    (Decimal('2166.67'), Decimal('211.37'), Decimal('9.76'), Decimal('16.68'))
    >>> result.loan_to_value, result.flag_codes
    (Decimal('90.00'), ())
    """
    rules = rules or UnderwritingRules()
    payment = level_payment(facts.amount, facts.annual_rate, facts.term_months)
    income, source, hours = _income(facts)
    pti = ratio(payment, income)
    dti = ratio(D(facts.monthly_debts) + payment, income)
    ltv = ratio(facts.amount, facts.vehicle_price)
    if ltv is None:
        raise InvalidTerms("vehicle_price", "must be more than zero")
    tier = vehicle_tier(
        facts.vehicle_year, facts.vehicle_mileage, facts.application_year, rules.vehicle_tiers
    )

    flags: list[Flag] = []
    if income == 0:
        flags.append(Flag(FlagCode.NO_INCOME, "No monthly income: the ratios cannot be computed."))
    elif income < rules.min_monthly_income:
        flags.append(
            Flag(
                FlagCode.INCOME_BELOW_MINIMUM,
                f"Monthly income ${income:,} is below the program's ${money(rules.min_monthly_income):,}.",
            )
        )
    if hours is not None and D(hours) < rules.min_hours_per_week:
        flags.append(
            Flag(
                FlagCode.HOURS_BELOW_MINIMUM,
                f"{D(hours):g} hours a week is below the program's minimum of {rules.min_hours_per_week:g}.",
            )
        )
    if pti is not None and pti > rules.max_payment_to_income:
        flags.append(
            Flag(
                FlagCode.PTI_ABOVE_MAXIMUM,
                f"Payment-to-income {pti}% is above the program's {rules.max_payment_to_income}%.",
            )
        )
    if dti is not None and dti > rules.max_debt_to_income:
        flags.append(
            Flag(
                FlagCode.DTI_ABOVE_MAXIMUM,
                f"Debt-to-income {dti}% is above the program's {rules.max_debt_to_income}%.",
            )
        )
    if ltv > rules.max_loan_to_value:
        flags.append(
            Flag(
                FlagCode.LTV_ABOVE_MAXIMUM,
                f"Loan-to-value {ltv}% is above the program's {rules.max_loan_to_value}%.",
            )
        )
    if D(facts.amount) > tier.max_amount:
        flags.append(
            Flag(
                FlagCode.AMOUNT_ABOVE_VEHICLE_LIMIT,
                f"${money(facts.amount):,} is above the ${money(tier.max_amount):,} limit for a "
                f"{facts.vehicle_year} vehicle with {facts.vehicle_mileage:,} miles.",
            )
        )
    if facts.term_months > tier.max_term_months:
        flags.append(
            Flag(
                FlagCode.TERM_ABOVE_VEHICLE_LIMIT,
                f"{facts.term_months} months is above the {tier.max_term_months}-month limit for a "
                f"{facts.vehicle_year} vehicle with {facts.vehicle_mileage:,} miles.",
            )
        )
    if facts.verification_outcome is None or facts.verification_outcome == "unable":
        flags.append(Flag(FlagCode.EMPLOYMENT_NOT_VERIFIED, "Employment is not verified."))
    elif facts.verification_outcome == "discrepancy":
        flags.append(
            Flag(
                FlagCode.VERIFICATION_DISCREPANCY,
                "The verification found a discrepancy with the stated facts; verified figures are used.",
            )
        )
    return Underwriting(
        monthly_income=income,
        income_source=source,
        hours_per_week=None if hours is None else D(hours),
        payment=payment,
        payment_to_income=pti,
        debt_to_income=dti,
        loan_to_value=ltv,
        vehicle_tier=tier,
        flags=tuple(flags),
    )
