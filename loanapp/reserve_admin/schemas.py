from __future__ import annotations

from marshmallow import Schema, fields, validate

from loanapp.api.fields import Money
from reserve import CostKind, TransactionKind


class AsOfSchema(Schema):
    as_of = fields.Date(load_default=None, metadata={"description": "Effective date; defaults to today."})


class PositionSchema(Schema):
    as_of = fields.Date()
    balance = Money(allow_zero=True)
    available = Money(allow_zero=True)
    committed = Money(allow_zero=True)
    deposits = Money(allow_zero=True)
    claims_paid = Money(allow_zero=True)
    claims_pending = Money(allow_zero=True)
    claims_pending_count = fields.Integer()
    recoveries = Money(allow_zero=True)
    interest = Money(allow_zero=True)
    outstanding_principal = Money(allow_zero=True)
    coverage = fields.Decimal(
        as_string=True, allow_none=True, metadata={"description": "available ÷ outstanding"}
    )


class PostingSchema(Schema):
    account_code = fields.String()
    account_kind = fields.String()
    amount = fields.Decimal(as_string=True, metadata={"description": "positive into the account"})
    loan_id = fields.Integer(allow_none=True)


class TransactionSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    effective_date = fields.Date()
    recorded_at = fields.DateTime()
    actor_id = fields.Integer()
    memo = fields.String()
    loan_id = fields.Integer(allow_none=True)
    claim_id = fields.Integer(allow_none=True)
    reverses_id = fields.Integer(allow_none=True)
    reversed_by_id = fields.Integer(allow_none=True)
    postings = fields.List(fields.Nested(PostingSchema))


class JournalQuerySchema(Schema):
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf([k.value for k in TransactionKind]))
    loan_id = fields.Integer(load_default=None, validate=validate.Range(min=1))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class JournalPageSchema(Schema):
    items = fields.List(fields.Nested(TransactionSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class DepositSchema(Schema):
    funder = fields.String(required=True, validate=validate.Length(min=1, max=120))
    grant = fields.String(required=True, validate=validate.Length(min=1, max=120))
    amount = Money(required=True)
    received_on = fields.Date(required=True)
    memo = fields.String(load_default="", validate=validate.Length(max=500))


class ClaimEventSchema(Schema):
    kind = fields.String()
    status = fields.String()
    on_date = fields.Date()
    actor_id = fields.Integer()
    recorded_at = fields.DateTime()
    transaction_id = fields.Integer(allow_none=True)
    cap = Money(allow_zero=True, allow_none=True)
    paid = Money(allow_zero=True, allow_none=True)
    note = fields.String()


class ClaimSchema(Schema):
    id = fields.Integer()
    loan_id = fields.Integer()
    status = fields.String()
    charged_off_on = fields.Date()
    balance_at_charge_off = Money(allow_zero=True)
    allowed_costs = Money(allow_zero=True)
    collateral_proceeds = Money(allow_zero=True)
    loss = Money(allow_zero=True)
    paid = Money(allow_zero=True)
    shortfall = Money(allow_zero=True)
    filed_by = fields.Integer()
    memo = fields.String()
    cost_items = fields.List(fields.Nested(lambda: CostItemSchema()))
    events = fields.List(fields.Nested(ClaimEventSchema))


class ClaimQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(["pending", "paid", "rejected"]))
    loan_id = fields.Integer(load_default=None, validate=validate.Range(min=1))


class CostItemSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in CostKind]))
    amount = Money(required=True)
    description = fields.String(load_default="", validate=validate.Length(max=200))


class NewClaimSchema(Schema):
    """A claim names a charged-off loan; its balance and charge-off date come from the loan's own
    charge-off record (a balance in the request is refused as an unknown field)."""

    loan_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    allowed_costs = fields.List(
        fields.Nested(CostItemSchema),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "Collection costs one by one; together at most the program's limit."},
    )
    collateral_proceeds = Money(allow_zero=True, load_default=None)
    memo = fields.String(load_default="", validate=validate.Length(max=500))


class ClaimDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    effective_date = fields.Date(load_default=None, metadata={"description": "Defaults to today."})
    note = fields.String(
        load_default="", validate=validate.Length(max=500), metadata={"description": "Required to reject."}
    )


class RecoverySchema(Schema):
    claim_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    amount = Money(required=True)
    received_on = fields.Date(required=True)
    memo = fields.String(load_default="", validate=validate.Length(max=500))


class TransactionReversalSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))
    effective_date = fields.Date(load_default=None, metadata={"description": "Defaults to today."})
