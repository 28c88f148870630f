"""The loan officer's pages: the queue, the review page, and its actions (English only).

Every action form carries the application's ``version`` as the officer saw it; a stale one (a
colleague acted first) re-renders the page as it is now, with a 409 and a clear message.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from loanapp.access import roles
from loanapp.applications import operations as ops
from loanapp.applications import queries
from loanapp.applications.blueprint import bp
from loanapp.applications.errors import (
    ApplicationError,
    InvalidApplication,
    StaleApplication,
    field_errors,
    message_of,
)
from loanapp.applications.forms import (
    DecisionForm,
    DocumentRequestForm,
    EmployerForm,
    QueueFilterForm,
    VerificationForm,
    VersionForm,
    choices,
    version_of,
)
from loanapp.applications.models import Application
from loanapp.applications.rules import DecisionInput, VerificationInput
from loanapp.applications.states import ApplicationStateError, Status
from loanapp.applications.vocabulary import EMPLOYMENT_STATUS_NAMES
from loanapp.applications.worker_views import form_lists
from loanapp.clock import business_date
from loanapp.extensions import db


@bp.route("/applications")
@roles("officer")
def queue():  # type: ignore[no-untyped-def]
    lists = form_lists()
    form = QueueFilterForm(request.args)
    form.employer_id.choices = choices(lists["employers"], blank="All")
    form.training_program_id.choices = choices(lists["training_programs"], blank="All")
    # The queue opens on work to do; history (every status) is a filter away.
    wanted = request.args.get("status") or queries.TO_DO
    status = wanted if wanted in {s.value for s in Status} | {queries.TO_DO, queries.ALL} else queries.TO_DO
    employment = (
        form.employment_status.data if form.employment_status.data in EMPLOYMENT_STATUS_NAMES else None
    )
    filters = queries.QueueFilters(
        status=status,
        employer_id=form.employer_id.data if isinstance(form.employer_id.data, int) else None,
        training_program_id=form.training_program_id.data
        if isinstance(form.training_program_id.data, int)
        else None,
        employment_status=employment,
        min_age_days=form.min_age_days.data if isinstance(form.min_age_days.data, int) else None,
        sort=form.sort.data if form.sort.data in queries.SORTS else "recent",
        page=max(1, request.args.get("page", 1, type=int) or 1),
        per_page=int(current_app.config["APPLICATION_QUEUE_PAGE_SIZE"]),
    )
    page = queries.queue(filters)
    args = {k: v for k, v in request.args.items() if k != "page" and v}

    def page_url(number: int) -> str:
        return url_for(".queue", **args, page=number)

    def status_url(code: str) -> str:
        others = {k: v for k, v in args.items() if k != "status"}
        return url_for(".queue", **others, **({"status": code} if code != queries.TO_DO else {}))

    return render_template(
        "applications/queue.html",
        form=form,
        page=page,
        page_url=page_url,
        status_url=status_url,
        counts=queries.status_counts(),
        work_to_do=queries.WORK_TO_DO,
        filters=filters,
        args=args,
        age_in_days=queries.age_in_days,
    )


def _application(application_id: int) -> Application:
    application = queries.get(application_id)
    if application is None:
        abort(404)
    return application


def _review(application: Application, status: int = 200, **forms: Any) -> Any:
    """The review page; forms not given start from the application as it is now."""
    version = application.version
    lists = form_lists()
    verification = forms.get("verification_form") or VerificationForm(
        formdata=None,
        version=version,
        verified_on=business_date(),
        employer_id=application.employer_id,
        start_date=application.start_date,
        hourly_wage=application.hourly_wage,
        hours_per_week=application.hours_per_week,
    )
    verification.employer_id.choices = choices(lists["employers"], blank="Choose…")
    decision = forms.get("decision_form") or DecisionForm(
        formdata=None,
        version=version,
        amount=application.requested_amount,
        annual_rate=Decimal(str(current_app.config["QUOTE_STANDARD_RATE"])),
        term_months=application.requested_term_months,
    )
    standard_rate = Decimal(str(current_app.config["QUOTE_STANDARD_RATE"]))
    from loanapp.loans.forms import default_booking_form

    return render_template(
        "applications/review.html",
        application=application,
        age=queries.age_in_days(application),
        preview=queries.requested_payment_preview(application, standard_rate),
        standard_rate=standard_rate,
        offer=queries.offer_disclosure(application, business_date()),
        loan=queries.loan_for(application.id),
        valid_days=int(current_app.config["VERIFICATION_VALID_DAYS"]),
        today=business_date(),
        verification_form=verification,
        decision_form=decision,
        request_form=forms.get("request_form") or DocumentRequestForm(formdata=None, version=version),
        employer_form=forms.get("employer_form")
        or EmployerForm(formdata=None, version=version, name=application.employer_other),
        booking_form=forms.get("booking_form") or default_booking_form(application),
        version_form=VersionForm(formdata=None, version=version),
    ), status


@bp.route("/applications/<int:application_id>")
@roles("officer")
def review(application_id: int):  # type: ignore[no-untyped-def]
    return _review(_application(application_id))


def officer_action(
    application: Application,
    form: Any,
    form_name: str,
    action: Callable[[], Any],
    done: str,
    then: Callable[[Any], str] | None = None,
) -> Any:
    """Validate the form's CSRF token, run the operation, commit; refusals re-render the review page.

    A stale version shows the page as it is now (fresh forms) so the officer sees what changed.
    On success it redirects to ``then(result)`` or back to the review page.
    """
    form.validate()
    if "csrf_token" in form.errors:
        abort(400)
    try:
        result = action()
    except (ApplicationError, ApplicationStateError) as exc:
        db.session.rollback()
        db.session.refresh(application)
        flash(message_of(exc), "error")
        status = getattr(exc, "status", 409)
        if isinstance(exc, StaleApplication | ApplicationStateError):
            return _review(application, status)
        for name, messages in field_errors(exc).items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*(field.errors or []), *messages]
        return _review(application, status, **{form_name: form})
    db.session.commit()
    flash(done, "success")
    return redirect(then(result) if then else url_for(".review", application_id=application.id))


@bp.route("/applications/<int:application_id>/start-review", methods=["POST"])
@roles("officer")
def start_review(application_id: int):  # type: ignore[no-untyped-def]
    application = _application(application_id)
    form = VersionForm()
    return officer_action(
        application,
        form,
        "version_form",
        lambda: ops.start_review(application, version=version_of(form), actor=current_user),
        "Review started.",
    )


@bp.route("/applications/<int:application_id>/request-documents", methods=["POST"])
@roles("officer")
def request_documents(application_id: int):  # type: ignore[no-untyped-def]
    application = _application(application_id)
    form = DocumentRequestForm()
    return officer_action(
        application,
        form,
        "request_form",
        lambda: ops.request_documents(
            application,
            version=version_of(form),
            kinds=list(form.kinds.data or []),
            note=form.note.data or "",
            actor=current_user,
        ),
        "Documents requested; the worker sees what is missing on their status page.",
    )


@bp.route("/applications/<int:application_id>/verifications", methods=["POST"])
@roles("officer")
def verify(application_id: int):  # type: ignore[no-untyped-def]
    application = _application(application_id)
    form = VerificationForm()
    form.employer_id.choices = choices(form_lists()["employers"], blank="Choose…")

    def record() -> None:
        if form.errors:
            raise InvalidApplication({name: list(errs) for name, errs in form.errors.items()})
        ops.record_verification(
            application,
            version=version_of(form),
            data=VerificationInput(
                method=form.method.data or "",
                outcome=form.outcome.data or "",
                verified_on=form.verified_on.data,
                employer_id=form.employer_id.data,
                start_date=form.start_date.data,
                hourly_wage=form.hourly_wage.data,
                hours_per_week=form.hours_per_week.data,
                notes=form.notes.data or "",
            ),
            actor=current_user,
        )

    return officer_action(application, form, "verification_form", record, "Verification recorded.")


@bp.route("/applications/<int:application_id>/decision", methods=["POST"])
@roles("officer")
def decide(application_id: int):  # type: ignore[no-untyped-def]
    application = _application(application_id)
    form = DecisionForm()

    def decide_now() -> None:
        if form.errors:
            raise InvalidApplication({name: list(errs) for name, errs in form.errors.items()})
        ops.decide(
            application,
            version=version_of(form),
            data=DecisionInput(
                kind=form.kind.data or "",
                amount=form.amount.data,
                annual_rate=form.annual_rate.data,
                term_months=form.term_months.data,
                reasons=tuple(form.reasons.data or ()),
                note=form.note.data or "",
            ),
            actor=current_user,
        )

    return officer_action(application, form, "decision_form", decide_now, "Decision recorded.")


@bp.route("/applications/<int:application_id>/employer", methods=["POST"])
@roles("officer")
def add_employer(application_id: int):  # type: ignore[no-untyped-def]
    application = _application(application_id)
    form = EmployerForm()
    return officer_action(
        application,
        form,
        "employer_form",
        lambda: ops.add_employer(
            form.name.data or "",
            city=form.city.data or "",
            actor=current_user,
            application=application,
            version=version_of(form),
        ),
        "Employer added to the list and linked to this application.",
    )
