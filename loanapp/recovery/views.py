"""Forgotten password pages (public) and the admins' "send a reset link" button."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from loanapp.access import public, roles
from loanapp.accounts.models import User
from loanapp.accounts.operations import AccountError
from loanapp.extensions import db
from loanapp.recovery import operations as ops
from loanapp.recovery.forms import CodeForm, ForgotForm, NewPasswordForm

bp = Blueprint("recovery", __name__)


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot():  # type: ignore[no-untyped-def]
    form = ForgotForm()
    status = 200
    if form.validate_on_submit():
        try:
            requested = ops.request_reset(form.identifier.data, request.remote_addr or "")
        except ops.ResetThrottled:
            db.session.rollback()
            form.form_errors.append(
                _("Too many requests. Wait an hour and try again, or call the credit union.")
            )
            status = 429
        else:
            db.session.commit()
            if requested.channel == "sms":
                flash(
                    _(
                        "If an account uses this number, we texted it a 6-digit code. It works for 10 minutes."
                    ),
                    "info",
                )
                return redirect(url_for(".code", phone=form.identifier.data))
            return render_template("recovery/sent.html")
    elif request.method == "POST":
        status = 400
    return render_template("recovery/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset(token: str):  # type: ignore[no-untyped-def]
    try:
        ops.check_link(token)
    except ops.ResetInvalid:
        return render_template("recovery/invalid.html"), 410
    form = NewPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            ops.reset_with_link(token, form.password.data)
        except ops.ResetInvalid:
            db.session.rollback()
            return render_template("recovery/invalid.html"), 410
        except AccountError as exc:  # too easy to guess: the link stays usable
            db.session.rollback()
            form.password.errors = [str(exc.message)]
            return render_template("recovery/reset.html", form=form), 422
        db.session.commit()
        flash(_("Your password is changed. Sign in with it."), "success")
        return redirect(url_for("accounts.login"))
    elif request.method == "POST":
        status = 422
    return render_template("recovery/reset.html", form=form), status


@bp.route("/password/code", methods=["GET", "POST"])
@public
def code():  # type: ignore[no-untyped-def]
    form = CodeForm()
    status = 200
    if request.method == "GET":
        form.phone.data = request.args.get("phone", "")[:30]
    elif form.validate_on_submit():
        try:
            ops.reset_with_code(form.phone.data, form.code.data, form.password.data)
        except ops.ResetInvalid:
            db.session.commit()  # the wrong try counts
            form.code.errors = [_("This code is not right, or it has expired. Ask for a new one.")]
            status = 422
        except AccountError as exc:  # a right code, a password too easy to guess: the code stays usable
            db.session.rollback()
            form.password.errors = [str(exc.message)]
            status = 422
        else:
            db.session.commit()
            flash(_("Your password is changed. Sign in with it."), "success")
            return redirect(url_for("accounts.login"))
    else:
        status = 422
    return render_template("recovery/code.html", form=form), status


@bp.route("/admin/users/<int:user_id>/password-link", methods=["POST"])
@roles("admin")
def send_link(user_id: int):  # type: ignore[no-untyped-def]
    """The admin sends a reset link; they never see or type the password."""
    from loanapp.accounts.admin import EmptyForm

    user = db.get_or_404(User, user_id)
    if EmptyForm().validate_on_submit():
        ops.send_link(user, actor=current_user)
        db.session.commit()
        flash(f"A password link is on its way to {user.email}.", "success")
    return redirect(url_for("admin.users"))
