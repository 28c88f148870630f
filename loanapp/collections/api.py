"""Collections API: the worklist, a loan's contact log and promises to pay, assignment, hardship
plans. Officers and Work Train staff read; officers write, with a bearer token and an
``Idempotency-Key``. Bad input is 422 naming the field; nothing is written then."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import abort

from loanapp.access import request_user, roles
from loanapp.api.core import api_blueprint
from loanapp.clock import business_date
from loanapp.collections import operations, queries
from loanapp.collections.schemas import (
    AssignedSchema,
    AssignSchema,
    CollateralInSchema,
    CollateralSchema,
    ContactSchema,
    InsuranceInSchema,
    InsuranceSchema,
    NewContactSchema,
    NewPromiseSchema,
    PlanPreviewSchema,
    PlanRequestSchema,
    PlanSchema,
    PromiseOutSchema,
    WorklistQuerySchema,
    WorklistSchema,
)
from loanapp.extensions import db
from loanapp.servicing.api import IDEMPOTENCY_HEADER, visible_loan
from loanapp.servicing.errors import ServicingError
from loanapp.servicing.operations import scoped_key

blp = api_blueprint(
    "collections_api", __name__, "", "Collections: worklist, contact log, promises to pay, hardship plans."
)


def _refuse(exc: ServicingError) -> None:
    db.session.rollback()
    abort(exc.status, message=exc.message, **({"errors": exc.errors} if exc.errors else {}))


def present_contact(contact: Any, name: str) -> dict[str, Any]:
    return {
        "id": contact.id,
        "loan_id": contact.loan_id,
        "channel": contact.channel,
        "direction": contact.direction,
        "outcome": contact.outcome,
        "note": contact.note,
        "next_action_on": contact.next_action_on,
        "contacted_on": contact.contacted_on,
        "contacted_at": contact.contacted_at,
        "recorded_by": contact.recorded_by,
        "recorded_by_name": name,
    }


def assigned_filter(raw: str | None, user: Any) -> str | int | None:
    if not raw or raw == "all":
        return None
    if raw == "me":
        return int(user.id)
    if raw == "unassigned":
        return "unassigned"
    if raw.isdigit():
        return int(raw)
    abort(
        422,
        message="Some fields are not valid.",
        errors={"assigned": ["Use me, unassigned or an officer's id."]},
    )
    return None


@blp.route("/collections/worklist")
class Worklist(MethodView):
    @roles("officer", "staff")
    @blp.arguments(WorklistQuerySchema, location="query")
    @blp.response(200, WorklistSchema)
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Every active loan that needs a person today, with why (``reasons``), one page at a time."""
        today = business_date()
        filters = queries.WorklistFilters(
            reason=args["reason"],
            bucket=args["bucket"],
            assigned=assigned_filter(args["assigned"], request_user()),
            search=args["q"],
            sort=args["sort"],
            descending=args["order"] == "desc",
        )
        per_page = queries.page_size()
        items, total = queries.worklist(filters, today, page=args["page"], per_page=per_page)
        return {"as_of": today, "total": total, "page": args["page"], "per_page": per_page, "items": items}


