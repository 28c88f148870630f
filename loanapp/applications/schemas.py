"""JSON shapes of the applications API (marshmallow): what clients send and what they get back.

What a caller sees depends on who they are (the CTFd pattern of per-role field views): officers see
the verification records and the underwriting figures; the applicant sees their own application
without them. Types are parsed here; the rules (``applications.rules``) are the same as the pages'.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_dump, validate

from loanapp.access import request_user
from loanapp.api.fields import Money, Percent
from loanapp.applications.states import Status
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
from loanapp.quotes.schemas import InstallmentSchema

REQUIRED: dict[str, str | list[Any] | dict[Any, Any]] = {"required": "This is required."}


def _text(max_length: int, required: bool = False, **kwargs: Any) -> fields.String:
    return fields.String(
        required=required, validate=validate.Length(max=max_length), error_messages=REQUIRED, **kwargs
    )


class Hours(Percent):
    """Hours per week: a number with at most two decimals (37.5), dumped as a string."""


class NewApplicationSchema(Schema):
    """A worker's application. ``email`` and ``password`` create the worker's account; a worker's own
    bearer token replaces them. ``submission_key`` (or the ``Idempotency-Key`` header) makes a retry
    return the first application instead of creating a second."""

    first_name = _text(100, True)
    last_name = _text(100, True)
    date_of_birth = fields.Date(required=True, error_messages=REQUIRED)
    ssn_last4 = _text(4, True, metadata={"description": "The last four digits only; never the full number."})
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    password = fields.String(load_default=None, load_only=True, validate=validate.Length(max=200))
    phone = _text(30, True)
    street = _text(200, True)
    city = _text(100, True)
    state = _text(2, True)
    postal_code = _text(10, True)
    household_size = fields.Integer(required=True, strict=True, error_messages=REQUIRED)
    employment_status = fields.String(
        required=True, validate=validate.OneOf(list(EMPLOYMENT_STATUSES)), error_messages=REQUIRED
    )
    employer_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    employer_other = _text(200, load_default="")
    start_date = fields.Date(load_default=None, allow_none=True)
    offer_date = fields.Date(load_default=None, allow_none=True)
    hourly_wage = Money(load_default=None, allow_none=True)
    hours_per_week = Hours(load_default=None, allow_none=True)
    pay_frequency = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(list(PAY_FREQUENCIES))
    )
    training_program_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    expected_completion = fields.Date(load_default=None, allow_none=True)
    monthly_income = Money(required=True, allow_zero=True, error_messages=REQUIRED)
    monthly_debts = Money(required=True, allow_zero=True, error_messages=REQUIRED)
    requested_amount = Money(required=True, error_messages=REQUIRED)
    term_months = fields.Integer(required=True, strict=True, error_messages=REQUIRED)
    vehicle_year = fields.Integer(required=True, strict=True, error_messages=REQUIRED)
    vehicle_make = _text(60, True)
    vehicle_model = _text(60, True)
    vehicle_mileage = fields.Integer(required=True, strict=True, error_messages=REQUIRED)
    vehicle_price = Money(required=True, error_messages=REQUIRED)
    sale_type = fields.String(
        required=True, validate=validate.OneOf(list(SALE_TYPES)), error_messages=REQUIRED
    )
    dealer_name = _text(200, load_default="")
    down_payment = Money(allow_zero=True, load_default=None)
    referral_partner_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    consent = fields.Boolean(
        required=True,
        error_messages=REQUIRED,
        metadata={"description": "Consent to verification of employment and income; must be true."},
    )
    submission_key = fields.String(load_default=None, validate=validate.Length(min=8, max=64))
    language = fields.String(
        load_default=None,
        validate=validate.OneOf(["en", "es"]),
        metadata={"description": "Language of the worker's pages and messages (kept on the account)."},
    )
    notify_by = fields.List(
        fields.String(validate=validate.OneOf(["email", "sms"])),
        load_default=None,
        metadata={"description": "Channels for notices: email, sms or both (default email)."},
    )
    sms_consent = fields.Boolean(
        load_default=False,
        metadata={"description": "The worker agrees to texts at `phone` (required with sms in notify_by)."},
    )


class EmployerRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class DocumentSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(DOCUMENT_KINDS)})
    name = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    uploaded_at = fields.DateTime()
    url = fields.String(metadata={"description": "Download link (the applicant and officers only)."})


class ReasonSchema(Schema):
    code = fields.String(metadata={"enum": list(ADVERSE_ACTION_REASONS)})
    text = fields.String()


class FlagSchema(Schema):
    code = fields.String()
    message = fields.String()


class DecisionSchema(Schema):
    kind = fields.String(metadata={"enum": list(DECISION_KINDS)})
    decided_at = fields.DateTime()
    amount = Money(allow_none=True)
    annual_rate = Percent(allow_none=True)
    term_months = fields.Integer(allow_none=True)
    payment = Money(allow_none=True)
    reasons = fields.List(fields.Nested(ReasonSchema), metadata={"description": "Adverse-action reasons."})
    response = fields.String(allow_none=True, metadata={"enum": ["accepted", "refused"]})
    responded_at = fields.DateTime(allow_none=True)
    # Officer only:
    monthly_income = Money(allow_zero=True)
    income_source = fields.String()
    payment_to_income = Percent(allow_none=True)
    debt_to_income = Percent(allow_none=True)
    loan_to_value = Percent()
    flags = fields.List(fields.Nested(FlagSchema))
    note = fields.String()

    OFFICER_ONLY = (
        "monthly_income",
        "income_source",
        "payment_to_income",
        "debt_to_income",
        "loan_to_value",
        "flags",
        "note",
    )

    @post_dump
    def for_viewer(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if not _is_officer():
            for name in self.OFFICER_ONLY:
                data.pop(name, None)
        return data


class OfferSchema(Schema):
    """The offer's Truth-in-Lending figures, estimated as if signed today (booking fixes them)."""

    payment = Money()
    apr = Percent()
    finance_charge = Money(allow_zero=True)
    amount_financed = Money()
    total_of_payments = Money()
    payment_schedule = fields.String()
    schedule = fields.List(fields.Nested(InstallmentSchema))


