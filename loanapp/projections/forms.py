"""Staff forms of the projection page. Values are checked by ``assumptions.parse`` and the models
(one place for every rule); these forms only carry the fields and show the messages."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from loanapp.projections.assumptions import SETTINGS
from loanapp.projections.results import ALL
from risk.scenarios import SCENARIOS


def scenario_choices() -> list[SelectChoice]:
    return [
        SelectChoice(ALL, "All scenarios side by side"),
        *(SelectChoice(s.name, s.title) for s in SCENARIOS.values()),
    ]


class RunForm(FlaskForm):
    scenario = SelectField("Scenario", choices=scenario_choices(), default=ALL)
    paths = StringField("Monte Carlo paths")
    horizon_months = StringField("Horizon (months)")
    seed = StringField("Seed (optional: the same seed gives the same figures)")


class AssumptionsForm(FlaskForm):
    """One text field per setting of ``assumptions.SETTINGS``, plus a note on why it changed."""

    note = TextAreaField("Why the change (kept with the version)", validators=[Length(max=500)])

    def setting_fields(self) -> list[Any]:
        return [getattr(self, s.name) for s in SETTINGS]


for _setting in SETTINGS:
    setattr(AssumptionsForm, _setting.name, StringField(_setting.label, description=_setting.help))


def add_errors(form: FlaskForm, errors: dict[str, list[str]]) -> None:
    """Put per-field messages on the form's fields; messages for unknown names go to the form."""
    for name, messages in errors.items():
        field = getattr(form, name.split(".")[-1], None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), *messages]
        else:
            form.form_errors.extend(f"{name}: {m}" for m in messages)
