"""Officer forms for collections (English, like the other officer pages). Each write form carries
an idempotency key minted when the form is shown, so a double-clicked submit writes once."""

from __future__ import annotations

from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from loanapp.collections.models import CHANNELS, DIRECTIONS, OUTCOMES, PLAN_KINDS, TITLE_STATUSES
from loanapp.servicing.forms import AmountField, DayField, KeyedForm

CHANNEL_NAMES = {
    "call": "Phone call",
    "sms": "Text message",
    "email": "Email",
    "letter": "Letter",
    "visit": "Visit",
}
DIRECTION_NAMES = {"outbound": "We contacted them", "inbound": "They contacted us"}
OUTCOME_NAMES = {
    "reached": "Reached",
    "left_message": "Left a message",
    "no_answer": "No answer",
    "wrong_number": "Wrong number",
    "promised": "Promised to pay",
    "refused": "Refused to pay",
    "hardship_requested": "Asked for hardship help",
}
REASON_NAMES = {
    "past_due": "Past due",
    "promise_due": "Promise due",
    "promise_broken": "Promise broken",
    "follow_up": "Follow-up due",
    "plan_ending": "Plan payments resume",
    "message_failed": "Message failed",
    "insurance_lapsed": "Insurance lapsed",
}
TITLE_NAMES = {
    "lien_requested": "Lien requested",
    "lien_recorded": "Lien recorded",
    "title_held": "Title held by the credit union",
    "lien_released": "Lien released (paid off)",
}
PLAN_NAMES = {
    "deferral": "Payment deferral",
    "due_day": "Due-date change",
    "reamortize": "Term extension (re-amortisation)",
    "reage": "Re-age",
}
STATUS_NAMES = {"open": "Open", "kept": "Kept", "broken": "Broken"}


class ContactForm(KeyedForm):
    channel = SelectField("Channel", choices=[SelectChoice(c, CHANNEL_NAMES[c]) for c in CHANNELS])
    direction = SelectField("Direction", choices=[SelectChoice(d, DIRECTION_NAMES[d]) for d in DIRECTIONS])
    outcome = SelectField("Outcome", choices=[SelectChoice(o, OUTCOME_NAMES[o]) for o in OUTCOMES])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
    next_action_on = DayField("Next action on", validators=[Optional()])


class PromiseForm(KeyedForm):
    amount = AmountField(
        "Amount ($)",
        places=None,
        validators=[InputRequired("Enter an amount.")],
        render_kw={"inputmode": "decimal"},
    )
    promised_on = DayField("Promised to pay by", validators=[InputRequired("Enter the date promised.")])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])


class AssignForm(KeyedForm):
    officer_id = SelectField("Assigned to", coerce=str, choices=[])


class CollateralForm(KeyedForm):
    vin = StringField("VIN (17 characters)", validators=[Optional(), Length(max=30)])
    title_status = SelectField(
        "Title and lien", choices=[SelectChoice(t, TITLE_NAMES[t]) for t in TITLE_STATUSES]
    )
    lien_recorded_on = DayField("Lien recorded on", validators=[Optional()])


class InsuranceForm(KeyedForm):
    carrier = StringField(
        "Insurance company", validators=[InputRequired("Enter the insurance company."), Length(max=120)]
    )
    policy_number = StringField(
        "Policy number", validators=[InputRequired("Enter the policy number."), Length(max=60)]
    )
    covered_from = DayField("Covered from", validators=[Optional()])
    covered_through = DayField(
        "Covered through", validators=[InputRequired("Enter the date the coverage runs through.")]
    )


class PlanForm(KeyedForm):
    kind = SelectField("Kind of help", choices=[SelectChoice(k, PLAN_NAMES[k]) for k in PLAN_KINDS])
    effective_on = DayField("Effective on", validators=[Optional()])
    installments = IntegerField(
        "Installments to move to the end (deferral)",
        validators=[Optional(), NumberRange(min=1, max=12, message="Enter 1 to 3.")],
    )
    due_day = IntegerField(
        "New due day of the month (due-date change)",
        validators=[Optional(), NumberRange(min=1, max=31, message="Enter a day from 1 to 28.")],
    )
    term_months = IntegerField(
        "New number of monthly payments (term extension)",
        validators=[Optional(), NumberRange(min=1, max=240, message="Enter a number of months.")],
    )
    reason = TextAreaField(
        "Reason (the borrower's hardship)", validators=[InputRequired("Say why."), Length(max=2000)]
    )
