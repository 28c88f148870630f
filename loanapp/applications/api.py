"""``/api/v1/applications``: apply, read, verify employment, decide, answer the offer, book.

The same operations and rules as the pages. Refusals answer ``{"message", "errors"}`` with 422
(input), 409 (state, stale version, booked twice, reserve short) or 404 (not yours / not there).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import abort
from werkzeug.security import check_password_hash

from loanapp.access import public, request_user, roles
from loanapp.accounts.operations import normalise_email
from loanapp.api.core import api_blueprint
from loanapp.applications import operations as ops
from loanapp.applications import queries
from loanapp.applications.errors import ApplicationError, field_errors, http_status, message_of
from loanapp.applications.models import Application
from loanapp.applications.rules import ApplicationInput, DecisionInput, VerificationInput
from loanapp.applications.schemas import (
    AcceptanceSchema,
    ApplicationListSchema,
    ApplicationQuerySchema,
    ApplicationSchema,
    BookingRequestSchema,
    NewApplicationSchema,
    NewDecisionSchema,
    NewVerificationSchema,
    VerificationSchema,
)
from loanapp.applications.states import ApplicationStateError
from loanapp.applications.vocabulary import ADVERSE_ACTION_REASONS, label
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.loans import operations as loan_ops
from loanapp.loans.api import present_loan
from loanapp.loans.schemas import LoanSchema
from loanapp.notices.operations import Preferences

blp = api_blueprint(
    "applications_api",
    __name__,
    "/applications",
    "Car-loan applications: apply, employment verification, decision, the worker's answer, booking.",
)


def run(work: Any) -> Any:
    """Run one operation and commit, or roll back and answer its refusal."""
    try:
        result = work()
    except (ApplicationError, ApplicationStateError) as exc:
        db.session.rollback()
        errors = field_errors(exc)
        abort(http_status(exc), message=message_of(exc), **({"errors": errors} if errors else {}))
    db.session.commit()
    return result


def present(application: Application) -> dict[str, Any]:
    """The application as ``ApplicationSchema`` dumps it (officer-only parts are dropped for others)."""
    decision = application.decision
    offer = queries.offer_disclosure(application, business_date())
    loan = queries.loan_for(application.id)
    return {
        **{column: getattr(application, column) for column in _PLAIN_COLUMNS},
        "term_months": application.requested_term_months,
        "email": application.worker.email,
        "employer": application.employer,
        "training_program": application.training_program,
        "referral_partner": application.referral_partner,
        "documents": [
            {
                "id": d.id,
                "kind": d.kind,
                "name": d.original_name,
                "content_type": d.content_type,
                "size_bytes": d.size_bytes,
                "uploaded_at": d.uploaded_at,
                "url": url_for("applications.document", application_id=application.id, document_id=d.id),
            }
            for d in application.documents
        ],
        "missing_documents": queries.missing_documents(application),
        "decision": None
        if decision is None
        else {
            **{
                name: getattr(decision, name)
                for name in (
                    "kind",
                    "decided_at",
                    "amount",
                    "annual_rate",
                    "term_months",
                    "payment",
                    "response",
                    "responded_at",
                    "monthly_income",
                    "income_source",
                    "payment_to_income",
                    "debt_to_income",
                    "loan_to_value",
                    "flags",
                    "note",
                )
            },
            "reasons": [{"code": r, "text": label(ADVERSE_ACTION_REASONS, r)} for r in decision.reasons],
        },
        "offer": None
        if offer is None or loan is not None
        else {
            "payment": offer.schedule[0].payment,
            "apr": offer.annual_percentage_rate,
            "finance_charge": offer.finance_charge,
            "amount_financed": offer.amount_financed,
            "total_of_payments": offer.total_of_payments,
            "payment_schedule": offer.payment_summary,
            "schedule": offer.schedule,
        },
        "loan_id": loan.id if loan is not None else None,
        "verifications": application.verifications,
    }


_PLAIN_COLUMNS = (
    "id",
    "status",
    "version",
    "submitted_at",
    "decided_at",
    "first_name",
    "last_name",
    "ssn_last4",
    "date_of_birth",
    "phone",
    "street",
    "city",
    "state",
    "postal_code",
    "household_size",
    "employment_status",
    "employer_other",
    "start_date",
    "offer_date",
    "hourly_wage",
    "hours_per_week",
    "pay_frequency",
    "expected_completion",
    "monthly_income",
    "monthly_debts",
    "requested_amount",
    "vehicle_year",
    "vehicle_make",
    "vehicle_model",
    "vehicle_mileage",
    "vehicle_price",
    "sale_type",
    "dealer_name",
    "down_payment",
    "documents_note",
)


def visible(application_id: int) -> Application:
    """The application if the caller may see it (its applicant, or an officer); else 404."""
    user = request_user()
    if user.role == "officer":
        application = queries.get(application_id)
    else:
        application = queries.for_worker(application_id, user.id)
    if application is None:
        abort(404, message="No such application.")
    return application  # type: ignore[return-value]


def _same_person(application: Application, user: Any, body: dict[str, Any]) -> bool:
    if getattr(user, "is_authenticated", False):
        return bool(application.worker_id == user.id)
    email, password = body.get("email") or "", body.get("password") or ""
    return application.worker.email == normalise_email(email) and check_password_hash(
        application.worker.password_hash, password
    )


def _preferences(body: dict[str, Any]) -> Preferences | None:
    """The worker's channels, language and SMS consent, when the client sent any of them."""
    if body.get("language") is None and body.get("notify_by") is None and not body.get("sms_consent"):
        return None
    notify_by = set(body.get("notify_by") or ["email"])
    return Preferences(
        by_email="email" in notify_by,
        by_sms="sms" in notify_by,
        language=body.get("language"),
        phone=(body.get("phone") or "").strip() or None,
        sms_consent=bool(body.get("sms_consent")),
    )


