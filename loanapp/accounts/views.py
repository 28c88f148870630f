from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from loanapp import security
from loanapp.access import STAFF_ROLES, public, roles, signed_in
from loanapp.accounts.forms import ConfirmForm, LoginForm, PasswordChangeForm, TokenForm
from loanapp.accounts.operations import (
    AccountError,
    LoginThrottled,
    ThrottlePolicy,
    authenticate,
    change_password,
    issue_token,
    revoke_token,
    sign_out,
    token_state,
    tokens_of,
)
from loanapp.extensions import db

bp = Blueprint("accounts", __name__)


def throttle_policy() -> ThrottlePolicy:
    cfg = current_app.config
    return ThrottlePolicy(
        max_failures=cfg["LOGIN_MAX_FAILURES"],
        window_seconds=cfg["LOGIN_FAILURE_WINDOW_SECONDS"],
        max_failures_per_address=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        max_failures_per_account=cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        delay_seconds=cfg["LOGIN_DELAY_SECONDS"],
        max_delay_seconds=cfg["LOGIN_MAX_DELAY_SECONDS"],
        account_max_delay_seconds=cfg["LOGIN_ACCOUNT_MAX_DELAY_SECONDS"],
    )


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an attacker's link must not bounce a signed-in user to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ord(c) < 32 or c == "\\" for c in target):  # a newline would split the Location header
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("home.landing"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(
                form.email.data, form.password.data, request.remote_addr or "", throttle_policy()
            )
        except LoginThrottled as exc:
            minutes = max(1, (exc.retry_after_seconds + 59) // 60)
            form.form_errors.append(
                _("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes)
            )
            status = 429
        else:
            db.session.commit()
            if user is not None:
                login_user(user)
                return redirect(_safe_next(request.args.get("next")) or url_for("home.landing"))
            form.form_errors.append(_("Email or password is not right."))
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():  # type: ignore[no-untyped-def]
    sign_out(current_user._get_current_object())
    db.session.commit()
    logout_user()
    # Nothing of the last person stays in this browser: a saved draft's token, flashes, anything.
    security.clear_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("home.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password_page():  # type: ignore[no-untyped-def]
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(user, form.current_password.data, form.new_password.data)
        except AccountError as exc:
            getattr(form, exc.field).errors.append(exc.message)
            status = 422
        else:
            db.session.commit()
            # This browser stays signed in under the new generation; every other session has ended.
            login_user(user)
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("home.landing"))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/password.html", form=form), status


# --- API tokens: each person sees, creates and revokes their own -------------------------------------


@bp.route("/account/tokens", methods=["GET", "POST"])
@roles(*STAFF_ROLES)
def tokens():  # type: ignore[no-untyped-def]
    form = TokenForm()
    status, new_token = 200, None
    user = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            new_token = issue_token(user, form.label.data or "", actor=user, days=form.days.data)
        except AccountError as exc:
            getattr(form, exc.field).errors.append(exc.message)
            status = 422
        else:
            db.session.commit()
            form = TokenForm(formdata=None)
    elif form.is_submitted():
        status = 422
    rows = [(row, token_state(row)) for row in tokens_of(user)]
    return render_template("accounts/tokens.html", form=form, rows=rows, new_token=new_token), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@roles(*STAFF_ROLES)
def revoke(token_id: int):  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    row = next((r for r in tokens_of(user) if r.id == token_id), None)
    if row is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        revoke_token(token_id, actor=user, owner=user)
        db.session.commit()
        flash(f"The token {row.prefix}… is revoked: calls with it are refused from now on.", "success")
        return redirect(url_for("accounts.tokens"))
    return render_template("accounts/revoke_token.html", row=row, form=form)
