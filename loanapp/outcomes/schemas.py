"""JSON shapes of the outcome API: a check-in in and out, a loan's schedule, the outcome report."""

from __future__ import annotations

from marshmallow import Schema, fields

from loanapp.api.fields import Money
from loanapp.outcomes.vocabulary import COMMUTES, SOURCES, STATES


class NewCheckInSchema(Schema):
    """The answer as sent; every field is checked by ``outcomes.operations.check_answer`` (field-level
    messages), so values pass through unchanged here."""

    employed = fields.Raw(required=True, metadata={"type": "boolean"})
    employer_id = fields.Raw(
        load_default=None, metadata={"type": "integer", "description": "From the employer list."}
    )
    employer_other = fields.Raw(
        load_default="", metadata={"type": "string", "description": "An employer not in the list."}
    )
    hourly_wage = fields.Raw(
        load_default=None, metadata={"type": "string", "example": "16.25", "description": "$0 to $200."}
    )
    hours_per_week = fields.Raw(
        load_default=None, metadata={"type": "string", "example": "40", "description": "0 to 80."}
    )
    commute = fields.Raw(load_default=None, metadata={"type": "string", "enum": list(COMMUTES)})
    car_running = fields.Raw(required=True, metadata={"type": "boolean"})
    source = fields.Raw(
        load_default=None,
        metadata={
            "type": "string",
            "enum": list(SOURCES),
            "description": "A worker's own answer is self_report.",
        },
    )
    comment = fields.Raw(load_default="", metadata={"type": "string"})
    started_job = fields.Raw(
        load_default=None,
        metadata={
            "type": "boolean",
            "description": "Job-offer and in-training applicants, until they start.",
        },
    )
    started_on = fields.Raw(load_default=None, metadata={"type": "string", "format": "date"})
    checked_on = fields.Raw(
        load_default=None, metadata={"type": "string", "format": "date", "description": "Defaults to today."}
    )
    milestone = fields.Raw(
        load_default=None,
        metadata={
            "type": "string",
            "description": "'3', '6', '12', '24' or 'payoff'; default: the oldest open.",
        },
    )
    corrects_id = fields.Raw(
        load_default=None, metadata={"type": "integer", "description": "Officers: the answer this corrects."}
    )


class CheckInSchema(Schema):
    id = fields.Integer()
    loan_id = fields.Integer()
    milestone = fields.String()
    corrects_id = fields.Integer(allow_none=True)
    checked_on = fields.Date()
    employed = fields.Boolean()
    employer_id = fields.Integer(allow_none=True)
    employer_other = fields.String()
    employer_name = fields.String()
    hourly_wage = Money(allow_zero=True, allow_none=True)
    hours_per_week = fields.Decimal(as_string=True, allow_none=True)
    started_job = fields.Boolean(allow_none=True)
    started_on = fields.Date(allow_none=True)
    commute = fields.String(allow_none=True)
    car_running = fields.Boolean()
    comment = fields.String()
    source = fields.String(metadata={"enum": list(SOURCES)})
    recorded_by = fields.String(allow_none=True)
    recorded_at = fields.DateTime()


class ScheduledCheckInSchema(Schema):
    milestone = fields.String()
    due_on = fields.Date()
    state = fields.String(metadata={"enum": list(STATES)})
    state_since = fields.Date()
    answer = fields.Nested(CheckInSchema, allow_none=True)
    history = fields.List(fields.Nested(CheckInSchema))


class LoanCheckInsSchema(Schema):
    loan_id = fields.Integer()
    check_ins = fields.List(fields.Nested(ScheduledCheckInSchema))


class ReportQuerySchema(Schema):
    booked_from = fields.Date(load_default=None)
    booked_to = fields.Date(load_default=None)