@blp.route("")
class Applications(MethodView):
    @public
    @blp.arguments(NewApplicationSchema)
    @blp.response(201, ApplicationSchema)
    def post(self, body: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Apply for a car loan. Without a worker's bearer token, ``email`` and ``password`` create the
        worker's account. A repeat with the same submission key returns the first application (200)."""
        user = request_user()
        applicant = user if getattr(user, "is_authenticated", False) else None
        account = None if applicant else ops.NewAccount(body.get("email") or "", body.get("password") or "")
        key = (
            body.get("submission_key") or request.headers.get("Idempotency-Key") or secrets.token_urlsafe(24)
        )
        if len(key) > 64:
            abort(
                422,
                message="The submission key is too long.",
                errors={"submission_key": ["At most 64 characters."]},
            )
        result = run(
            lambda: ops.submit_application(
                ApplicationInput.from_mapping(body),
                applicant=applicant,
                new_account=account,
                submission_key=key,
                preferences=_preferences(body),
                consent_channel="api",
            )
        )
        application = result.application
        if not result.created:
            if not _same_person(application, user, body):
                abort(409, message="This submission key was already used for another application.")
            return present(application), 200
        location = url_for("applications_api.ApplicationItem", application_id=application.id)
        return present(application), 201, {"Location": location}

    @roles("officer")
    @blp.arguments(ApplicationQuerySchema, location="query")
    @blp.response(200, ApplicationListSchema)
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """The officer's queue: filter by status, employment, employer, training program and age; paged."""
        page = queries.queue(queries.QueueFilters(**args))
        return {
            "items": page.items,
            "total": page.total,
            "page": page.page,
            "pages": page.pages,
            "counts": queries.status_counts(),
        }


@blp.route("/<int:application_id>")
class ApplicationItem(MethodView):
    @roles("worker", "officer")
    @blp.response(200, ApplicationSchema)
    def get(self, application_id: int):  # type: ignore[no-untyped-def]
        """One application: its applicant sees it, officers see it with verifications and underwriting."""
        return present(visible(application_id))


@blp.route("/<int:application_id>/verifications")
class Verifications(MethodView):
    @roles("officer")
    @blp.arguments(NewVerificationSchema)
    @blp.response(201, VerificationSchema)
    def post(self, body: dict[str, Any], application_id: int):  # type: ignore[no-untyped-def]
        """Record an employment verification (the latest one counts; it expires before booking)."""
        application = visible(application_id)
        version = body.pop("version")
        return run(
            lambda: ops.record_verification(
                application, version=version, data=VerificationInput(**body), actor=request_user()
            )
        )


@blp.route("/<int:application_id>/decision")
class Decision(MethodView):
    @roles("officer")
    @blp.arguments(NewDecisionSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body: dict[str, Any], application_id: int):  # type: ignore[no-untyped-def]
        """Approve, counter-offer (changed amount or term) or decline (with principal reasons)."""
        application = visible(application_id)
        data = DecisionInput(
            kind=body["decision"],
            amount=body["amount"],
            annual_rate=body["annual_rate"],
            term_months=body["term_months"],
            reasons=tuple(body["reasons"]),
            note=body["note"],
        )
        run(lambda: ops.decide(application, version=body["version"], data=data, actor=request_user()))
        return present(application)


@blp.route("/<int:application_id>/acceptance")
class Acceptance(MethodView):
    @roles("worker")
    @blp.arguments(AcceptanceSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body: dict[str, Any], application_id: int):  # type: ignore[no-untyped-def]
        """The applicant accepts or refuses the offer."""
        application = visible(application_id)
        run(
            lambda: ops.respond_to_offer(
                application, version=body["version"], accept=body["accept"], actor=request_user()
            )
        )
        return present(application)


@blp.route("/<int:application_id>/booking")
class Booking(MethodView):
    @roles("officer")
    @blp.arguments(BookingRequestSchema)
    @blp.response(201, LoanSchema)
    def post(self, body: dict[str, Any], application_id: int):  # type: ignore[no-untyped-def]
        """Book the accepted offer as a loan: disclosure, schedule and reserve commitment, once."""
        application = visible(application_id)
        defaults = loan_ops.default_booking_dates(business_date())
        contract = body["contract_date"] or defaults.contract_date
        first = body["first_payment_date"] or (
            loan_ops.default_booking_dates(contract).first_payment_date
            if body["contract_date"]
            else defaults.first_payment_date
        )
        loan = run(
            lambda: loan_ops.book_loan(
                application,
                version=body["version"],
                data=loan_ops.BookingInput(contract, first),
                actor=request_user(),
            )
        )
        return present_loan(loan), 201, {"Location": url_for("loans_api.LoanItem", loan_id=loan.id)}