class VerificationSchema(Schema):
    id = fields.Integer()
    method = fields.String(metadata={"enum": list(VERIFICATION_METHODS)})
    outcome = fields.String(metadata={"enum": list(VERIFICATION_OUTCOMES)})
    verified_on = fields.Date()
    verified_by = fields.Integer()
    recorded_at = fields.DateTime()
    employer = fields.Nested(EmployerRefSchema, allow_none=True)
    start_date = fields.Date(allow_none=True)
    hourly_wage = Money(allow_none=True)
    hours_per_week = Hours(allow_none=True)
    notes = fields.String()


class ApplicationSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    version = fields.Integer(metadata={"description": "Send it back with any change (optimistic locking)."})
    submitted_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    ssn_last4 = fields.String()
    date_of_birth = fields.Date()
    email = fields.String()
    phone = fields.String()
    street = fields.String()
    city = fields.String()
    state = fields.String()
    postal_code = fields.String()
    household_size = fields.Integer()
    employment_status = fields.String()
    employer = fields.Nested(EmployerRefSchema, allow_none=True)
    employer_other = fields.String()
    start_date = fields.Date(allow_none=True)
    offer_date = fields.Date(allow_none=True)
    hourly_wage = Money(allow_none=True)
    hours_per_week = Hours(allow_none=True)
    pay_frequency = fields.String(allow_none=True)
    training_program = fields.Nested(EmployerRefSchema, allow_none=True)
    expected_completion = fields.Date(allow_none=True)
    monthly_income = Money(allow_zero=True)
    monthly_debts = Money(allow_zero=True)
    requested_amount = Money()
    term_months = fields.Integer()
    vehicle_year = fields.Integer()
    vehicle_make = fields.String()
    vehicle_model = fields.String()
    vehicle_mileage = fields.Integer()
    vehicle_price = Money()
    sale_type = fields.String()
    dealer_name = fields.String()
    down_payment = Money(allow_zero=True)
    referral_partner = fields.Nested(EmployerRefSchema, allow_none=True)
    documents = fields.List(fields.Nested(DocumentSchema))
    missing_documents = fields.List(fields.String())
    documents_note = fields.String()
    decision = fields.Nested(DecisionSchema, allow_none=True)
    offer = fields.Nested(OfferSchema, allow_none=True)
    loan_id = fields.Integer(allow_none=True)
    verifications = fields.List(fields.Nested(VerificationSchema), metadata={"description": "Officers only."})

    @post_dump
    def for_viewer(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if not _is_officer():
            data.pop("verifications", None)
        return data


class ApplicationSummarySchema(Schema):
    id = fields.Integer()
    status = fields.String()
    version = fields.Integer()
    submitted_at = fields.DateTime()
    first_name = fields.String()
    last_name = fields.String()
    employment_status = fields.String()
    employer = fields.Nested(EmployerRefSchema, allow_none=True)
    employer_other = fields.String()
    training_program = fields.Nested(EmployerRefSchema, allow_none=True)
    requested_amount = Money()
    term_months = fields.Integer()


class ApplicationListSchema(Schema):
    items = fields.List(fields.Nested(ApplicationSummarySchema))
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()
    counts = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "Per status."}
    )


class ApplicationQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in Status]))
    employment_status = fields.String(load_default=None, validate=validate.OneOf(list(EMPLOYMENT_STATUSES)))
    employer_id = fields.Integer(load_default=None)
    training_program_id = fields.Integer(load_default=None)
    min_age_days = fields.Integer(load_default=None, validate=validate.Range(min=0, max=3650))
    sort = fields.String(
        load_default="oldest", validate=validate.OneOf(["oldest", "newest", "amount", "name"])
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class VersionedSchema(Schema):
    version = fields.Integer(
        required=True,
        strict=True,
        error_messages=REQUIRED,
        metadata={"description": "The application's version as you last read it."},
    )


class NewVerificationSchema(VersionedSchema):
    method = fields.String(
        required=True, validate=validate.OneOf(list(VERIFICATION_METHODS)), error_messages=REQUIRED
    )
    outcome = fields.String(
        required=True, validate=validate.OneOf(list(VERIFICATION_OUTCOMES)), error_messages=REQUIRED
    )
    verified_on = fields.Date(required=True, error_messages=REQUIRED)
    employer_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    start_date = fields.Date(load_default=None, allow_none=True)
    hourly_wage = Money(load_default=None, allow_none=True)
    hours_per_week = Hours(load_default=None, allow_none=True)
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


class NewDecisionSchema(VersionedSchema):
    decision = fields.String(
        required=True, validate=validate.OneOf(list(DECISION_KINDS)), error_messages=REQUIRED
    )
    amount = Money(load_default=None, allow_none=True)
    annual_rate = Percent(load_default=None, allow_none=True)
    term_months = fields.Integer(load_default=None, allow_none=True, strict=True)
    reasons = fields.List(
        fields.String(validate=validate.OneOf(list(ADVERSE_ACTION_REASONS))),
        load_default=list,
        metadata={
            "description": "Principal reasons for a decline (at least one); why a counter-offer differs."
        },
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class AcceptanceSchema(VersionedSchema):
    accept = fields.Boolean(
        required=True,
        error_messages=REQUIRED,
        metadata={"description": "true accepts the offer; false refuses it."},
    )


class BookingRequestSchema(VersionedSchema):
    contract_date = fields.Date(load_default=None, metadata={"description": "Defaults to today (New York)."})
    first_payment_date = fields.Date(
        load_default=None, metadata={"description": "Defaults to a month later."}
    )


def _is_officer() -> bool:
    user = request_user()
    return bool(getattr(user, "is_authenticated", False) and user.role == "officer")
