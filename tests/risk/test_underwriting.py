from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from risk.amortization import level_payment
from risk.errors import InvalidTerms
from risk.underwriting import (
    DEFAULT_VEHICLE_TIERS,
    Facts,
    FlagCode,
    IncomeSource,
    UnderwritingRules,
    VehicleTier,
    assess,
    monthly_income_from_wage,
    ratio,
    vehicle_tier,
)

BASE = Facts(
    amount=Decimal("9000.00"),
    annual_rate=Decimal("6.00"),
    term_months=48,
    vehicle_price=Decimal("10000.00"),
    vehicle_year=2019,
    vehicle_mileage=70_000,
    application_year=2026,
    stated_monthly_income=Decimal("2000.00"),
    monthly_debts=Decimal("150.00"),
    stated_hours=Decimal("40"),
    verification_outcome="verified",
)


def test_monthly_income_is_wage_times_hours_times_52_over_12_rounded_half_up() -> None:
    assert monthly_income_from_wage(Decimal("12.50"), Decimal("40")) == Decimal("2166.67")
    assert monthly_income_from_wage(Decimal("9.50"), Decimal("30")) == Decimal("1235.00")
    # 10.00 x 1 x 52 / 12 = 43.3333...
    assert monthly_income_from_wage(Decimal("10.00"), Decimal("1")) == Decimal("43.33")


def test_monthly_income_refuses_negative_figures() -> None:
    with pytest.raises(InvalidTerms):
        monthly_income_from_wage(Decimal("-1"), Decimal("40"))


def test_ratio_is_a_percentage_with_two_decimals_half_up() -> None:
    assert ratio(Decimal("1"), Decimal("8")) == Decimal("12.50")
    assert ratio(Decimal("1"), Decimal("3")) == Decimal("33.33")
    assert ratio(Decimal("2"), Decimal("3")) == Decimal("66.67")
    assert ratio(Decimal("1"), Decimal("0")) is None


def test_verified_wage_and_hours_override_the_stated_income() -> None:
    result = assess(replace(BASE, verified_wage=Decimal("12.50"), verified_hours=Decimal("40")))
    assert result.income_source is IncomeSource.VERIFIED
    assert result.monthly_income == Decimal("2166.67")
    assert result.hours_per_week == Decimal("40")


def test_stated_income_is_used_until_something_is_verified() -> None:
    result = assess(BASE)
    assert result.income_source is IncomeSource.STATED
    assert result.monthly_income == Decimal("2000.00")


def test_ratios_use_the_level_payment_of_the_proposed_terms() -> None:
    result = assess(BASE)
    payment = level_payment(Decimal("9000.00"), Decimal("6.00"), 48)
    assert result.payment == payment
    assert result.payment_to_income == ratio(payment, Decimal("2000.00"))
    assert result.debt_to_income == ratio(payment + Decimal("150.00"), Decimal("2000.00"))
    assert result.loan_to_value == Decimal("90.00")
    assert result.flags == ()


def test_rules_flag_rather_than_decline() -> None:
    result = assess(
        replace(
            BASE,
            amount=Decimal("15000.00"),
            term_months=72,
            vehicle_price=Decimal("11000.00"),
            stated_monthly_income=Decimal("1200.00"),
            monthly_debts=Decimal("500.00"),
            stated_hours=Decimal("16"),
            verification_outcome=None,
        )
    )
    assert set(result.flag_codes) == {
        FlagCode.INCOME_BELOW_MINIMUM,
        FlagCode.HOURS_BELOW_MINIMUM,
        FlagCode.PTI_ABOVE_MAXIMUM,
        FlagCode.DTI_ABOVE_MAXIMUM,
        FlagCode.LTV_ABOVE_MAXIMUM,
        FlagCode.TERM_ABOVE_VEHICLE_LIMIT,
        FlagCode.EMPLOYMENT_NOT_VERIFIED,
    }
    assert all(flag.message for flag in result.flags)


def test_limits_are_configurable() -> None:
    strict = UnderwritingRules(max_payment_to_income=Decimal("5.00"))
    assert FlagCode.PTI_ABOVE_MAXIMUM in assess(BASE, strict).flag_codes
    assert FlagCode.PTI_ABOVE_MAXIMUM not in assess(BASE).flag_codes


def test_zero_income_is_flagged_and_leaves_ratios_empty() -> None:
    result = assess(replace(BASE, stated_monthly_income=Decimal("0")))
    assert result.payment_to_income is None and result.debt_to_income is None
    assert FlagCode.NO_INCOME in result.flag_codes


def test_discrepancy_is_flagged_and_unable_counts_as_not_verified() -> None:
    assert (
        FlagCode.VERIFICATION_DISCREPANCY
        in assess(replace(BASE, verification_outcome="discrepancy")).flag_codes
    )
    assert FlagCode.EMPLOYMENT_NOT_VERIFIED in assess(replace(BASE, verification_outcome="unable")).flag_codes


@pytest.mark.parametrize(
    ("year", "mileage", "max_amount", "max_term"),
    [
        (2025, 20_000, "25000.00", 72),
        (2022, 61_000, "18000.00", 60),  # new enough, but too many miles for the first tier
        (2016, 90_000, "12000.00", 48),
        (2005, 220_000, "8000.00", 36),
    ],
)
def test_vehicle_age_and_mileage_pick_the_limits(
    year: int, mileage: int, max_amount: str, max_term: int
) -> None:
    tier = vehicle_tier(year, mileage, 2026, DEFAULT_VEHICLE_TIERS)
    assert (tier.max_amount, tier.max_term_months) == (Decimal(max_amount), max_term)


def test_a_vehicle_beyond_every_tier_gets_the_last_tier() -> None:
    tiers = (VehicleTier(5, 50_000, Decimal("20000"), 60),)
    assert vehicle_tier(1990, 500_000, 2026, tiers) == tiers[0]


def test_amount_above_the_vehicle_limit_is_flagged() -> None:
    result = assess(replace(BASE, vehicle_year=2008, vehicle_mileage=180_000, term_months=36))
    assert FlagCode.AMOUNT_ABOVE_VEHICLE_LIMIT in result.flag_codes


def test_rules_need_at_least_one_vehicle_tier() -> None:
    with pytest.raises(ValueError):
        UnderwritingRules(vehicle_tiers=())


@given(
    wage=st.decimals(min_value=Decimal("7.00"), max_value=Decimal("60.00"), places=2),
    hours=st.integers(min_value=1, max_value=80),
)
def test_income_from_wage_is_exact_cents_and_close_to_the_true_value(wage: Decimal, hours: int) -> None:
    income = monthly_income_from_wage(wage, Decimal(hours))
    assert income == income.quantize(Decimal("0.01"))
    assert abs(income - wage * hours * 52 / 12) <= Decimal("0.005")
