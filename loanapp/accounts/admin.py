"""Admins find accounts (search and pages), create officer, staff and admin accounts, change a staff
account's role, and disable or enable any account after a confirmation page. Workers register by applying."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from wtforms import EmailField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from loanapp.access import ROLES, roles
from loanapp.accounts.models import User
from loanapp.accounts.operations import AccountError, create_user, set_active, set_role
from loanapp.extensions import db
from loanapp.recovery.operations import send_link

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_NAMES = {
    "worker": "Worker",
    "officer": "Credit-union officer",
    "staff": "Work Train staff",
    "admin": "Administrator",
}
STAFF_ROLE_CHOICES = [SelectChoice(code, ROLE_NAMES[code]) for code in ("officer", "staff", "admin")]


class NewUserForm(FlaskForm):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=STAFF_ROLE_CHOICES)


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that post."""


class ActiveForm(FlaskForm):
    active = HiddenField()  # "yes" or "no": what the confirmation page asked for


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=STAFF_ROLE_CHOICES)


def _search() -> tuple[Any, dict[str, Any]]:
    """The accounts that match the search box and role filter, a page at a time."""
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    query = select(User)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(func.lower(User.email).like(pattern), func.lower(User.full_name).like(pattern))
        )
    if role in ROLES:
        query = query.where(User.role == role)
    per_page = int(current_app.config.get("ADMIN_USERS_PAGE_SIZE", 25))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    accounts = db.session.scalars(
        query.order_by(User.role, User.email).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return accounts, {
        "q": q,
        "role": role if role in ROLES else "",
        "total": total,
        "page": page,
        "pages": pages,
    }


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
                f"Created {user.email} ({ROLE_NAMES[user.role]}); a link to choose a password is on its way.",
                "success",
            )
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        status = 422
    accounts, search = _search()
    args = {k: v for k, v in (("q", search["q"]), ("role", search["role"])) if v}

    def page_url(number: int) -> str:
        return url_for("admin.users", **args, page=number)

    return render_template(
        "accounts/users.html",
        form=form,
        accounts=accounts,
        search=search,
        page_url=page_url,
        role_names=ROLE_NAMES,
        role_form=RoleForm,
        toggle=EmptyForm(),
    ), status


def _account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/active", methods=["GET"])
@roles("admin")
def confirm_active(user_id: int):  # type: ignore[no-untyped-def]
    """Disabling locks a person out at once: the admin confirms on a page that says what will happen."""
    user = _account(user_id)
    if user.id == current_user.id:
        flash("You cannot disable your own account.", "error")
        return redirect(url_for("admin.users"))
    form = ActiveForm(formdata=None, active="no" if user.active else "yes")
    return render_template("accounts/confirm_active.html", account=user, form=form, role_names=ROLE_NAMES)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles("admin")
def toggle_active(user_id: int):  # type: ignore[no-untyped-def]
    form = ActiveForm()
    user = _account(user_id)
    if not form.validate_on_submit():
        abort(400)
    wanted = {"yes": True, "no": False}.get(form.active.data or "", not user.active)
    try:
        set_active(user, wanted, actor=current_user)
    except AccountError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"{user.email} is now {'active' if user.active else 'disabled'}.", "success")
    return redirect(url_for("admin.users", q=user.email))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@roles("admin")
def change_role(user_id: int):  # type: ignore[no-untyped-def]
    form = RoleForm()
    user = _account(user_id)
    if not form.validate_on_submit():
        flash("Choose credit-union officer, Work Train staff or administrator.", "error")
        return redirect(url_for("admin.users", q=user.email))
    try:
        set_role(user, form.role.data, actor=current_user)
    except AccountError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"{user.email} is now {ROLE_NAMES[user.role]}.", "success")
    return redirect(url_for("admin.users", q=user.email))
