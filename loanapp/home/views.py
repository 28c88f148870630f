from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user

from loanapp.access import public, signed_in
from loanapp.accounts.views import _safe_next
from loanapp.audit.wording import describe
from loanapp.home import landing as landing_data

bp = Blueprint("home", __name__)


@bp.route("/")
@public
def index():  # type: ignore[no-untyped-def]
    return render_template("home/index.html")


@bp.route("/language/<code>")
@public
def set_language(code: str):  # type: ignore[no-untyped-def]
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated and current_user.locale != code:
            # Signed in, the choice is kept on the account: every page and message uses it.
            from loanapp.accounts.operations import set_language
            from loanapp.extensions import db

            set_language(current_user, code, actor=current_user)
            db.session.commit()
    return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))


@bp.route("/home")
@signed_in
def landing():  # type: ignore[no-untyped-def]
    role = current_user.role
    return render_template(
        f"home/landing_{role}.html", describe_event=describe, **landing_data.for_user(current_user)
    )


@bp.route("/favicon.ico")
@public
def favicon():  # type: ignore[no-untyped-def]
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=86400,
    )
