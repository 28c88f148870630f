"""Admins create officer, staff and admin accounts and disable any account. Workers register by applying."""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from loanapp.access import roles
from loanapp.accounts.models import User
from loanapp.accounts.operations import AccountError, create_user, set_active
from loanapp.extensions import db
from loanapp.recovery.operations import send_link

bp = Blueprint("admin", __name__, url_prefix="/admin")


class NewUserForm(FlaskForm):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(
        "Role",
        choices=[
            SelectChoice("officer", "Credit-union officer"),
            SelectChoice("staff", "Work Train staff"),
            SelectChoice("admin", "Administrator"),
        ],
    )


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that post."""


@bp.route("/users", methods=["GET", "POST"])
@roles("admin")
def users():  # type: ignore[no-untyped-def]
    form = NewUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            # Nobody knows this password: the person chooses their own through the emailed link.
            user = create_user(
                form.email.data,
                secrets.token_urlsafe(32),
                form.role.data,
                form.full_name.data,
                actor=current_user,
            )
        except AccountError as exc:
            getattr(form, exc.field).errors.append(exc.message)
            status = 422
        else:
            send_link(user, actor=current_user, purpose="welcome")
            db.session.commit()
            flash(
                f"Created {user.email} ({user.role}); a link to choose a password is on its way.", "success"
            )
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        status = 422
    accounts = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    return render_template("accounts/users.html", form=form, accounts=accounts, toggle=EmptyForm()), status


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles("admin")
def toggle_active(user_id: int):  # type: ignore[no-untyped-def]
    form = EmptyForm()
    user = db.get_or_404(User, user_id)
    if form.validate_on_submit():
        if user.id == current_user.id:
            flash("You cannot disable your own account.", "error")
        else:
            set_active(user, not user.active, actor=current_user)
            db.session.commit()
            flash(f"{user.email} is now {'active' if user.active else 'disabled'}.", "success")
    return redirect(url_for("admin.users"))
