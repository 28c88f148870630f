from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

NEW_PASSWORD = _l("Choose a password of at least 10 characters.")


class ForgotForm(FlaskForm):
    identifier = StringField(
        _l("Your email or mobile number"),
        [DataRequired(_l("Enter your email or your mobile number.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        [DataRequired(NEW_PASSWORD), Length(min=10, max=200, message=NEW_PASSWORD)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The new password again"),
        [EqualTo("password", _l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )


class CodeForm(NewPasswordForm):
    phone = StringField(
        _l("Your mobile number"),
        [DataRequired(_l("Enter your mobile number.")), Length(max=30)],
        render_kw={"autocomplete": "tel", "type": "tel"},
    )
    code = StringField(
        _l("The 6-digit code we texted you"),
        [DataRequired(_l("Enter the code.")), Length(max=10)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"},
    )
