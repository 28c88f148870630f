"""``/api/v1/reserve``: the reserve's position, journal, deposits, claims, recoveries and reversals."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import abort

import reserve
from loanapp.access import request_user, roles
from loanapp.api.core import api_blueprint
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.reserve_admin import actions
from loanapp.reserve_admin.figures import figures
from loanapp.reserve_admin.refusals import REFUSALS, status_for
from loanapp.reserve_admin.schemas import (
    AsOfSchema,
    ClaimDecisionSchema,
    ClaimQuerySchema,
    ClaimSchema,
    DepositSchema,
    JournalPageSchema,
    JournalQuerySchema,
    NewClaimSchema,
    PositionSchema,
    RecoverySchema,
    TransactionReversalSchema,
    TransactionSchema,
)

blp = api_blueprint("reserve_api", __name__, "/reserve", "The loan-loss reserve ledger.")

IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "maxLength": actions.MAX_KEY_LENGTH},
    "description": "Unique per request; a retry with the same key and body returns the first result.",
}


def _commit_or_refuse(run: Any) -> Any:
    """Run one ledger write and commit it, or roll it back and answer the refusal."""
    try:
        result = run()
    except REFUSALS as exc:
        db.session.rollback()
        field = "Idempotency-Key" if isinstance(exc, actions.BadKey) else getattr(exc, "field", None)
        abort(status_for(exc), message=str(exc), **({"errors": {field: [str(exc)]}} if field else {}))
    db.session.commit()
    return result


def _key() -> str | None:
    return request.headers.get("Idempotency-Key")


@blp.route("")
class Position(MethodView):
    @roles("staff", "officer", "admin")
    @blp.arguments(AsOfSchema, location="query")
    @blp.response(200, PositionSchema)
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Balance, committed, available, claims and coverage as of a date."""
        result = figures(args["as_of"] or business_date())
        return {
            **asdict(result.position),
            "outstanding_principal": result.outstanding_principal,
            "coverage": result.coverage,
        }


@blp.route("/transactions")
class Transactions(MethodView):
    @roles("staff", "officer", "admin")
    @blp.arguments(JournalQuerySchema, location="query")
    @blp.response(200, JournalPageSchema)
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """The journal, newest effective date first, with filters and pages."""
        kind = reserve.TransactionKind(args.pop("kind")) if args.get("kind") else None
        page = reserve.journal(db.session, kind=kind, **{k: v for k, v in args.items() if k != "kind"})
        return {
            "items": page.items,
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "pages": page.pages,
        }


@blp.route("/transactions/<int:transaction_id>/reversal")
class Reversal(MethodView):
    @roles("staff")
    @blp.arguments(TransactionReversalSchema)
    @blp.response(201, TransactionSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any], transaction_id: int):  # type: ignore[no-untyped-def]
        """Reverse a transaction with a new, linked one (at most once)."""
        return _commit_or_refuse(
            lambda: actions.reversal(
                request_user(),
                _key(),
                transaction_id,
                args["effective_date"] or business_date(),
                args["reason"],
            )
        )


@blp.route("/deposits")
class Deposits(MethodView):
    @roles("staff")
    @blp.arguments(DepositSchema)
    @blp.response(201, TransactionSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Record grant money received into the reserve."""
        return _commit_or_refuse(lambda: actions.deposit(request_user(), _key(), **args))


@blp.route("/claims")
class Claims(MethodView):
    @roles("staff", "officer", "admin")
    @blp.arguments(ClaimQuerySchema, location="query")
    @blp.response(200, ClaimSchema(many=True))
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Claims, newest first."""
        status = reserve.ClaimStatus(args["status"]) if args["status"] else None
        return reserve.list_claims(db.session, status=status, loan_id=args["loan_id"])

    @roles("officer")
    @blp.arguments(NewClaimSchema)
    @blp.response(201, ClaimSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """File a claim for a charged-off loan: loss = balance at charge-off (from the loan's charge-off
        record) + itemised allowed costs − collateral proceeds. Refused for a loan not charged off."""
        from loanapp.loans.models import Loan

        if db.session.get(Loan, args["loan_id"]) is None:
            abort(422, errors={"loan_id": ["No such loan."]}, message="No such loan.")
        return _commit_or_refuse(
            lambda: actions.file_claim(
                request_user(),
                _key(),
                args["loan_id"],
                [
                    reserve.CostItem(reserve.CostKind(i["kind"]), i["amount"], i["description"])
                    for i in args["allowed_costs"]
                ],
                args["collateral_proceeds"] or 0,
                business_date(),
                args["memo"],
            )
        )


@blp.route("/claims/<int:claim_id>")
class OneClaim(MethodView):
    @roles("staff", "officer", "admin")
    @blp.response(200, ClaimSchema)
    def get(self, claim_id: int):  # type: ignore[no-untyped-def]
        """One claim with its history."""
        try:
            return reserve.get_claim(db.session, claim_id)
        except reserve.ClaimNotFound:
            abort(404, message="No such claim.")


@blp.route("/claims/<int:claim_id>/approval")
class ClaimApproval(MethodView):
    @roles("staff")
    @blp.arguments(ClaimDecisionSchema)
    @blp.response(200, ClaimSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any], claim_id: int):  # type: ignore[no-untyped-def]
        """Approve (pay) or reject a pending claim. The filer may not decide it (maker-checker)."""
        if args["decision"] == "reject" and not args["note"].strip():
            abort(
                422,
                errors={"note": ["Give the reason for rejecting."]},
                message="Give the reason for rejecting.",
            )
        return _commit_or_refuse(
            lambda: actions.decide_claim(
                request_user(),
                _key(),
                claim_id,
                args["decision"] == "approve",
                args["effective_date"] or business_date(),
                args["note"],
            )
        )


@blp.route("/recoveries")
class Recoveries(MethodView):
    @roles("officer", "staff")
    @blp.arguments(RecoverySchema)
    @blp.response(201, TransactionSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Money recovered after a paid claim goes back to the reserve (up to what the claim paid)."""
        return _commit_or_refuse(lambda: actions.recovery(request_user(), _key(), **args))
