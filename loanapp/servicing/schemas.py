"""JSON shapes of the servicing API: payments in and out, the schedule with paid marks, the payoff,
the servicing summary added to ``GET /api/v1/loans/{id}``, charge-off, and the delinquency report."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from loanapp.api.fields import Money
from loanapp.servicing.models import COLLATERAL_STATUSES, PAYMENT_METHODS

REQUIRED = {"required": "This is required."}


class NewPaymentSchema(Schema):
    amount = Money(required=True, error_messages=REQUIRED, metadata={"example": "215.40"})
    received_on = fields.Date(required=True, error_messages=REQUIRED, metadata={"description": "YYYY-MM-DD"})
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS), error_messages=REQUIRED)
    reference = fields.String(load_default="", validate=validate.Length(max=100))
    allow_excess = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Confirms a payment above the payoff (the rest is a refund due); without it such "
            "a payment is refused with 422, most likely a typo."
        },
    )


class PaymentReversalSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500), error_messages=REQUIRED)
    returned_on = fields.Date(load_default=None, metadata={"description": "Defaults to today."})
    entered_in_error = fields.Boolean(
        load_default=False,
        metadata={
            "description": "The payment was never received (a typo, the wrong loan), rather than returned: "
            "the borrower's history leaves it out instead of showing money returned."
        },
    )


class AllocationSchema(Schema):
    to_fees = Money(allow_zero=True)
    to_interest = Money(allow_zero=True)
    to_principal = Money(allow_zero=True)
    excess = Money(allow_zero=True, metadata={"description": "Above the payoff: to be refunded."})
    principal_after = Money(allow_zero=True)


class PaymentSchema(Schema):
    id = fields.Integer()
    loan_id = fields.Integer()
    kind = fields.String(metadata={"enum": ["payment", "reversal"]})
    amount = Money()
    received_on = fields.Date()
    method = fields.String()
    reference = fields.String()
    source = fields.String()
    posted_on = fields.Date()
    reverses_id = fields.Integer(allow_none=True)
    reason = fields.String()
    reversed = fields.Boolean(metadata={"description": "The payment came back (see reversal_id)."})
    entered_in_error = fields.Boolean(
        metadata={"description": "Reversed as entered in error: never received, so never returned either."}
    )
    reversal_id = fields.Integer(allow_none=True)
    allocation = fields.Nested(AllocationSchema, allow_none=True)


class ServicingSummarySchema(Schema):
    as_of = fields.Date()
    principal_balance = Money(allow_zero=True)
    accrued_interest = Money(allow_zero=True)
    fees_due = Money(allow_zero=True)
    payoff_amount = Money(allow_zero=True)
    days_past_due = fields.Integer()
    bucket = fields.String()
    past_due_amount = Money(allow_zero=True, metadata={"description": "What brings the loan current."})
    next_due_date = fields.Date(allow_none=True)
    next_payment_amount = Money(allow_zero=True, allow_none=True)
    total_paid = Money(allow_zero=True)
    last_payment_on = fields.Date(allow_none=True)
    paid_off_on = fields.Date(allow_none=True)


class PaymentResultSchema(PaymentSchema):
    servicing = fields.Nested(ServicingSummarySchema)


class ScheduleLineSchema(Schema):
    number = fields.Integer()
    due_date = fields.Date()
    payment = Money()
    interest = Money(allow_zero=True)
    principal = Money(allow_zero=True)
    balance = Money(allow_zero=True)
    status = fields.String(metadata={"enum": ["paid", "partly_paid", "unpaid"]})
    paid_toward = Money(allow_zero=True)
    due = fields.Boolean(metadata={"description": "Due on or before today."})


class PayoffQuerySchema(Schema):
    as_of = fields.Date(load_default=None, metadata={"description": "Today (default) up to 30 days ahead."})


class PayoffSchema(Schema):
    loan_id = fields.Integer()
    as_of = fields.Date()
    principal_balance = Money(allow_zero=True)
    accrued_interest = Money(allow_zero=True)
    fees_due = Money(allow_zero=True)
    payoff_amount = Money(allow_zero=True)


class ChargeOffSchema(Schema):
    collateral_status = fields.String(
        required=True, validate=validate.OneOf(COLLATERAL_STATUSES), error_messages=REQUIRED
    )
    collateral_proceeds = Money(allow_zero=True, load_default=None)
    allowed_costs = Money(allow_zero=True, load_default=None)
    memo = fields.String(load_default="", validate=validate.Length(max=2000))


class ChargeOffResultSchema(Schema):
    loan_id = fields.Integer()
    charged_off_on = fields.Date()
    days_past_due = fields.Integer()
    principal_balance = Money(allow_zero=True)
    accrued_interest = Money(allow_zero=True)
    fees_due = Money(allow_zero=True)
    collateral_status = fields.String()
    collateral_proceeds = Money(allow_zero=True)
    allowed_costs = Money(allow_zero=True)
    claim_id = fields.Integer()


class ReportQuerySchema(Schema):
    as_of = fields.Date(load_default=None)


class BucketLineSchema(Schema):
    label = fields.String()
    loans = fields.Integer()
    balance = Money(allow_zero=True)
    share_of_loans = fields.Decimal(as_string=True)
    share_of_balance = fields.Decimal(as_string=True)


class GroupLineSchema(Schema):
    name = fields.String()
    loans = fields.Integer()
    balance = Money(allow_zero=True)
    past_due_loans = fields.Integer()
    ratio_loans = fields.Integer()
    ratio_balance = Money(allow_zero=True)
    ratio = fields.Decimal(as_string=True)


class DelinquencyReportSchema(Schema):
    as_of = fields.Date()
    source = fields.String()
    loans = fields.Integer()
    balance = Money(allow_zero=True)
    program = fields.List(fields.Nested(BucketLineSchema))
    call_report = fields.List(fields.Nested(BucketLineSchema))
    by_employer = fields.List(fields.Nested(GroupLineSchema))
    by_program = fields.List(fields.Nested(GroupLineSchema))
    ratio_balance = fields.Decimal(
        as_string=True, metadata={"description": "Percent of principal 60+ days past due."}
    )
    ratio_loans = fields.Decimal(as_string=True)
    ratio_days = fields.Integer()
