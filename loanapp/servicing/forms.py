"""Officer forms for servicing (English). Each write form carries an idempotency key minted when the
form is shown, so a double-clicked submit posts once. Amounts accept "$1,250.50" and refuse more than
two decimals instead of rounding them."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from loanapp.servicing.models import COLLATERAL_STATUSES, PAYMENT_METHODS
from risk.money import CENT

METHOD_NAMES = {
    "ach": "ACH transfer",
    "check": "Check",
    "cash": "Cash",
    "card": "Debit card",
    "payroll": "Payroll deduction",
    "money_order": "Money order",
    "other": "Other",
}
COLLATERAL_NAMES = {
    "repossessed_sold": "Repossessed and sold",
    "repossessed_held": "Repossessed, not sold yet",
    "not_recovered": "Not recovered",
    "insurance": "Insurance claim (total loss)",
    "none": "No collateral action",
}


class AmountField(DecimalField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        text = str(valuelist[0]).replace("$", "").replace(",", "").replace(" ", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            self.data = None
            raise ValueError("Enter an amount in dollars, like 215.40.") from None
        if not number.is_finite():
            self.data = None
            raise ValueError("Enter an amount in dollars, like 215.40.")
        if number != number.quantize(CENT):
            self.data = None
            raise ValueError("Use dollars and cents: at most two decimals.")
        self.data = number


class DayField(DateField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = dt.date.fromisoformat(str(valuelist[0]).strip())
        except ValueError:
            self.data = None
            raise ValueError("Enter a date, like 2026-11-30.") from None


class KeyedForm(FlaskForm):
    idempotency_key = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex


def _amount(label: str) -> AmountField:
    return AmountField(
        label, places=None, validators=[InputRequired("Enter an amount.")], render_kw={"inputmode": "decimal"}
    )


class PaymentForm(KeyedForm):
    amount = _amount("Amount ($)")
    received_on = DayField(
        "Received on", validators=[InputRequired("Enter the date the payment was received.")]
    )
    method = SelectField("Method", choices=[SelectChoice(m, METHOD_NAMES[m]) for m in PAYMENT_METHODS])
    reference = StringField(
        "Reference (check number, core system id)", validators=[Optional(), Length(max=100)]
    )
    # Shown only after a payment above the payoff was refused: the officer confirms it.
    allow_excess = BooleanField("Confirm a payment above the payoff")


class ReversalForm(KeyedForm):
    reason = StringField(
        "Why it came back", validators=[InputRequired("Say why the payment is reversed."), Length(max=500)]
    )
    returned_on = DayField("Returned on", validators=[Optional()])
    entered_in_error = BooleanField("Entered in error (never received)")
    # Set by the confirmation page: a reversal re-derives the loan and cannot be taken back.
    confirmed = HiddenField()


class ChargeOffForm(KeyedForm):
    # No defaults for what the car brought: the officer chooses both (issue 13: no dangerous defaults).
    collateral_status = SelectField(
        "The car",
        choices=[SelectChoice("", "Choose what happened to the car")]
        + [SelectChoice(c, COLLATERAL_NAMES[c]) for c in COLLATERAL_STATUSES],
        validators=[InputRequired("Choose what happened to the car.")],
    )
    collateral_proceeds = AmountField(
        "Car sale proceeds ($)",
        places=None,
        validators=[InputRequired("Enter what the car brought in (0.00 if nothing).")],
    )
    allowed_costs = AmountField("Allowed collection costs ($)", places=None, default=Decimal("0.00"))
    memo = TextAreaField("Memo", validators=[Optional(), Length(max=2000)])
    # Set by the confirmation page: without it the officer first sees the claim that will be filed.
    confirmed = HiddenField()


class RecoveryForm(KeyedForm):
    amount = _amount("Amount recovered ($)")
    received_on = DayField("Received on", validators=[InputRequired("Enter the date.")])
    reference = StringField("Reference", validators=[Optional(), Length(max=100)])


class ImportForm(FlaskForm):
    file = FileField("CSV file from the core system")
    skip_bad = BooleanField("Post the good rows even if some rows are bad")
