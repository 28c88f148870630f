"""Outcome API: a loan's check-ins (read and answer) and the outcome report.

``POST /api/v1/loans/{id}/check-ins``: the loan's own worker (a self-report) or an officer, with a
bearer token and an ``Idempotency-Key``. Someone else's loan is "no such loan" (404). Bad input is
422 with field errors; a check-in answered twice is 409; nothing is written on a refusal.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import abort

from loanapp.access import request_user, roles
from loanapp.api.core import api_blueprint
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.outcomes import operations, queries
from loanapp.outcomes.errors import OutcomeError
from loanapp.outcomes.presenting import report_document
from loanapp.outcomes.schedule import OutcomePolicy
from loanapp.outcomes.schemas import CheckInSchema, LoanCheckInsSchema, NewCheckInSchema, ReportQuerySchema

blp = api_blueprint("outcomes_api", __name__, "", "Outcome check-ins and the outcome report.")

IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "maxLength": operations.MAX_KEY_LENGTH},
    "description": "Unique per request; a retry with the same key and body returns the first result.",
}


def _visible_loan(loan_id: int) -> Loan:
    user = request_user()
    loan = db.session.get(Loan, loan_id)
    if loan is None or (user.role == "worker" and loan.borrower_id != user.id):
        abort(404, message="No such loan.")
    return loan


def loan_visible_first(view):  # type: ignore[no-untyped-def]
    """Answer "no such loan" before looking at the body, so a refusal never tells whether the loan exists."""

    @functools.wraps(view)
    def checked(*args: Any, loan_id: int, **kwargs: Any):  # type: ignore[no-untyped-def]
        _visible_loan(loan_id)
        return view(*args, loan_id=loan_id, **kwargs)

    return checked


def loan_document(loan_id: int) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "check_ins": [
            {
                "milestone": item.due.milestone,
                "due_on": item.due.due_on,
                "state": item.due.state,
                "state_since": item.due.state_since,
                "answer": None if item.answer is None else queries.present(item.answer),
                "history": [queries.present(c) for c in item.history],
            }
            for item in queries.loan_check_ins(loan_id)
        ],
    }


@blp.route("/loans/<int:loan_id>/check-ins")
class LoanCheckIns(MethodView):
    @roles("worker", "officer", "staff")
    @blp.response(200, LoanCheckInsSchema)
    def get(self, loan_id: int):  # type: ignore[no-untyped-def]
        """The loan's scheduled check-ins (3, 6, 12, 24 months and payoff), their state and answers."""
        loan = _visible_loan(loan_id)
        return loan_document(loan.id)

    @roles("worker", "officer")
    @loan_visible_first
    @blp.arguments(NewCheckInSchema)
    @blp.response(201, CheckInSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """Answer the loan's oldest open check-in (or ``milestone``), or correct an answer (``corrects_id``)."""
        loan = _visible_loan(loan_id)
        actor = request_user()
        try:
            key = operations.scoped_key(actor, request.headers.get("Idempotency-Key"))
            corrects = args.get("corrects_id")
            if corrects is not None and (isinstance(corrects, bool) or not str(corrects).isdigit()):
                abort(422, message="Some fields are not valid.", errors={"corrects_id": ["A check-in id."]})
            result = operations.record_check_in(
                loan.id,
                operations.CheckInInput(
                    employed=args["employed"],
                    car_running=args["car_running"],
                    source=args["source"],
                    employer_id=args["employer_id"],
                    employer_other=str(args["employer_other"] or ""),
                    hourly_wage=args["hourly_wage"],
                    hours_per_week=args["hours_per_week"],
                    commute=args["commute"],
                    started_job=args["started_job"],
                    started_on=args["started_on"],
                    comment=str(args["comment"] or ""),
                    checked_on=args["checked_on"],
                    milestone=None if args["milestone"] is None else str(args["milestone"]),
                    corrects_id=None if corrects is None else int(corrects),
                ),
                actor=actor,
                key=key,
            )
        except OutcomeError as exc:
            db.session.rollback()
            abort(exc.status, message=exc.message, **({"errors": exc.errors} if exc.errors else {}))
        db.session.commit()
        return queries.present(result.check_in)


@blp.route("/reports/outcomes")
class OutcomeReport(MethodView):
    @roles("staff", "officer", "admin")
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200)
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """The outcome report's figures: headline, totals and every group; groups and figures of fewer
        than 5 borrowers are suppressed (``"suppressed": true``, figures null)."""
        policy = OutcomePolicy.from_config(current_app.config)
        today = business_date()
        report = queries.build_report(
            db.session, today, policy.months, policy.min_group, args["booked_from"], args["booked_to"]
        )
        return report_document(report, today, args["booked_from"], args["booked_to"])
