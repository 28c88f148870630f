"""Forms of the application pages. They parse text into types; the rules live in ``rules``.

Worker-facing labels and messages are translated. Money fields accept "$1,250.50" as typed on a
phone and refuse more than two decimals rather than rounding them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from loanapp.applications.vocabulary import (
    ADVERSE_ACTION_REASONS,
    DECISION_KINDS,
    DEFAULT_TERM_MONTHS,
    DOCUMENT_KINDS,
    EMPLOYMENT_STATUS_NAMES,
    EMPLOYMENT_STATUSES,
    PAY_FREQUENCIES,
    SALE_TYPES,
    STATUS_LABELS,
    TERMS,
    VERIFICATION_METHODS,
    VERIFICATION_OUTCOMES,
)
from loanapp.inputs import MoneyField, NumberField, WholeNumberField
from loanapp.notices.operations import SMS_CONSENT_TEXT, Preferences

# --- fields that parse with clear messages ---------------------------------------------------------


class DayField(DateField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = dt.date.fromisoformat(str(valuelist[0]).strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date, like 2026-05-17.")) from None


def optional_int(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # never a real id: the rules answer "choose from the list"


def _choices(mapping: dict[str, Any], blank: Any = None) -> list[SelectChoice]:
    options = [SelectChoice(code, label) for code, label in mapping.items()]
    return [SelectChoice("", blank), *options] if blank is not None else options


def choices(pairs: Any, blank: Any = None) -> list[SelectChoice]:
    """Select options from (value, label) pairs, optionally after a blank first option."""
    options = [SelectChoice(str(value), label) for value, label in pairs]
    return [SelectChoice("", blank), *options] if blank is not None else options


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# --- the worker's application ----------------------------------------------------------------------


class ApplyForm(FlaskForm):
    submission_key = HiddenField()

    first_name = StringField(_l("First name"), [Length(max=100)], render_kw={"autocomplete": "given-name"})
    last_name = StringField(_l("Last name"), [Length(max=100)], render_kw={"autocomplete": "family-name"})
    date_of_birth = DayField(_l("Date of birth"), render_kw={"autocomplete": "bday"})
    ssn_last4 = StringField(
        _l("Last 4 digits of your Social Security number"),
        [Length(max=11)],
        render_kw={"inputmode": "numeric", "maxlength": "4", "autocomplete": "off", "pattern": "[0-9]{4}"},
    )
    email = EmailField(_l("Email"), [Length(max=254)], render_kw={"autocomplete": "email"})
    password = PasswordField(
        _l("Choose a password"), [Length(max=200)], render_kw={"autocomplete": "new-password"}
    )
    phone = StringField(
        _l("Phone number"), [Length(max=30)], render_kw={"autocomplete": "tel", "type": "tel"}
    )
    street = StringField(
        _l("Street address"), [Length(max=200)], render_kw={"autocomplete": "street-address"}
    )
    city = StringField(_l("City or town"), [Length(max=100)], render_kw={"autocomplete": "address-level2"})
    state = StringField(
        _l("State"),
        [Length(max=2)],
        default="NY",
        render_kw={"autocomplete": "address-level1", "maxlength": "2"},
    )
    postal_code = StringField(
        _l("ZIP code"), [Length(max=10)], render_kw={"autocomplete": "postal-code", "inputmode": "numeric"}
    )
    household_size = WholeNumberField(
        _l("How many people live in your household, you included?"), render_kw={"inputmode": "numeric"}
    )

    employment_status = RadioField(
        _l("Which one describes you?"), choices=_choices(EMPLOYMENT_STATUSES), validate_choice=False
    )
    employer_id = SelectField(_l("Employer"), coerce=optional_int, validate_choice=False)
    employer_other = StringField(_l("Other employer (if not in the list)"), [Length(max=200)])
    start_date = DayField(_l("Start date at this job"))
    offer_date = DayField(_l("Date of the job offer"))
    hourly_wage = MoneyField(_l("Hourly wage ($)"), render_kw={"inputmode": "decimal"})
    hours_per_week = NumberField(_l("Hours per week"), render_kw={"inputmode": "decimal"})
    pay_frequency = SelectField(
        _l("How often you are paid"),
        choices=_choices(PAY_FREQUENCIES, blank=_l("Choose…")),
        validate_choice=False,
    )
    training_program_id = SelectField(_l("Training program"), coerce=optional_int, validate_choice=False)
    expected_completion = DayField(_l("When you expect to finish"))

    monthly_income = MoneyField(_l("Monthly income before taxes ($)"), render_kw={"inputmode": "decimal"})
    monthly_debts = MoneyField(_l("Monthly debt payments ($)"), render_kw={"inputmode": "decimal"})

    requested_amount = MoneyField(
        _l("How much do you want to borrow? ($)"), render_kw={"inputmode": "decimal"}
    )
    term_months = SelectField(
        _l("Pay it back over"),
        coerce=optional_int,
        choices=[SelectChoice(str(t), _l("%(months)d months", months=t)) for t in TERMS],
        default=str(DEFAULT_TERM_MONTHS),
        validate_choice=False,
    )
    down_payment = MoneyField(
        _l("Down payment ($)"), default=Decimal("0"), render_kw={"inputmode": "decimal"}
    )
    vehicle_year = WholeNumberField(_l("Year"), render_kw={"inputmode": "numeric"})
    vehicle_make = StringField(_l("Make"), [Length(max=60)])
    vehicle_model = StringField(_l("Model"), [Length(max=60)])
    vehicle_mileage = WholeNumberField(_l("Miles on the odometer"), render_kw={"inputmode": "numeric"})
    vehicle_price = MoneyField(_l("Price ($)"), render_kw={"inputmode": "decimal"})
    sale_type = RadioField(_l("Who is selling it?"), choices=_choices(SALE_TYPES), validate_choice=False)
    dealer_name = StringField(_l("Dealer's name"), [Length(max=200)])

    referral_partner_id = SelectField(
        _l("Did an organisation send you to us? (optional)"), coerce=optional_int, validate_choice=False
    )
    document_kind = SelectField(_l("What is it?"), choices=_choices(DOCUMENT_KINDS), validate_choice=False)
    document = FileField(_l("Upload a pay stub, offer letter or training letter (optional)"))
    consent = BooleanField(
        _l(
            "I agree that the credit union may contact my employer or training program to check my job and income."
        )
    )
    notify_by = RadioField(
        _l("How should we tell you about your application and your loan?"),
        choices=[
            SelectChoice("email", _l("By email")),
            SelectChoice("sms", _l("By text message")),
            SelectChoice("both", _l("Both")),
        ],
        default="email",
        validate_choice=False,
    )
    sms_consent = BooleanField(SMS_CONSENT_TEXT)
    language = RadioField(
        _l("Language for messages"),
        choices=[SelectChoice("en", "English"), SelectChoice("es", "Español")],
        validate_choice=False,
    )

    def __init__(
        self, *args: Any, signed_in: bool, lists: dict[str, list[tuple[Any, str]]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if signed_in:
            del self.email
            del self.password
        choose = _l("Choose…")
        self.employer_id.choices = choices(lists["employers"], blank=choose)
        self.training_program_id.choices = choices(lists["training_programs"], blank=choose)
        self.referral_partner_id.choices = choices(
            lists["referral_partners"], blank=_l("No one / not listed")
        )

    def answers(self) -> dict[str, Any]:
        data = {name: field.data for name, field in self._fields.items()}
        data["consent"] = bool(self.consent.data)
        return data

    def preferences(self, default_language: str) -> Preferences:
        """How the worker wants to hear from us (the phone is the application's)."""
        notify_by = self.notify_by.data if self.notify_by.data in ("email", "sms", "both") else "email"
        language = self.language.data if self.language.data in ("en", "es") else default_language
        return Preferences(
            by_email=notify_by in ("email", "both"),
            by_sms=notify_by in ("sms", "both"),
            language=language,
            phone=(self.phone.data or "").strip() or None,
            sms_consent=bool(self.sms_consent.data),
        )

    def add_errors(self, errors: dict[str, list[Any]]) -> None:
        """Put the rules' messages on their fields (or on the form for anything without a field)."""
        aliases = {"term_months": "term_months", "file": "document"}
        for name, messages in errors.items():
            target = getattr(self, aliases.get(name, name), None)
            if target is not None and hasattr(target, "errors"):
                current = list(target.errors) if isinstance(target.errors, list | tuple) else []
                target.errors = [*current, *(m for m in messages if m not in current)]
            else:
                self.form_errors.extend(messages)


class DocumentForm(FlaskForm):
    version = HiddenField()
    document_kind = SelectField(_l("What is it?"), choices=_choices(DOCUMENT_KINDS), validate_choice=False)
    document = FileField(_l("File (PDF, JPEG or PNG)"))


class VersionForm(FlaskForm):
    """A button acting on the application as the person saw it (optimistic lock)."""

    version = HiddenField()


class OfferAnswerForm(FlaskForm):
    version = HiddenField()
    answer = HiddenField()


# --- the officer's forms (English) -----------------------------------------------------------------


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Work to do"),
            SelectChoice("all", "All (history)"),
            *choices((str(s), str(label)) for s, label in STATUS_LABELS.items()),
        ],
        validate_choice=False,
    )
    employment_status = SelectField(
        "Employment", choices=choices(EMPLOYMENT_STATUS_NAMES.items(), blank="All"), validate_choice=False
    )
    employer_id = SelectField("Employer", coerce=optional_int, validate_choice=False)
    training_program_id = SelectField("Training program", coerce=optional_int, validate_choice=False)
    min_age_days = SelectField(
        "Age",
        coerce=optional_int,
        choices=choices(((d, f"Over {d} days") for d in (3, 7, 14, 30)), blank="Any age"),
        validate_choice=False,
    )
    sort = SelectField(
        "Sort",
        choices=choices(
            (
                ("recent", "Latest action first"),
                ("oldest", "Oldest first"),
                ("newest", "Newest first"),
                ("amount", "Largest amount"),
                ("name", "Name"),
            )
        ),
        validate_choice=False,
    )
    page = HiddenField()


