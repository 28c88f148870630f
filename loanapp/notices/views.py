"""Pages of the notices feature: the worker's messages and contact settings, the admins' outbox viewer,
the printable Reg B notice, and the SMS provider's inbound webhook (STOP)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from loanapp.access import public, roles
from loanapp.extensions import db
from loanapp.notices import messages, queries
from loanapp.notices import operations as ops
from loanapp.notices.models import AdverseActionNotice

bp = Blueprint("notices", __name__)


class ContactForm(FlaskForm):
    notify_by = RadioField(
        "",
        choices=[SelectChoice("email", ""), SelectChoice("sms", ""), SelectChoice("both", "")],
        default="email",
        validate_choice=False,
    )
    phone = StringField("", [Length(max=30)], render_kw={"autocomplete": "tel", "type": "tel"})
    sms_consent = BooleanField("")
    language = RadioField(
        "", choices=[SelectChoice("en", "English"), SelectChoice("es", "Español")], validate_choice=False
    )

    def label_for_locale(self) -> None:
        """Labels in the page's language (built per request: the form's class is shared)."""
        self.notify_by.label.text = _("How should we tell you about your application and your loan?")
        self.notify_by.choices = [
            SelectChoice("email", _("By email")),
            SelectChoice("sms", _("By text message")),
            SelectChoice("both", _("Both")),
        ]
        self.phone.label.text = _("Mobile number for texts")
        self.sms_consent.label.text = str(ops.SMS_CONSENT_TEXT)
        self.language.label.text = _("Language for messages")


@bp.route("/my/messages", methods=["GET", "POST"])
@roles("worker")
def my_messages():  # type: ignore[no-untyped-def]
    """The worker's messages (what we sent, when and how) and how they want to hear from us."""
    prefs = ops.preferences_of(current_user.id)
    form = ContactForm()
    form.label_for_locale()
    status = 200
    if request.method == "GET":
        if prefs is not None:
            form.notify_by.data = (
                "both" if prefs.by_email and prefs.by_sms else ("sms" if prefs.by_sms else "email")
            )
            form.phone.data = prefs.phone or ""
            form.sms_consent.data = prefs.by_sms
        form.language.data = current_user.locale or str(get_locale())
    elif form.validate_on_submit():
        choice = form.notify_by.data if form.notify_by.data in ("email", "sms", "both") else "email"
        wanted = ops.Preferences(
            by_email=choice in ("email", "both"),
            by_sms=choice in ("sms", "both"),
            language=form.language.data if form.language.data in ("en", "es") else None,
            phone=(form.phone.data or "").strip() or None,
            sms_consent=bool(form.sms_consent.data),
        )
        try:
            ops.set_preferences(current_user, wanted, channel="web", actor=current_user)
        except ops.NoticeError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors = [exc.message]
            status = 422
        else:
            db.session.commit()
            if wanted.language:
                from flask import session

                session["lang"] = wanted.language
            flash(_("Saved. We will use these settings from now on."), "success")
            return redirect(url_for(".my_messages"))
    else:
        status = 400
    return (
        render_template(
            "notices/messages.html",
            form=form,
            prefs=prefs,
            notices=queries.messages_of(current_user.id),
        ),
        status,
    )


@bp.route("/admin/outbox")
@roles("admin")
def outbox():  # type: ignore[no-untyped-def]
    """Every notice as queued and sent (development: the only place messages go)."""
    wanted = request.args.get("status") or None
    if wanted not in (None, "pending", "sending", "sent", "failed", "cancelled"):
        wanted = None
    return render_template(
        "notices/outbox.html",
        notices=queries.outbox(wanted),
        counts=queries.status_counts(),
        wanted=wanted,
        transport=current_app.config["NOTICES_TRANSPORT"],
    )


@bp.route("/my-application/<int:application_id>/notice/<int:notice_id>")
@roles("worker", "officer")
def adverse_action(application_id: int, notice_id: int):  # type: ignore[no-untyped-def]
    """The Reg B notice as it was given, printable."""
    notice = db.session.get(AdverseActionNotice, notice_id)
    if notice is None or notice.application_id != application_id:
        abort(404)
    if current_user.role == "worker":
        from loanapp.applications.models import Application

        application = db.session.get(Application, application_id)
        if application is None or application.worker_id != current_user.id:
            abort(404)
    return render_template("notices/adverse_action.html", notice=notice)


# --- the SMS provider's inbound webhook ------------------------------------------------------------


def twilio_signature(token: str, url: str, form: dict[str, str]) -> str:
    """HMAC-SHA1 of the URL followed by every form field's name and value, sorted by name; base64."""
    payload = url + "".join(f"{key}{form[key]}" for key in sorted(form))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _signed(token: str) -> bool:
    given = request.headers.get("X-Twilio-Signature", "")
    if not token or not given:
        return False
    form = {key: request.form.get(key, "") for key in request.form}
    public_url = str(current_app.config["PUBLIC_URL"]).rstrip("/") + request.full_path.rstrip("?")
    return any(
        hmac.compare_digest(twilio_signature(token, url, form), given) for url in {request.url, public_url}
    )


@bp.route("/api/v1/sms/inbound", methods=["POST"])
@public
def sms_inbound():  # type: ignore[no-untyped-def]
    """A text a worker sent us (STOP, START, HELP). Refused (403) unless signed with SMS_AUTH_TOKEN."""
    if not _signed(str(current_app.config["SMS_AUTH_TOKEN"])):
        return Response(
            '{"message": "The request signature is not valid."}', status=403, mimetype="application/json"
        )
    result = ops.inbound_sms(request.form.get("From", ""), request.form.get("Body", ""))
    db.session.commit()
    reply = f"<Message>{escape(result.reply)}</Message>" if result.reply else ""
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{reply}</Response>', mimetype="text/xml"
    )


def register_template_helpers(app: object) -> None:
    """``credit_union`` (contact and how to pay) on every page, for the worker pages' contact card."""

    def context() -> dict[str, object]:
        return {"credit_union": messages.contact()}

    app.context_processor(context)  # type: ignore[attr-defined]
    # Officers' pages list the messages of an application or a loan without their views changing.
    app.add_template_global(queries.notices_for, "notices_for")  # type: ignore[attr-defined]
    app.add_template_global(queries.adverse_action_notices, "adverse_action_notices")  # type: ignore[attr-defined]
