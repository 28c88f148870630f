"""Officers, staff and admins create and revoke their own API tokens on a page (no command line).

A new token is shown once, on the page that created it; only its hash is stored. Revoking asks for a
confirmation first: a client using the token stops working at once.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from loanapp.access import roles
from loanapp.accounts.models import ApiToken
from loanapp.accounts.operations import issue_token, revoke_token
from loanapp.extensions import db

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


class TokenForm(FlaskForm):
    label = StringField(
        "What is it for?", validators=[DataRequired("Say what the token is for."), Length(max=100)]
    )


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the button that confirms."""


def _own_tokens() -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
        )
    )


@bp.route("", methods=["GET", "POST"])
@roles("officer", "staff", "admin")
def page():  # type: ignore[no-untyped-def]
    form = TokenForm()
    new_token = None
    status = 200
    if form.validate_on_submit():
        new_token = issue_token(current_user, form.label.data.strip(), actor=current_user)
        db.session.commit()
        form = TokenForm(formdata=None)
    elif form.is_submitted():
        status = 422
    return render_template(
        "accounts/tokens.html", form=form, tokens=_own_tokens(), new_token=new_token
    ), status


def _own(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    return token


@bp.route("/<int:token_id>/revoke", methods=["GET"])
@roles("officer", "staff", "admin")
def confirm_revoke(token_id: int):  # type: ignore[no-untyped-def]
    token = _own(token_id)
    if token.revoked_at is not None:
        return redirect(url_for(".page"))
    return render_template("accounts/token_revoke.html", token=token, form=ConfirmForm())


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@roles("officer", "staff", "admin")
def revoke(token_id: int):  # type: ignore[no-untyped-def]
    token = _own(token_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    revoke_token(token.id, actor=current_user)
    db.session.commit()
    flash(f"The token “{token.label or token.prefix}” is revoked.", "success")
    return redirect(url_for(".page"))