class VerificationForm(FlaskForm):
    version = HiddenField()
    method = SelectField(
        "How it was verified", choices=_choices(VERIFICATION_METHODS, blank="Choose…"), validate_choice=False
    )
    verified_on = DayField("Verified on")
    outcome = RadioField("Outcome", choices=_choices(VERIFICATION_OUTCOMES), validate_choice=False)
    employer_id = SelectField("Verified employer", coerce=optional_int, validate_choice=False)
    start_date = DayField("Verified start date")
    hourly_wage = MoneyField("Verified hourly wage ($)")
    hours_per_week = NumberField("Verified hours per week")
    notes = TextAreaField("Notes (who you spoke to, what differed)", [Length(max=2000)])


class DecisionForm(FlaskForm):
    version = HiddenField()
    kind = RadioField("Decision", choices=_choices(DECISION_KINDS), validate_choice=False)
    amount = MoneyField("Amount ($)")
    annual_rate = NumberField("Rate (% per year)")
    term_months = SelectField(
        "Term",
        coerce=optional_int,
        choices=choices((t, f"{t} months") for t in range(12, 85, 12)),
        validate_choice=False,
    )
    reasons = MultiCheckboxField(
        "Principal reasons (decline; for a counter-offer, why it differs)",
        choices=choices((code, str(text)) for code, text in ADVERSE_ACTION_REASONS.items()),
        validate_choice=False,
    )
    note = TextAreaField("Note", [Length(max=2000)], id="decision_note")  # one page, two forms with a note


class DocumentRequestForm(FlaskForm):
    version = HiddenField()
    kinds = MultiCheckboxField(
        "Documents needed",
        choices=choices((c, str(t)) for c, t in DOCUMENT_KINDS.items()),
        validate_choice=False,
    )
    note = TextAreaField("Message to the worker", [Length(max=1000)], id="request_note")


class EmployerForm(FlaskForm):
    version = HiddenField()
    name = StringField("Employer name", [Length(max=200)])
    city = StringField("City", [Length(max=100)])


def version_of(form: Any) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None
