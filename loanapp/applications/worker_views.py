"""The worker's pages: apply (with a saved draft), follow the application, upload, answer the offer.

Views parse the form, call one operation, and render; another worker's application id is a 404.
"""

from __future__ import annotations

import io
import secrets
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.security import check_password_hash

from loanapp.access import public, roles
from loanapp.accounts.operations import normalise_email
from loanapp.applications import documents, queries
from loanapp.applications import operations as ops
from loanapp.applications.blueprint import bp
from loanapp.applications.errors import ApplicationError, InvalidApplication, field_errors, message_of
from loanapp.applications.forms import ApplyForm, DocumentForm, OfferAnswerForm, VersionForm, version_of
from loanapp.applications.models import Application
from loanapp.applications.rules import ApplicationInput
from loanapp.applications.states import ApplicationStateError
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.programs.models import Employer, ReferralPartner, TrainingProgram

#: The session key holding this browser's draft token (the draft itself is in the database).
DRAFT_SESSION_KEY = "application_draft"


def form_lists() -> dict[str, list[tuple[str, str]]]:
    """Choices for the managed lists: partner employers first, then the others, by name."""
    employers = db.session.scalars(select(Employer).order_by(Employer.partner.desc(), Employer.name))
    programs = db.session.scalars(select(TrainingProgram).order_by(TrainingProgram.name))
    partners = db.session.scalars(select(ReferralPartner).order_by(ReferralPartner.name))
    return {
        "employers": [(str(e.id), e.name) for e in employers],
        "training_programs": [(str(p.id), p.name) for p in programs],
        "referral_partners": [(str(p.id), p.name) for p in partners],
    }


def _applicant() -> Any:
    return current_user if current_user.is_authenticated else None


