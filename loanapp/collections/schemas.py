"""JSON shapes of the collections API (field names are the issue's contract)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from loanapp.api.fields import Money
from loanapp.collections.models import CHANNELS, DIRECTIONS, OUTCOMES, PLAN_KINDS
from loanapp.collections.queries import REASONS, SORTS

REQUIRED = {"required": "This is required."}


class WorklistQuerySchema(Schema):
    reason = fields.String(load_default=None, validate=validate.OneOf(REASONS))
    bucket = fields.String(load_default=None)
    assigned = fields.String(
        load_default=None,
        metadata={
            "description": "'me', 'unassigned' or an officer's user id; all officers' loans when absent."
        },
    )
    q = fields.String(
        load_default="",
        validate=validate.Length(max=100),
        metadata={"description": "Name, loan number or phone."},
    )
    sort = fields.String(load_default="days_past_due", validate=validate.OneOf(SORTS))
    order = fields.String(load_default="desc", validate=validate.OneOf(("asc", "desc")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))


class PromiseOutSchema(Schema):
    id = fields.Integer()
    loan_id = fields.Integer()
    amount = Money()
    promised_on = fields.Date()
    made_on = fields.Date()
    note = fields.String()
    paid = Money(allow_zero=True, metadata={"description": "Standing payments counted towards it."})
    status = fields.String(metadata={"enum": ["open", "kept", "broken"]})
    kept_on = fields.Date(allow_none=True)
    grace_until = fields.Date()


class WorklistItemSchema(Schema):
    loan_id = fields.Integer()
    borrower_name = fields.String()
    phone = fields.String()
    phone_link = fields.String(metadata={"description": "tel: URI (tap to call)."})
    language = fields.String(metadata={"enum": ["en", "es"]})
    days_past_due = fields.Integer()
    bucket = fields.String()
    amount_to_catch_up = Money(allow_zero=True)
    last_contact_at = fields.DateTime(allow_none=True)
    last_outcome = fields.String(allow_none=True)
    next_action_on = fields.Date(allow_none=True)
    assigned_to = fields.Integer(allow_none=True)
    assigned_name = fields.String(allow_none=True)
    reasons = fields.List(fields.String(metadata={"enum": list(REASONS)}))
    promise = fields.Nested(PromiseOutSchema, allow_none=True)
    plan_resumes_on = fields.Date(allow_none=True)


class WorklistSchema(Schema):
    as_of = fields.Date()
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    items = fields.List(fields.Nested(WorklistItemSchema))


class NewContactSchema(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS), error_messages=REQUIRED)
    direction = fields.String(load_default="outbound", validate=validate.OneOf(DIRECTIONS))
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES), error_messages=REQUIRED)
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    next_action_on = fields.Date(load_default=None, allow_none=True)


class ContactSchema(Schema):
    id = fields.Integer()
    loan_id = fields.Integer()
    channel = fields.String()
    direction = fields.String()
    outcome = fields.String()
    note = fields.String()
    next_action_on = fields.Date(allow_none=True)
    contacted_on = fields.Date()
    contacted_at = fields.DateTime()
    recorded_by = fields.Integer()
    recorded_by_name = fields.String()


class NewPromiseSchema(Schema):
    amount = Money(required=True, error_messages=REQUIRED, metadata={"example": "215.40"})
    promised_on = fields.Date(required=True, error_messages=REQUIRED)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class AssignSchema(Schema):
    officer_id = fields.Integer(required=True, allow_none=True, error_messages=REQUIRED)


class AssignedSchema(Schema):
    loan_id = fields.Integer()
    assigned_to = fields.Integer(allow_none=True)
    assigned_at = fields.DateTime(allow_none=True)


class PlanRequestSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(PLAN_KINDS), error_messages=REQUIRED)
    effective_on = fields.Date(load_default=None, metadata={"description": "Defaults to today."})
    installments = fields.Integer(load_default=None, allow_none=True, metadata={"description": "deferral"})
    due_day = fields.Integer(load_default=None, allow_none=True, metadata={"description": "due_day: 1-28"})
    term_months = fields.Integer(
        load_default=None, allow_none=True, metadata={"description": "reamortize: new number of payments"}
    )
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class PlanLineSchema(Schema):
    number = fields.Integer()
    due_date = fields.Date()
    payment = Money(metadata={"description": "The installment."})
    to_pay = Money(
        allow_zero=True, metadata={"description": "Still to pay of it (less what was paid before)."}
    )
    interest = Money(allow_zero=True)
    principal = Money(allow_zero=True)
    balance = Money(allow_zero=True)


class PlanFiguresSchema(Schema):
    payment = Money(allow_zero=True)
    next_due_date = fields.Date(allow_none=True)
    maturity_date = fields.Date(allow_none=True)
    payments_left = fields.Integer()
    total_of_payments = Money(allow_zero=True, metadata={"description": "Still to pay, projected."})
    interest = Money(allow_zero=True, metadata={"description": "Interest still to pay, projected."})
    days_past_due = fields.Integer()


class PlanPreviewSchema(Schema):
    kind = fields.String()
    effective_on = fields.Date()
    installments = fields.Integer(allow_none=True)
    due_day = fields.Integer(allow_none=True)
    term_months = fields.Integer(allow_none=True)
    before = fields.Nested(PlanFiguresSchema)
    after = fields.Nested(PlanFiguresSchema)
    lines = fields.List(
        fields.Nested(PlanLineSchema), metadata={"description": "The schedule after the plan."}
    )


class PlanSchema(PlanPreviewSchema):
    id = fields.Integer()
    loan_id = fields.Integer()
    reason = fields.String()
    resumes_on = fields.Date(allow_none=True)
    recorded_by = fields.Integer()
    recorded_at = fields.DateTime()


class CollateralInSchema(Schema):
    vin = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    title_status = fields.String(
        required=True,
        error_messages=REQUIRED,
        metadata={"enum": ["lien_requested", "lien_recorded", "title_held", "lien_released"]},
    )
    lien_recorded_on = fields.Date(load_default=None, allow_none=True)


class CollateralSchema(Schema):
    loan_id = fields.Integer()
    vin = fields.String(allow_none=True)
    vehicle_year = fields.Integer()
    vehicle_make = fields.String()
    vehicle_model = fields.String()
    title_status = fields.String()
    lien_recorded_on = fields.Date(allow_none=True)
    lien_released_on = fields.Date(allow_none=True)


class InsuranceInSchema(Schema):
    carrier = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=120))
    policy_number = fields.String(
        required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=60)
    )
    covered_through = fields.Date(required=True, error_messages=REQUIRED)
    covered_from = fields.Date(load_default=None, allow_none=True)


class InsuranceSchema(Schema):
    id = fields.Integer()
    loan_id = fields.Integer()
    carrier = fields.String()
    policy_number = fields.String()
    covered_from = fields.Date(allow_none=True)
    covered_through = fields.Date()
    recorded_at = fields.DateTime()
    lapsed = fields.Boolean(metadata={"description": "Coverage ran out before today with no newer proof."})
