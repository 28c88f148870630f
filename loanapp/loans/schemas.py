"""JSON shape of a loan: the disclosure it was booked with and its disclosed schedule."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_dump

from loanapp.access import request_user
from loanapp.api.fields import Money, Percent
from loanapp.loans.states import LoanStatus
from loanapp.quotes.schemas import InstallmentSchema
from loanapp.servicing.schemas import ServicingSummarySchema


class LoanSchema(Schema):
    id = fields.Integer()
    application_id = fields.Integer()
    borrower_id = fields.Integer()
    status = fields.String(metadata={"enum": [s.value for s in LoanStatus]})
    principal = Money()
    annual_rate = Percent()
    term_months = fields.Integer()
    contract_date = fields.Date()
    first_payment_date = fields.Date()
    maturity_date = fields.Date()
    payment_amount = Money()
    final_payment_amount = Money()
    amount_financed = Money()
    prepaid_finance_charge = Money(allow_zero=True)
    finance_charge = Money(allow_zero=True)
    total_of_payments = Money()
    apr = Percent()
    payment_summary = fields.String()
    booked_at = fields.DateTime()
    reserve_commitment = Money(metadata={"description": "Officers and Work Train staff only."})
    schedule = fields.List(fields.Nested(InstallmentSchema))
    servicing = fields.Nested(
        ServicingSummarySchema,
        metadata={"description": "Balance, next payment and days past due today (loanapp.servicing)."},
    )

    @post_dump
    def for_viewer(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if getattr(request_user(), "role", None) not in ("officer", "staff"):
            data.pop("reserve_commitment", None)
        return data
