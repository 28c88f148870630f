"""The application's fixed lists: codes stored in the database, and the words people read.

Codes never change once stored (CHECK constraints name them); labels are translated for workers.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from loanapp.applications.states import Status

STATUS_LABELS: dict[str, Any] = {
    Status.SUBMITTED: _l("Submitted"),
    Status.IN_REVIEW: _l("In review"),
    Status.NEEDS_DOCUMENTS: _l("Needs documents"),
    Status.APPROVED: _l("Approved"),
    Status.COUNTER_OFFERED: _l("Counter-offer"),
    Status.DECLINED: _l("Declined"),
    Status.OFFER_ACCEPTED: _l("Offer accepted"),
    Status.OFFER_REFUSED: _l("Offer refused"),
    Status.BOOKED: _l("Loan booked"),
    Status.WITHDRAWN: _l("Withdrawn"),
}

EMPLOYMENT_STATUSES: dict[str, Any] = {
    "employed": _l("I work at a manufacturer now"),
    "job_offer": _l("I have a job offer"),
    "in_training": _l("I am in a training program"),
}
#: Short names for tables and reports.
EMPLOYMENT_STATUS_NAMES = {"employed": "Employed", "job_offer": "Job offer", "in_training": "In training"}

PAY_FREQUENCIES: dict[str, Any] = {
    "weekly": _l("Every week"),
    "biweekly": _l("Every two weeks"),
    "semimonthly": _l("Twice a month"),
    "monthly": _l("Once a month"),
}

SALE_TYPES: dict[str, Any] = {"dealer": _l("From a dealer"), "private": _l("From a private seller")}

TERMS = (24, 36, 48, 60, 72, 84)
DEFAULT_TERM_MONTHS = 48  # the first choice on /apply and on /estimate alike

DOCUMENT_KINDS: dict[str, Any] = {
    "pay_stub": _l("Pay stub"),
    "offer_letter": _l("Job offer letter"),
    "training_letter": _l("Training enrolment letter"),
    "other": _l("Other document"),
}
#: The document that proves each kind of employment.
EXPECTED_DOCUMENT = {"employed": "pay_stub", "job_offer": "offer_letter", "in_training": "training_letter"}

VERIFICATION_METHODS = {
    "employer_call": "Call to the employer",
    "employer_portal": "Employer portal or letter",
    "pay_stub": "Pay stub",
    "offer_letter": "Offer letter",
    "training_confirmation": "Training program confirmation",
}
VERIFICATION_OUTCOMES = {
    "verified": "Verified",
    "discrepancy": "Discrepancy",
    "unable": "Unable to verify",
}

DECISION_KINDS = {"approve": "Approve", "counter_offer": "Counter-offer", "decline": "Decline"}
DECISION_STATUS = {
    "approve": Status.APPROVED,
    "counter_offer": Status.COUNTER_OFFERED,
    "decline": Status.DECLINED,
}

#: Principal reasons for adverse action (Regulation B, 12 CFR 1002.9 and its model form C-1): a
#: declined applicant is told the specific reasons, chosen from this list.
ADVERSE_ACTION_REASONS: dict[str, Any] = {
    "insufficient_income": _l("Income insufficient for the amount of credit requested"),
    "excessive_obligations": _l("Excessive obligations in relation to income"),
    "unable_to_verify_employment": _l("Unable to verify employment"),
    "unable_to_verify_income": _l("Unable to verify income"),
    "length_of_employment": _l("Length of employment"),
    "temporary_employment": _l("Temporary or irregular employment"),
    "collateral_not_sufficient": _l("Value or type of collateral not sufficient"),
    "incomplete_application": _l("Incomplete application"),
    "delinquent_obligations": _l("Delinquent past or present credit obligations with others"),
    "unable_to_verify_identity": _l("Unable to verify identity"),
    "amount_above_program_limit": _l("Credit requested is more than the program lends"),
}


#: Why a counter-offer differs from the request, in the worker's words: the program rules the requested
#: terms broke and the offered terms keep (risk.underwriting.FlagCode values).
COUNTER_OFFER_WHY: dict[str, Any] = {
    "term_above_vehicle_limit": _l(
        "Because of the car's age and miles, the program can lend on it for fewer months."
    ),
    "amount_above_vehicle_limit": _l("Because of the car's age and miles, the program can lend less on it."),
    "ltv_above_maximum": _l(
        "The amount you asked for is more than the program lends against this car's price."
    ),
    "pti_above_maximum": _l("The payment you asked for would be too large a share of your income."),
    "dti_above_maximum": _l("With your other monthly debts, the payment you asked for would be too much."),
    "income_below_minimum": _l("Your income is below what the program asks for the amount you requested."),
}


def label(mapping: dict[str, Any], code: str | None) -> str:
    """The readable word for a code (the code itself when unknown, never an error on a page)."""
    if code is None:
        return ""
    return str(mapping.get(code, code))
