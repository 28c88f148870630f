"""Servicing API: a loan's schedule, payments, payoff and charge-off, and the delinquency report.

The borrower reads their own loan; officers and Work Train staff read any loan; officers write (with
a bearer token and an ``Idempotency-Key``). Someone else's loan is "no such loan" (404), a closed
loan refuses payments with 409, bad input is 422 with ``{"errors": {field: [...]}}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import abort

from loanapp.access import request_user, roles
from loanapp.api.core import api_blueprint
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.servicing import operations, queries, reports
from loanapp.servicing.errors import ServicingError
from loanapp.servicing.models import Payment
from loanapp.servicing.policy import current_policy
from loanapp.servicing.schemas import (
    ChargeOffResultSchema,
    ChargeOffSchema,
    DelinquencyReportSchema,
    NewPaymentSchema,
    PaymentResultSchema,
    PaymentReversalSchema,
    PaymentSchema,
    PayoffQuerySchema,
    PayoffSchema,
    ReportQuerySchema,
    ScheduleLineSchema,
)
from risk.money import ZERO

blp = api_blueprint("servicing_api", __name__, "", "Loan servicing: payments, schedule, payoff, delinquency.")

IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "maxLength": operations.MAX_KEY_LENGTH},
    "description": "Unique per request; a retry with the same key and body returns the first result.",
}


def visible_loan(loan_id: int) -> Loan:
    """The loan if the caller may see it (its borrower, officers, staff); otherwise 404, never 403,
    so guessing ids tells nothing."""
    user = request_user()
    loan = db.session.get(Loan, loan_id)
    if loan is None or (user.role == "worker" and loan.borrower_id != user.id):
        abort(404, message="No such loan.")
    return loan


def _refuse(exc: ServicingError) -> None:
    db.session.rollback()
    abort(exc.status, message=exc.message, **({"errors": exc.errors} if exc.errors else {}))


def present_payment(payment: Payment, reversal: Payment | None = None) -> dict[str, Any]:
    allocation = payment.allocation if payment.kind == "payment" else None
    if reversal is None and payment.kind == "payment":
        reversal = db.session.query(Payment).filter(Payment.reverses_id == payment.id).one_or_none()
    return {
        "id": payment.id,
        "loan_id": payment.loan_id,
        "kind": payment.kind,
        "amount": payment.amount,
        "received_on": payment.received_on,
        "method": payment.method,
        "reference": payment.reference,
        "source": payment.source,
        "posted_on": payment.posted_on,
        "reverses_id": payment.reverses_id,
        "reason": payment.reason,
        "entered_in_error": payment.entered_in_error or (reversal is not None and reversal.entered_in_error),
        "reversed": reversal is not None,
        "reversal_id": reversal.id if reversal is not None else None,
        "allocation": None
        if allocation is None
        else {
            "to_fees": allocation.to_fees,
            "to_interest": allocation.to_interest,
            "to_principal": allocation.to_principal,
            "excess": allocation.excess,
            "principal_after": allocation.principal_after,
        },
    }


@blp.route("/loans/<int:loan_id>/schedule")
class Schedule(MethodView):
    @roles("worker", "officer", "staff")
    @blp.response(200, ScheduleLineSchema(many=True))
    def get(self, loan_id: int):  # type: ignore[no-untyped-def]
        """The disclosed schedule, each installment marked paid, partly paid or unpaid."""
        loan = visible_loan(loan_id)
        row = queries.servicing_row(loan)
        credited = row.credited if row is not None else ZERO
        return queries.schedule_with_marks(
            loan, business_date(), credited, current_policy(), paid_off=loan.status == "paid_off"
        )


@blp.route("/loans/<int:loan_id>/payments")
class Payments(MethodView):
    @roles("worker", "officer", "staff")
    @blp.response(200, PaymentSchema(many=True))
    def get(self, loan_id: int):  # type: ignore[no-untyped-def]
        """Payments received, newest first, with their allocation; a returned payment shows its reversal."""
        loan = visible_loan(loan_id)
        lines = (
            queries.borrower_history(loan)
            if request_user().role == "worker"
            else queries.payment_history(loan)
        )
        return [present_payment(line.payment, line.reversal) for line in lines]

    @roles("officer")
    @blp.arguments(NewPaymentSchema)
    @blp.response(201, PaymentResultSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """Record a payment received (backdated payments re-allocate every later one)."""
        loan = visible_loan(loan_id)
        actor = request_user()
        try:
            result = operations.record_payment(
                loan.id,
                operations.PaymentInput(
                    args["amount"],
                    args["received_on"],
                    args["method"],
                    args["reference"],
                    args["allow_excess"],
                ),
                actor=actor,
                key=operations.scoped_key(actor, request.headers.get("Idempotency-Key")),
                source="api",
            )
        except ServicingError as exc:
            _refuse(exc)
        db.session.commit()
        body = present_payment(result.payment)
        body["servicing"] = queries.summary_for_api(db.session.get(Loan, loan_id), business_date())  # type: ignore[arg-type]
        return body


@blp.route("/loans/<int:loan_id>/payments/<int:payment_id>/reversal")
class PaymentReversal(MethodView):
    @roles("officer")
    @blp.arguments(PaymentReversalSchema)
    @blp.response(201, PaymentResultSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, args: dict[str, Any], loan_id: int, payment_id: int):  # type: ignore[no-untyped-def]
        """Reverse a returned payment: the loan is re-derived as if it had never been received."""
        loan = visible_loan(loan_id)
        actor = request_user()
        try:
            result = operations.reverse_payment(
                loan.id,
                payment_id,
                actor=actor,
                key=operations.scoped_key(actor, request.headers.get("Idempotency-Key")),
                reason=args["reason"],
                returned_on=args["returned_on"],
                source="api",
                entered_in_error=args["entered_in_error"],
            )
        except ServicingError as exc:
            _refuse(exc)
        db.session.commit()
        body = present_payment(result.payment)
        body["servicing"] = queries.summary_for_api(db.session.get(Loan, loan_id), business_date())  # type: ignore[arg-type]
        return body


@blp.route("/loans/<int:loan_id>/payoff")
class Payoff(MethodView):
    @roles("worker", "officer", "staff")
    @blp.arguments(PayoffQuerySchema, location="query")
    @blp.response(200, PayoffSchema)
    def get(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """What pays the loan off today, or on a date up to 30 days ahead."""
        loan = visible_loan(loan_id)
        today = business_date()
        policy = current_policy()
        as_of = args["as_of"] or today
        if not today <= as_of <= today + dt.timedelta(days=policy.payoff_quote_days):
            abort(
                422,
                message="Some fields are not valid.",
                errors={"as_of": [f"Choose a date from today to {policy.payoff_quote_days} days ahead."]},
            )
        if loan.status != "active":
            abort(409, message=f"This loan is {loan.status.replace('_', ' ')}; there is nothing to pay off.")
        position = queries.loan_position(loan, as_of, policy=policy)
        return {
            "loan_id": loan.id,
            "as_of": as_of,
            "principal_balance": position.principal_balance,
            "accrued_interest": position.accrued_interest,
            "fees_due": position.fees_due,
            "payoff_amount": position.payoff,
        }


@blp.route("/loans/<int:loan_id>/charge-off")
class ChargeOffItem(MethodView):
    @roles("officer")
    @blp.arguments(ChargeOffSchema)
    @blp.response(201, ChargeOffResultSchema)
    def post(self, args: dict[str, Any], loan_id: int):  # type: ignore[no-untyped-def]
        """Charge off a loan at or past the policy's days past due; files the reserve claim."""
        loan = visible_loan(loan_id)
        try:
            entry = operations.charge_off(
                loan.id,
                operations.ChargeOffInput(
                    args["collateral_status"],
                    args["collateral_proceeds"] or ZERO,
                    args["allowed_costs"] or ZERO,
                    args["memo"],
                ),
                actor=request_user(),
            )
        except ServicingError as exc:
            _refuse(exc)
        db.session.commit()
        return entry


@blp.route("/delinquency")
class Delinquency(MethodView):
    @roles("officer", "staff")
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, DelinquencyReportSchema)
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """The delinquency report as of a date (default today): buckets, call report, employers, programs."""
        return reports.delinquency_report(args["as_of"] or business_date())
