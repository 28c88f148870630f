"""What a valid application, verification and decision look like: typed inputs and their checks.

The web form (WTForms) and the API (marshmallow) only parse types; these functions hold the rules
both share, so a page and an API call refuse the same input with the same message. Each check
returns ``{field: [messages]}`` (empty when all is well); the operations raise it as
``InvalidApplication``. Worker-facing messages are translated; officer-facing ones are English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from loanapp.applications.vocabulary import (
    ADVERSE_ACTION_REASONS,
    DECISION_KINDS,
    DOCUMENT_KINDS,
    EMPLOYMENT_STATUSES,
    PAY_FREQUENCIES,
    SALE_TYPES,
    VERIFICATION_METHODS,
    VERIFICATION_OUTCOMES,
)
from loanapp.formatting import money as show_money
from loanapp.quotes.terms import ProgramLimits

Errors = dict[str, list[Any]]

MAX_HOURLY_WAGE = Decimal("200.00")
MAX_MONTHLY_FIGURE = Decimal("100000.00")
MIN_VEHICLE_PRICE = Decimal("500.00")
MAX_VEHICLE_PRICE = Decimal("150000.00")
MAX_MILEAGE = 500_000
OLDEST_VEHICLE_YEAR = 1990
US_STATE = re.compile(r"^[A-Z]{2}$")
ZIP_CODE = re.compile(r"^\d{5}(-\d{4})?$")


@dataclass(frozen=True)
class ApplicationInput:
    """An application as the worker filled it in, parsed to types (not yet checked)."""

    first_name: str
    last_name: str
    date_of_birth: date | None
    ssn_last4: str
    phone: str
    street: str
    city: str
    state: str
    postal_code: str
    household_size: int | None
    employment_status: str
    employer_id: int | None
    employer_other: str
    start_date: date | None
    offer_date: date | None
    hourly_wage: Decimal | None
    hours_per_week: Decimal | None
    pay_frequency: str | None
    training_program_id: int | None
    expected_completion: date | None
    monthly_income: Decimal | None
    monthly_debts: Decimal | None
    requested_amount: Decimal | None
    term_months: int | None
    vehicle_year: int | None
    vehicle_make: str
    vehicle_model: str
    vehicle_mileage: int | None
    vehicle_price: Decimal | None
    sale_type: str
    dealer_name: str
    down_payment: Decimal | None
    referral_partner_id: int | None
    consent: bool

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> ApplicationInput:
        """Build from parsed form or JSON data; strings are trimmed, missing optional values are None."""
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            value = data.get(name)
            if isinstance(value, str):
                value = value.strip()
            values[name] = value
        for name in (
            "first_name",
            "last_name",
            "ssn_last4",
            "phone",
            "street",
            "city",
            "state",
            "postal_code",
            "employment_status",
            "employer_other",
            "vehicle_make",
            "vehicle_model",
            "sale_type",
            "dealer_name",
        ):
            values[name] = values[name] or ""
        values["state"] = values["state"].upper()
        values["pay_frequency"] = values["pay_frequency"] or None
        values["consent"] = bool(values["consent"])
        return cls(**values)


@dataclass(frozen=True)
class Lists:
    """Ids that exist in the managed lists (employers, training programs, referral partners)."""

    employers: frozenset[int]
    training_programs: frozenset[int]
    referral_partners: frozenset[int]


def digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def normal_phone(text: str) -> str:
    """Ten digits (a leading US country code 1 is dropped), or "" when it is not a US number."""
    number = digits(text)
    if len(number) == 11 and number.startswith("1"):
        number = number[1:]
    return number if len(number) == 10 else ""


def _years_between(earlier: date, later: date) -> int:
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


def _add(errors: Errors, name: str, message: Any) -> None:
    errors.setdefault(name, []).append(message)


def _required(errors: Errors, data: ApplicationInput, *names: str) -> None:
    for name in names:
        value = getattr(data, name)
        if value is None or value == "":
            _add(errors, name, _l("This is required."))


def _between(
    errors: Errors, name: str, value: Decimal | int | None, low: Decimal | int, high: Decimal | int, what: Any
) -> None:
    if value is not None and not low <= value <= high:
        _add(errors, name, what)


def check_application(data: ApplicationInput, *, today: date, limits: ProgramLimits, lists: Lists) -> Errors:
    """Every rule of a complete application; ``{}`` when it can be submitted."""
    errors: Errors = {}
    _required(
        errors,
        data,
        "first_name",
        "last_name",
        "date_of_birth",
        "ssn_last4",
        "phone",
        "street",
        "city",
        "state",
        "postal_code",
        "household_size",
        "employment_status",
        "monthly_income",
        "monthly_debts",
        "requested_amount",
        "term_months",
        "vehicle_year",
        "vehicle_make",
        "vehicle_model",
        "vehicle_mileage",
        "vehicle_price",
        "sale_type",
        "down_payment",
    )
    if data.date_of_birth is not None:
        age = _years_between(data.date_of_birth, today)
        if age < 18:
            _add(errors, "date_of_birth", _l("You must be at least 18 years old to borrow."))
        elif age > 110:
            _add(errors, "date_of_birth", _l("Check the year of your date of birth."))
    if data.ssn_last4:
        if len(digits(data.ssn_last4)) > 4:
            # Never keep more than four digits, even by mistake.
            _add(errors, "ssn_last4", _l("Enter only the last 4 digits of your Social Security number."))
        elif not re.fullmatch(r"\d{4}", data.ssn_last4):
            _add(errors, "ssn_last4", _l("Enter 4 digits."))
    if data.phone and not normal_phone(data.phone):
        _add(errors, "phone", _l("Enter a 10-digit phone number, like 315-555-0123."))
    if data.state and not US_STATE.match(data.state):
        _add(errors, "state", _l("Enter the 2-letter state code, like NY."))
    if data.postal_code and not ZIP_CODE.match(data.postal_code):
        _add(errors, "postal_code", _l("Enter a 5-digit ZIP code."))
    _between(
        errors, "household_size", data.household_size, 1, 20, _l("Enter a number of people from 1 to 20.")
    )
    _check_employment(errors, data, today, lists)
    for name in ("monthly_income", "monthly_debts"):
        _between(
            errors,
            name,
            getattr(data, name),
            Decimal(0),
            MAX_MONTHLY_FIGURE,
            _l("Enter an amount from $0 to %(high)s.", high=show_money(MAX_MONTHLY_FIGURE)),
        )
    _check_loan_and_vehicle(errors, data, today, limits)
    if data.referral_partner_id is not None and data.referral_partner_id not in lists.referral_partners:
        _add(errors, "referral_partner_id", _l("Choose an organisation from the list."))
    if not data.consent:
        _add(errors, "consent", _l("We need your permission to check your job and income."))
    return errors


def _check_employment(errors: Errors, data: ApplicationInput, today: date, lists: Lists) -> None:
    status = data.employment_status
    if status and status not in EMPLOYMENT_STATUSES:
        _add(errors, "employment_status", _l("Choose one of the options."))
        return
    if data.employer_id is not None and data.employer_id not in lists.employers:
        _add(errors, "employer_id", _l("Choose an employer from the list."))
    has_employer = data.employer_id is not None or bool(data.employer_other)
    if status in ("employed", "job_offer") and not has_employer:
        _add(errors, "employer_id", _l("Choose your employer, or type its name under “Other employer”."))
    if status == "employed":
        _required(errors, data, "start_date", "hourly_wage", "hours_per_week", "pay_frequency")
        if data.start_date is not None and data.start_date > today:
            _add(errors, "start_date", _l("The date you started cannot be in the future."))
    elif status == "job_offer":
        _required(errors, data, "offer_date", "start_date", "hourly_wage")
        if data.offer_date is not None and data.offer_date > today:
            _add(errors, "offer_date", _l("The offer date cannot be in the future."))
        if data.offer_date and data.start_date and data.start_date < data.offer_date:
            _add(errors, "start_date", _l("The start date must be on or after the offer date."))
    elif status == "in_training":
        _required(errors, data, "training_program_id", "expected_completion")
        if data.training_program_id is not None and data.training_program_id not in lists.training_programs:
            _add(errors, "training_program_id", _l("Choose a training program from the list."))
        if data.expected_completion is not None and not (
            today - timedelta(days=366) <= data.expected_completion <= today + timedelta(days=2 * 366)
        ):
            _add(
                errors,
                "expected_completion",
                _l("Enter a date within a year before or two years after today."),
            )
    if data.start_date is not None and data.start_date < today - timedelta(days=366 * 60):
        _add(errors, "start_date", _l("Check the year of the start date."))
    _between(
        errors,
        "hourly_wage",
        data.hourly_wage,
        Decimal("0.01"),
        MAX_HOURLY_WAGE,
        _l("Enter an hourly wage from $0.01 to %(high)s.", high=show_money(MAX_HOURLY_WAGE)),
    )
    _between(
        errors, "hours_per_week", data.hours_per_week, Decimal("1"), Decimal("80"), _l("Enter 1 to 80 hours.")
    )
    if data.pay_frequency is not None and data.pay_frequency not in PAY_FREQUENCIES:
        _add(errors, "pay_frequency", _l("Choose one of the options."))


def _check_loan_and_vehicle(
    errors: Errors, data: ApplicationInput, today: date, limits: ProgramLimits
) -> None:
    _between(
        errors,
        "requested_amount",
        data.requested_amount,
        limits.min_amount,
        limits.max_amount,
        _l(
            "The program lends from %(low)s to %(high)s.",
            low=show_money(limits.min_amount),
            high=show_money(limits.max_amount),
        ),
    )
    _between(
        errors,
        "term_months",
        data.term_months,
        limits.min_term_months,
        limits.max_term_months,
        _l(
            "Choose from %(low)d to %(high)d months.", low=limits.min_term_months, high=limits.max_term_months
        ),
    )
    _between(
        errors,
        "vehicle_year",
        data.vehicle_year,
        OLDEST_VEHICLE_YEAR,
        today.year + 1,
        _l("Enter a model year from %(low)d to %(high)d.", low=OLDEST_VEHICLE_YEAR, high=today.year + 1),
    )
    _between(
        errors,
        "vehicle_mileage",
        data.vehicle_mileage,
        0,
        MAX_MILEAGE,
        _l("Enter the miles on the odometer, from 0 to 500,000."),
    )
    _between(
        errors,
        "vehicle_price",
        data.vehicle_price,
        MIN_VEHICLE_PRICE,
        MAX_VEHICLE_PRICE,
        _l(
            "Enter a price from %(low)s to %(high)s.",
            low=show_money(MIN_VEHICLE_PRICE),
            high=show_money(MAX_VEHICLE_PRICE),
        ),
    )
    if data.sale_type and data.sale_type not in SALE_TYPES:
        _add(errors, "sale_type", _l("Choose one of the options."))
    if data.sale_type == "dealer" and not data.dealer_name:
        _add(errors, "dealer_name", _l("Enter the dealer's name."))
    price, down, amount = data.vehicle_price, data.down_payment, data.requested_amount
    if down is not None and down < 0:
        _add(errors, "down_payment", _l("Enter $0 or more."))
    if price is not None and down is not None and down >= price:
        _add(errors, "down_payment", _l("The down payment must be less than the price of the vehicle."))
    if price is not None and amount is not None and amount > price:
        _add(errors, "requested_amount", _l("You cannot borrow more than the price of the vehicle."))


# --- officer inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationInput:
    method: str
    outcome: str
    verified_on: date | None
    employer_id: int | None = None
    start_date: date | None = None
    hourly_wage: Decimal | None = None
    hours_per_week: Decimal | None = None
    notes: str = ""


def check_verification(data: VerificationInput, *, today: date, valid_days: int, lists: Lists) -> Errors:
    errors: Errors = {}
    if data.method not in VERIFICATION_METHODS:
        _add(errors, "method", "Choose how employment was verified.")
    if data.outcome not in VERIFICATION_OUTCOMES:
        _add(errors, "outcome", "Choose the outcome.")
    if data.verified_on is None:
        _add(errors, "verified_on", "Enter the date of the verification.")
    elif data.verified_on > today:
        _add(errors, "verified_on", "The verification date cannot be in the future.")
    elif (today - data.verified_on).days > valid_days:
        _add(errors, "verified_on", f"A verification older than {valid_days} days has expired; verify again.")
    if data.employer_id is not None and data.employer_id not in lists.employers:
        _add(errors, "employer_id", "Choose an employer from the list (add it first if it is new).")
    if (
        data.outcome in ("verified", "discrepancy")
        and data.method != "training_confirmation"
        and data.employer_id is None
    ):
        _add(errors, "employer_id", "Choose the employer whose facts were verified.")
    if (data.hourly_wage is None) != (data.hours_per_week is None):
        name = "hours_per_week" if data.hours_per_week is None else "hourly_wage"
        _add(errors, name, "Enter both the wage and the hours (they give the monthly income), or neither.")
    if data.hourly_wage is not None and not Decimal("0.01") <= data.hourly_wage <= MAX_HOURLY_WAGE:
        _add(errors, "hourly_wage", "Enter an hourly wage from $0.01 to $200.00.")
    if data.hours_per_week is not None and not Decimal(1) <= data.hours_per_week <= Decimal(80):
        _add(errors, "hours_per_week", "Enter 1 to 80 hours.")
    if data.outcome == "unable" and not data.notes.strip():
        _add(errors, "notes", "Say what was tried when employment could not be verified.")
    if len(data.notes) > 2000:
        _add(errors, "notes", "Keep notes under 2,000 characters.")
    return errors


@dataclass(frozen=True)
class DecisionInput:
    kind: str
    amount: Decimal | None = None
    annual_rate: Decimal | None = None
    term_months: int | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""


def check_decision(
    data: DecisionInput, *, requested_amount: Decimal, requested_term: int, limits: ProgramLimits
) -> Errors:
    errors: Errors = {}
    if data.kind not in DECISION_KINDS:
        _add(errors, "kind", "Choose approve, counter-offer or decline.")
        return errors
    if len(data.note) > 2000:
        _add(errors, "note", "Keep the note under 2,000 characters.")
    if data.kind == "decline":
        if not data.reasons:
            _add(errors, "reasons", "Choose at least one principal reason (ECOA requires them).")
        unknown = [r for r in data.reasons if r not in ADVERSE_ACTION_REASONS]
        if unknown:
            _add(errors, "reasons", f"Unknown reasons: {', '.join(unknown)}.")
        if len(data.reasons) > 4:
            _add(errors, "reasons", "Give the principal reasons: at most four (Regulation B).")
        return errors
    if data.kind == "counter_offer":
        unknown = [r for r in data.reasons if r not in ADVERSE_ACTION_REASONS]
        if unknown:
            _add(errors, "reasons", f"Unknown reasons: {', '.join(unknown)}.")
        if len(data.reasons) > 4:
            _add(errors, "reasons", "Give the principal reasons: at most four (Regulation B).")
    for name in ("amount", "annual_rate", "term_months"):
        if getattr(data, name) is None:
            _add(errors, name, "This is required.")
    if errors:
        return errors
    assert data.amount is not None and data.annual_rate is not None and data.term_months is not None
    if not limits.min_amount <= data.amount <= limits.max_amount:
        _add(
            errors,
            "amount",
            f"The program lends from {show_money(limits.min_amount)} to {show_money(limits.max_amount)}.",
        )
    if not limits.min_rate <= data.annual_rate <= limits.max_rate:
        _add(errors, "annual_rate", f"Rates run from {limits.min_rate}% to {limits.max_rate}%.")
    if not limits.min_term_months <= data.term_months <= limits.max_term_months:
        _add(
            errors,
            "term_months",
            f"Terms run from {limits.min_term_months} to {limits.max_term_months} months.",
        )
    same_terms = data.amount == requested_amount and data.term_months == requested_term
    if data.kind == "approve" and not same_terms:
        _add(errors, "amount", "These terms differ from the request: make it a counter-offer.")
    if data.kind == "counter_offer" and same_terms:
        _add(errors, "amount", "A counter-offer changes the amount or the term the worker asked for.")
    return errors


def check_document_request(kinds: list[str], note: str) -> Errors:
    errors: Errors = {}
    if not kinds:
        _add(errors, "kinds", "Choose at least one document to ask for.")
    if any(kind not in DOCUMENT_KINDS for kind in kinds):
        _add(errors, "kinds", "Choose from the list.")
    if "other" in kinds and not note.strip():
        _add(errors, "note", "Say which other document is needed.")
    if len(note) > 1000:
        _add(errors, "note", "Keep the note under 1,000 characters.")
    return errors
