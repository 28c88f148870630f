"""Staff forms for the reserve. Each carries an idempotency key minted when the form is shown, so a
double-clicked submit or a browser retry posts once."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError


def cents_only(_form: Any, field: Any) -> None:
    if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError("Use dollars and cents: at most two decimals.")


def positive(_form: Any, field: Any) -> None:
    if field.data is not None and field.data <= 0:
        raise ValidationError("Must be more than zero.")


def not_negative(_form: Any, field: Any) -> None:
    if field.data is not None and field.data < 0:
        raise ValidationError("Must not be negative.")


class KeyedForm(FlaskForm):
    idempotency_key = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex


def amount_field(label: str, *, allow_zero: bool = False) -> DecimalField:
    checks = [cents_only, not_negative if allow_zero else positive]
    return DecimalField(
        label,
        places=None,
        validators=[InputRequired("Enter an amount."), *checks],
        render_kw={"inputmode": "decimal"},
    )


class DepositForm(KeyedForm):
    funder = StringField(
        "Funder",
        validators=[DataRequired(), Length(max=120)],
        render_kw={"placeholder": "Empire State Development"},
    )
    grant = StringField(
        "Grant", validators=[DataRequired(), Length(max=120)], render_kw={"placeholder": "ESD 2026-1"}
    )
    amount = amount_field("Amount ($)")
    received_on = DateField("Received on", validators=[InputRequired("Enter the date the money arrived.")])
    memo = StringField("Memo", validators=[Optional(), Length(max=500)])


class InterestForm(KeyedForm):
    amount = amount_field("Interest earned ($)")
    earned_on = DateField("Credited on", validators=[InputRequired("Enter the date.")])
    memo = StringField("Memo", validators=[Optional(), Length(max=500)])


def optional_amount(label: str) -> DecimalField:
    return DecimalField(
        label, places=None, validators=[Optional(), cents_only, positive], render_kw={"inputmode": "decimal"}
    )


class ClaimForm(KeyedForm):
    """A claim names the loan; its balance at charge-off comes from the loan's charge-off record.
    Collection costs are itemised, one line per kind."""

    loan_id = IntegerField(
        "Loan number", validators=[InputRequired("Enter the loan number."), NumberRange(min=1, max=2**31 - 1)]
    )
    cost_repossession = optional_amount("Repossession ($)")
    cost_transport = optional_amount("Transport ($)")
    cost_storage = optional_amount("Storage ($)")
    cost_auction = optional_amount("Auction fees ($)")
    cost_legal = optional_amount("Legal fees ($)")
    cost_other = optional_amount("Other collection costs ($)")
    collateral_proceeds = amount_field("Collateral (car) sale proceeds ($)", allow_zero=True)
    memo = TextAreaField("Memo", validators=[Optional(), Length(max=500)])

    COST_FIELDS = ("repossession", "transport", "storage", "auction", "legal", "other")

    def cost_items(self) -> list[Any]:
        import reserve

        return [
            reserve.CostItem(reserve.CostKind(kind), getattr(self, f"cost_{kind}").data)
            for kind in self.COST_FIELDS
            if getattr(self, f"cost_{kind}").data
        ]


class ClaimDecisionForm(KeyedForm):
    decision = SelectField(
        "Decision", choices=[SelectChoice("approve", "Approve and pay"), SelectChoice("reject", "Reject")]
    )
    note = TextAreaField("Note (required to reject)", validators=[Optional(), Length(max=500)])

    def validate_note(self, field: Any) -> None:
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError("Give the reason for rejecting.")


class RecoveryForm(KeyedForm):
    amount = amount_field("Amount recovered ($)")
    received_on = DateField("Received on", validators=[InputRequired("Enter the date.")])
    memo = StringField("Memo", validators=[Optional(), Length(max=500)])


class ReversalForm(KeyedForm):
    reason = StringField(
        "Reason", validators=[DataRequired("Say why this is reversed."), Length(min=3, max=500)]
    )


class MonthCloseForm(FlaskForm):
    month = StringField("Month (YYYY-MM)", validators=[DataRequired()])

    def validate_month(self, field: Any) -> None:
        try:
            year, month = (int(part) for part in field.data.split("-"))
            if not 1 <= month <= 12:
                raise ValueError
        except ValueError:
            raise ValidationError("Write the month as YYYY-MM, e.g. 2026-10.") from None
        self.year_month = (year, month)