@blp.route("/loans/<int:loan_id>/contacts")
class Contacts(MethodView):
    @roles("officer", "staff")
    @blp.response(200, ContactSchema(many=True))
    def get(self, loan_id: int):  # type: ignore[no-untyped-def]
        """The loan's contact log, newest first."""
        return [present_contact(c, name) for c, name in queries.contacts_of(visible_loan(loan_id))]

    @roles("officer")
    @blp.arguments(NewContactSchema)
    @blp.response(201, ContactSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """Log a contact with the borrower (append-only)."""
        loan = visible_loan(loan_id)
        actor = request_user()
        try:
            written = operations.log_contact(
                loan.id,
                operations.ContactInput(**args),
                actor=actor,
                key=scoped_key(actor, request.headers.get("Idempotency-Key")),
            )
        except ServicingError as exc:
            _refuse(exc)
        db.session.commit()
        return present_contact(written.row, actor.full_name), 201 if written.created else 200


@blp.route("/loans/<int:loan_id>/promises")
class Promises(MethodView):
    @roles("officer", "staff")
    @blp.response(200, PromiseOutSchema(many=True))
    def get(self, loan_id: int):  # type: ignore[no-untyped-def]
        """The loan's promises to pay, latest date first, each with its status (open, kept, broken)."""
        return queries.promises_of(visible_loan(loan_id), business_date())

    @roles("officer")
    @blp.arguments(NewPromiseSchema)
    @blp.response(201, PromiseOutSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """Record a promise to pay ``amount`` by ``promised_on`` (today or later)."""
        loan = visible_loan(loan_id)
        actor = request_user()
        try:
            written = operations.make_promise(
                loan.id,
                operations.PromiseInput(**args),
                actor=actor,
                key=scoped_key(actor, request.headers.get("Idempotency-Key")),
            )
        except ServicingError as exc:
            _refuse(exc)
        db.session.commit()
        view = queries.promise_views([written.row], business_date())[0]
        return view, 201 if written.created else 200


@blp.route("/loans/<int:loan_id>/assignment")
class Assignment(MethodView):
    @roles("officer")
    @blp.arguments(AssignSchema)
    @blp.response(200, AssignedSchema)
    def put(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """Assign the loan to an officer (``officer_id`` null: unassign). Repeating it changes nothing."""
        loan = visible_loan(loan_id)
        try:
            case = operations.assign(loan.id, args["officer_id"], actor=request_user())
        except ServicingError as exc:
            _refuse(exc)
        db.session.commit()
        return case


def _plan_input(args: dict[str, Any]) -> operations.PlanInput:
    return operations.PlanInput(
        kind=args["kind"],
        effective_on=args["effective_on"],
        installments=args["installments"],
        due_day=args["due_day"],
        term_months=args["term_months"],
        reason=args["reason"],
    )


def present_preview(preview: Any) -> dict[str, Any]:
    return {
        "kind": preview.kind,
        "effective_on": preview.effective_on,
        "installments": preview.installments,
        "due_day": preview.due_day,
        "term_months": preview.term_months,
        "before": preview.before,
        "after": preview.after,
        "lines": preview.lines,
    }


def present_plan(plan: Any) -> dict[str, Any]:
    from loanapp.collections.plans import confirmed as confirmed_figures

    confirmed = confirmed_figures(plan)
    return {
        "id": plan.id,
        "loan_id": plan.loan_id,
        "kind": plan.kind,
        "effective_on": plan.effective_on,
        "installments": plan.installments,
        "due_day": plan.due_day,
        "term_months": plan.term_months,
        "reason": plan.reason,
        "resumes_on": plan.resumes_on,
        "before": confirmed["before"],
        "after": confirmed["after"],
        "lines": confirmed["lines"],
        "recorded_by": plan.recorded_by,
        "recorded_at": plan.recorded_at,
    }


@blp.route("/loans/<int:loan_id>/plans/preview")
class PlanPreview(MethodView):
    @roles("officer")
    @blp.arguments(PlanRequestSchema)
    @blp.response(200, PlanPreviewSchema)
    def post(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """What a hardship plan would do: the loan before and after, and the schedule after (writes nothing)."""
        loan = visible_loan(loan_id)
        try:
            preview = operations.preview_plan(loan.id, _plan_input(args))
        except ServicingError as exc:
            _refuse(exc)
        return present_preview(preview)


@blp.route("/loans/<int:loan_id>/plans")
class Plans(MethodView):
    @roles("officer", "staff")
    @blp.response(200, PlanSchema(many=True))
    def get(self, loan_id: int):  # type: ignore[no-untyped-def]
        """The loan's hardship plans, latest first, with the figures confirmed when each was made."""
        from loanapp.collections import plans

        return [present_plan(view.plan) for view in plans.plans_of(visible_loan(loan_id))]

    @roles("officer")
    @blp.arguments(PlanRequestSchema)
    @blp.response(201, PlanSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """Put a hardship plan on the loan (``kind``: deferral, due_day, reamortize, reage); ``reason`` is required."""
        loan = visible_loan(loan_id)
        actor = request_user()
        try:
            written = operations.create_plan(
                loan.id,
                _plan_input(args),
                actor=actor,
                key=scoped_key(actor, request.headers.get("Idempotency-Key")),
            )
        except ServicingError as exc:
            _refuse(exc)
        db.session.commit()
        return present_plan(written.row), 201 if written.created else 200


@blp.route("/loans/<int:loan_id>/collateral")
class CollateralResource(MethodView):
    @roles("officer", "staff")
    @blp.response(200, CollateralSchema)
    def get(self, loan_id: int):  # type: ignore[no-untyped-def]
        """The car: VIN, year, make, model, title and lien status."""
        loan = visible_loan(loan_id)
        return queries.collateral_of(loan) or operations.open_collateral(loan)

    @roles("officer")
    @blp.arguments(CollateralInSchema)
    @blp.response(200, CollateralSchema)
    def put(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """Set the VIN (check digit verified; refused when on another live loan) and the lien's status."""
        loan = visible_loan(loan_id)
        try:
            row = operations.put_collateral(loan.id, operations.CollateralInput(**args), actor=request_user())
        except ServicingError as exc:
            _refuse(exc)
        db.session.commit()
        return row


def present_insurance(proof: Any) -> dict[str, Any]:
    return {
        "id": proof.id,
        "loan_id": proof.loan_id,
        "carrier": proof.carrier,
        "policy_number": proof.policy_number,
        "covered_from": proof.covered_from,
        "covered_through": proof.covered_through,
        "recorded_at": proof.recorded_at,
        "lapsed": proof.covered_through < business_date(),
    }


@blp.route("/loans/<int:loan_id>/insurance")
class Insurance(MethodView):
    @roles("officer", "staff")
    @blp.response(200, InsuranceSchema(many=True))
    def get(self, loan_id: int):  # type: ignore[no-untyped-def]
        """Proofs of insurance, newest first (the first is the coverage in force)."""
        return [present_insurance(p) for p in queries.insurance_of(visible_loan(loan_id))]

    @roles("officer")
    @blp.arguments(InsuranceInSchema)
    @blp.response(200, InsuranceSchema)
    def put(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """Record proof of insurance (the same proof again changes nothing)."""
        loan = visible_loan(loan_id)
        try:
            proof = operations.put_insurance(loan.id, operations.InsuranceInput(**args), actor=request_user())
        except ServicingError as exc:
            _refuse(exc)
        db.session.commit()
        return present_insurance(proof)
