from __future__ import annotations

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from loanapp.api.fields import Money, Percent


class QuoteRequestSchema(Schema):
    amount_financed = Money(
        required=True, metadata={"description": 'What the worker borrows, e.g. "12500.00".'}
    )
    annual_rate = Percent(required=True, metadata={"description": 'Note rate in percent, e.g. "8.99".'})
    term_months = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=600))
    contract_date = fields.Date(load_default=None, metadata={"description": "Defaults to today (New York)."})
    first_payment_date = fields.Date(
        load_default=None, metadata={"description": "Defaults to a month later."}
    )
    prepaid_finance_charge = Money(allow_zero=True, load_default=None)

    @validates_schema
    def dates_in_order(self, data: dict, **_kwargs: object) -> None:  # type: ignore[type-arg]
        contract, first = data.get("contract_date"), data.get("first_payment_date")
        if contract and first and first <= contract:
            raise ValidationError("Must be after the contract date.", "first_payment_date")


class InstallmentSchema(Schema):
    number = fields.Integer()
    due_date = fields.Date()
    payment = Money()
    interest = Money(allow_zero=True)
    principal = Money(allow_zero=True)
    balance = Money(allow_zero=True)


class QuoteSchema(Schema):
    payment = Money(metadata={"description": "The regular monthly payment."})
    apr = Percent(metadata={"description": "Annual percentage rate, as disclosed (two decimals)."})
    finance_charge = Money(allow_zero=True)
    total_of_payments = Money()
    amount_financed = Money()
    payment_schedule = fields.String(metadata={"description": "The schedule in words, as disclosed."})
    schedule = fields.List(fields.Nested(InstallmentSchema))
