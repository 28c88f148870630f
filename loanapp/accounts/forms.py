from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, NumberRange, Optional


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
    )


class TokenForm(FlaskForm):
    """A new API token (staff pages: English only, like the other staff pages)."""

    label = StringField("What it is for", validators=[Optional(), Length(max=100)])
    days = IntegerField(
        "Days until it expires",
        default=90,
        validators=[InputRequired("Enter a number of days."), NumberRange(min=1, max=366)],
    )


class ConfirmForm(FlaskForm):
    """Only the CSRF token: a button that confirms an action that cannot be undone."""
