from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, ValidationError

from loanapp.applications.vocabulary import DEFAULT_TERM_MONTHS, TERMS
from loanapp.inputs import MoneyField, NumberField


def two_decimals(_form: Any, field: Any) -> None:
    if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError(_l("Use dollars and cents, at most two decimals."))


class QuoteForm(FlaskForm):
    amount_financed = MoneyField(
        _l("How much do you want to borrow? ($)"),
        validators=[InputRequired(_l("Enter an amount.")), two_decimals],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    term_months = SelectField(
        _l("Pay it back over"),
        coerce=int,
        choices=[SelectChoice(t, _l("%(months)d months", months=t)) for t in TERMS],
        default=DEFAULT_TERM_MONTHS,
        validators=[DataRequired()],
    )
    annual_rate = NumberField(
        _l("Interest rate (% per year)"),
        validators=[two_decimals],
        render_kw={"inputmode": "decimal"},
    )

    def __init__(self, *args: Any, may_set_rate: bool, standard_rate: Decimal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_set_rate:
            del self.annual_rate
        elif self.annual_rate.data is None and not self.is_submitted():
            self.annual_rate.data = standard_rate

    def validate_annual_rate(self, field: Any) -> None:
        if field.data is None:
            raise ValidationError(_l("Enter a rate."))

    def error_for(self, name: str, message: str) -> None:
        """Put a refusal from the quote rules on the field it is about (or on the form)."""
        target = getattr(self, name, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
        else:
            self.form_errors.append(message)