def _render_apply(
    form: ApplyForm,
    status: int = 200,
    draft_loaded: bool = False,
    notes: list[str] | None = None,
    resume_url: str | None = None,
) -> Any:
    return render_template(
        "applications/apply.html",
        form=form,
        draft_loaded=draft_loaded,
        notes=notes or [],
        resume_url=resume_url,
        max_mb=max(1, int(current_app.config["UPLOAD_MAX_BYTES"]) // 2**20),
    ), status


def _same_person(application: Application, user: Any, account: ops.NewAccount | None) -> bool:
    """A repeated submission is shown only to whoever made the first one."""
    if user is not None:
        return bool(application.worker_id == user.id)
    if account is None:
        return False
    worker = application.worker
    return worker.email == normalise_email(account.email) and check_password_hash(
        worker.password_hash, account.password
    )


@bp.route("/apply", methods=["GET", "POST"])
@public
def apply():  # type: ignore[no-untyped-def]
    user = _applicant()
    if user is not None and user.role != "worker":
        abort(403)
    if user is not None:
        open_application = ops.open_application_of(user.id)
        if open_application is not None:
            flash(_("You already have an application in progress. Here is where it stands."), "info")
            return redirect(url_for(".status", application_id=open_application.id))
    token = session.get(DRAFT_SESSION_KEY)
    if request.method == "GET":
        draft = ops.load_draft(token, user=user)
        form = ApplyForm(
            formdata=MultiDict(draft) if draft else None, signed_in=user is not None, lists=form_lists()
        )
        form.submission_key.data = secrets.token_urlsafe(24)
        if form.language.data not in ("en", "es"):
            form.language.data = str(get_locale())
        resume_url = None
        if draft and token and request.args.get("saved"):
            resume_url = url_for(".resume_draft", token=token, _external=True)
        return _render_apply(form, draft_loaded=bool(draft) and not resume_url, resume_url=resume_url)

    form = ApplyForm(signed_in=user is not None, lists=form_lists())
    form.validate()
    if "csrf_token" in form.errors:
        abort(400)
    if request.form.get("action") == "save":
        token = ops.save_draft(token, request.form.to_dict(), user=user)
        db.session.commit()
        session[DRAFT_SESSION_KEY] = token
        return redirect(url_for(".apply", saved=1))

    data = ApplicationInput.from_mapping(form.answers())
    account = None if user is not None else ops.NewAccount(form.email.data or "", form.password.data or "")
    upload = None
    file = request.files.get("document")
    if file is not None and file.filename:
        upload = ops.Upload(form.document_kind.data or "", file.filename, file.stream)
    try:
        if form.errors:
            raise InvalidApplication(ops.check_answers(data, new_account=account, signed_in=user is not None))
        result = ops.submit_application(
            data,
            applicant=user,
            new_account=account,
            submission_key=form.submission_key.data or secrets.token_urlsafe(24),
            draft_token=token,
            document=upload,
            preferences=form.preferences(str(get_locale())),
        )
    except ApplicationError as exc:
        db.session.rollback()
        form.add_errors(field_errors(exc))
        form.form_errors.append(message_of(exc))
        return _render_apply(form, exc.status, notes=_to_enter_again(form, file))
    application = result.application
    if not result.created and not _same_person(application, user, account):
        db.session.rollback()
        form.form_errors.append(_("This form was already sent. Sign in to see your application."))
        return _render_apply(form, 409)
    db.session.commit()
    session.pop(DRAFT_SESSION_KEY, None)
    if user is None:
        login_user(application.worker)
    if result.created:
        flash(_("Thank you. Your application is sent. We will tell you here as soon as it moves."), "success")
    return redirect(url_for(".status", application_id=application.id))


def _to_enter_again(form: ApplyForm, file: Any) -> list[str]:
    """What a refused form cannot give back, said plainly rather than silently dropped: a browser never
    refills a file input, and a password is never sent back to the page."""
    notes = []
    if file is not None and file.filename:
        notes.append(
            _(
                "Choose your file %(name)s again: a file is kept only once the application is sent.",
                name=file.filename,
            )
        )
    if getattr(form, "password", None) is not None and form.password.data:
        notes.append(_("Type your password again: it is never shown back on the page."))
    return notes


@bp.route("/apply/resume/<token>")
@public
def resume_draft(token: str):  # type: ignore[no-untyped-def]
    """The saved answers on another device: the link shown after saving carries the draft's token."""
    user = _applicant()
    if ops.load_draft(token, user=None) is None or (user is not None and user.role != "worker"):
        flash(_("This link has expired or is not right. Your answers may be older than 30 days."), "error")
        return redirect(url_for(".apply"))
    session[DRAFT_SESSION_KEY] = token
    return redirect(url_for(".apply"))


@bp.route("/my-application")
@roles("worker")
def mine():  # type: ignore[no-untyped-def]
    applications = queries.of_worker(current_user.id)
    if applications:
        return redirect(url_for(".status", application_id=applications[0].id))
    return render_template("applications/none.html")


def _render_status(
    application: Application, status: int = 200, document_form: DocumentForm | None = None
) -> Any:
    version_form = VersionForm(formdata=None, version=application.version)
    return render_template(
        "applications/status.html",
        application=application,
        offer=queries.offer_disclosure(application, business_date()),
        loan=queries.loan_for(application.id),
        missing=queries.missing_documents(application),
        why=queries.counter_offer_why(application),
        earlier=[a for a in queries.of_worker(current_user.id) if a.id != application.id],
        document_form=document_form or DocumentForm(formdata=None, version=application.version),
        answer_form=OfferAnswerForm(formdata=None, version=application.version),
        version_form=version_form,
        max_mb=max(1, int(current_app.config["UPLOAD_MAX_BYTES"]) // 2**20),
    ), status


def _own(application_id: int) -> Application:
    application = queries.for_worker(application_id, current_user.id)
    if application is None:
        abort(404)
    return application


@bp.route("/my-application/<int:application_id>")
@roles("worker")
def status(application_id: int):  # type: ignore[no-untyped-def]
    return _render_status(_own(application_id))


@bp.route("/my-application/<int:application_id>/documents", methods=["POST"])
@roles("worker")
def upload(application_id: int):  # type: ignore[no-untyped-def]
    application = _own(application_id)
    form = DocumentForm()
    form.validate()
    if "csrf_token" in form.errors:
        abort(400)
    file = request.files.get("document")
    try:
        ops.add_document(
            application,
            upload=ops.Upload(
                form.document_kind.data or "",
                file.filename if file is not None else None,
                file.stream if file is not None else io.BytesIO(),
            ),
            actor=current_user,
        )
    except ApplicationError as exc:
        db.session.rollback()
        form.document.errors = [str(m) for m in field_errors(exc).get("file", [])]
        form.document_kind.errors = [str(m) for m in field_errors(exc).get("document_kind", [])]
        flash(message_of(exc), "error")
        return _render_status(application, exc.status, document_form=form)
    db.session.commit()
    flash(_("Thank you. Your document is uploaded."), "success")
    return redirect(url_for(".status", application_id=application.id))


def _act(application: Application, action: Any) -> Any:
    """Run a worker's action on the application; a refusal re-renders the page with its message."""
    try:
        action()
    except (ApplicationError, ApplicationStateError) as exc:
        db.session.rollback()
        db.session.refresh(application)
        if isinstance(exc, ApplicationStateError):
            # The state machine speaks officer English; the worker gets the plain, translated version.
            flash(
                _("Your application has moved on since you opened this page. Here is where it stands now."),
                "error",
            )
        else:
            flash(message_of(exc), "error")
        return _render_status(application, getattr(exc, "status", 409))
    db.session.commit()
    return None


@bp.route("/my-application/<int:application_id>/offer", methods=["POST"])
@roles("worker")
def answer_offer(application_id: int):  # type: ignore[no-untyped-def]
    application = _own(application_id)
    form = OfferAnswerForm()
    if not form.validate() or form.answer.data not in ("accept", "refuse"):
        abort(400)
    accept = form.answer.data == "accept"
    refused = _act(
        application,
        lambda: ops.respond_to_offer(
            application, version=version_of(form), accept=accept, actor=current_user
        ),
    )
    if refused is not None:
        return refused
    if accept:
        flash(
            _("You accepted the offer. The credit union will contact you to sign the loan papers."), "success"
        )
    else:
        flash(_("You refused the offer. You can apply again at any time."), "info")
    return redirect(url_for(".status", application_id=application.id))


@bp.route("/my-application/<int:application_id>/withdraw", methods=["POST"])
@roles("worker")
def withdraw(application_id: int):  # type: ignore[no-untyped-def]
    application = _own(application_id)
    form = VersionForm()
    if not form.validate():
        abort(400)
    refused = _act(
        application,
        lambda: ops.withdraw(application, version=version_of(form), actor=current_user),
    )
    if refused is not None:
        return refused
    flash(_("Your application is withdrawn."), "info")
    return redirect(url_for(".status", application_id=application.id))


@bp.route("/applications/<int:application_id>/documents/<int:document_id>")
@roles("worker", "officer")
def document(application_id: int, document_id: int):  # type: ignore[no-untyped-def]
    """The file, to its owner and to officers only (Work Train staff never see documents)."""
    worker_id = current_user.id if current_user.role == "worker" else None
    found = queries.document_for(application_id, document_id, worker_id)
    if found is None:
        abort(404)
    folder = documents.upload_folder(current_app.config, current_app.instance_path)
    try:
        path = documents.path_of(folder, found.stored_name)
    except FileNotFoundError:
        abort(404)
    # Officers preview PDFs and images inside the review page (?inline=1); otherwise it downloads.
    inline = current_user.role == "officer" and request.args.get("inline") == "1"
    response = send_file(
        path,
        mimetype=found.content_type,
        as_attachment=not inline,
        download_name=found.original_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    if inline:
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; frame-ancestors 'self'"
        )
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
