"""Which events tell the worker what: audit events become notices, and the daily reminder scan.

:func:`on_audit_event` runs inside ``loanapp.audit.trail.record`` (same transaction as the change).
Each notice's ``event_key`` names the event it comes from (the audit event's id, or the loan, due date
and day count of a reminder), so it is queued once per event and channel whatever happens.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from loanapp.accounts.models import User
from loanapp.audit.models import AuditEvent
from loanapp.extensions import db
from loanapp.notices import messages
from loanapp.notices import operations as ops

WATCHED = frozenset(
    {
        "application.submitted",
        "application.status_changed",
        "application.decided",
        "loan.booked",
        "payment.recorded",
        "loan.paid_off",
    }
)


def on_audit_event(event: AuditEvent) -> None:
    if event.action not in WATCHED:
        return
    db.session.flush()  # the event's id names the notice (idempotency key)
    key = f"audit:{event.id}"
    details = event.details or {}
    if event.action == "application.submitted":
        _application_received(int(event.entity_id or 0), key)
    elif event.action == "application.status_changed":
        if details.get("to") == "needs_documents":
            _documents_requested(int(event.entity_id or 0), key, details)
        elif details.get("to") == "offer_refused":
            _offer_refused(int(event.entity_id or 0))
    elif event.action == "application.decided":
        _decided(int(event.entity_id or 0), key)
    elif event.action == "loan.booked":
        _loan_booked(int(event.entity_id or 0), key)
    elif event.action == "payment.recorded":
        _payment_received(int(event.entity_id or 0), key)
    elif event.action == "loan.paid_off":
        _paid_off(int(event.entity_id or 0), key, details)


def _application(application_id: int) -> Any:
    from loanapp.applications.models import Application

    return db.session.get(Application, application_id)


def _status_link(application_id: int) -> str:
    return messages.link(f"/my-application/{application_id}")


def _loan_link(loan_id: int) -> str:
    return messages.link(f"/my/loans/{loan_id}")


def _application_received(application_id: int, key: str) -> None:
    application = _application(application_id)
    if application is None:
        return
    ops.queue(
        application.worker,
        "application_received",
        key,
        {"amount": application.requested_amount, "link": _status_link(application.id)},
        application_id=application.id,
    )


def _documents_requested(application_id: int, key: str, details: dict[str, Any]) -> None:
    from loanapp.applications.vocabulary import DOCUMENT_KINDS, label

    application = _application(application_id)
    if application is None:
        return
    worker = application.worker
    language = worker.locale if worker.locale in current_app.config["LANGUAGES"] else "en"
    with force_locale(language):
        documents = ", ".join(label(DOCUMENT_KINDS, k) for k in details.get("kinds") or [])
    ops.queue(
        worker,
        "documents_requested",
        key,
        {"documents": documents, "note": details.get("note") or "", "link": _status_link(application.id)},
        application_id=application.id,
    )


def reason_texts(codes: list[str], language: str) -> list[str]:
    from loanapp.applications.vocabulary import ADVERSE_ACTION_REASONS, label

    with force_locale(language):
        return [label(ADVERSE_ACTION_REASONS, code) for code in codes]


def _decided(application_id: int, key: str) -> None:
    from loanapp.clock import business_date

    application = _application(application_id)
    if application is None:
        return
    db.session.refresh(application, ["decision"])
    decision = application.decision
    if decision is None:
        return
    worker = application.worker
    language = worker.locale if worker.locale in current_app.config["LANGUAGES"] else "en"
    link = _status_link(application.id)
    if decision.kind == "decline":
        codes = list(decision.reasons or [])
        kind = "incomplete" if "incomplete_application" in codes else "declined"
        notice = ops.issue_adverse_action(
            application, kind=kind, reasons=reason_texts(codes, language), day=business_date()
        )
        ops.queue(
            worker,
            "decision_declined",
            key,
            {
                "reasons": reason_texts(codes, language),
                "link": messages.link(f"/my-application/{application.id}/notice/{notice.id}"),
            },
            application_id=application.id,
        )
        return
    values = {
        "amount": decision.amount,
        "term": decision.term_months,
        "rate": decision.annual_rate,
        "payment": decision.payment,
        "link": link,
    }
    if decision.kind == "approve":
        ops.queue(worker, "decision_approved", key, values, application_id=application.id)
    else:
        values.update(
            asked=application.requested_amount,
            asked_term=application.requested_term_months,
            reasons=reason_texts(list(decision.reasons or []), language),
            note=decision.note or "",
        )
        ops.queue(worker, "decision_counter_offer", key, values, application_id=application.id)


def _offer_refused(application_id: int) -> None:
    """A counter-offer the worker did not accept is an adverse action too (Reg B 1002.9(a)(1)(iv))."""
    from loanapp.clock import business_date

    application = _application(application_id)
    if application is None or application.decision is None or application.decision.kind != "counter_offer":
        return
    worker = application.worker
    language = worker.locale if worker.locale in current_app.config["LANGUAGES"] else "en"
    reasons = reason_texts(list(application.decision.reasons or []), language)
    if not reasons:
        with force_locale(language):
            reasons = [gettext("The amount or term you asked for is more than we can lend.")]
    ops.issue_adverse_action(application, kind="counter_offer_refused", reasons=reasons, day=business_date())


def _loan(loan_id: int) -> Any:
    from loanapp.loans.models import Loan

    return db.session.get(Loan, loan_id)


def _loan_booked(loan_id: int, key: str) -> None:
    loan = _loan(loan_id)
    if loan is None:
        return
    ops.queue(
        loan.borrower,
        "loan_booked",
        key,
        {
            "amount": loan.principal,
            "payment": loan.payment_amount,
            "date": loan.first_payment_date,
            "link": _loan_link(loan.id),
        },
        loan_id=loan.id,
        application_id=loan.application_id,
    )


def _payment_received(payment_id: int, key: str) -> None:
    from loanapp.servicing.models import Payment

    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.kind != "payment":
        return
    loan = payment.loan
    ops.queue(
        loan.borrower,
        "payment_received",
        key,
        {"amount": payment.amount, "date": payment.received_on, "link": _loan_link(loan.id)},
        loan_id=loan.id,
    )


def _paid_off(loan_id: int, key: str, details: dict[str, Any]) -> None:
    from loanapp.clock import business_date

    loan = _loan(loan_id)
    if loan is None:
        return
    paid_on = details.get("paid_off_on")
    day = dt.date.fromisoformat(paid_on) if isinstance(paid_on, str) else business_date()
    ops.queue(loan.borrower, "payoff_complete", key, {"date": day}, loan_id=loan.id)


# --- the daily reminders ---------------------------------------------------------------------------


def queue_reminders(today: dt.date) -> dict[str, int]:
    """ "Payment due in N days" and "payment missed" at the configured days past due, for active loans.

    An installment counts as paid when the loan's total paid covers every installment up to it (the
    servicing replay keeps ``total_paid``); days past due come from the nightly aging.
    """
    from loanapp.loans.models import Loan, LoanInstallment
    from loanapp.servicing.models import LoanServicing

    config = current_app.config
    counts = {"due_reminders": 0, "missed_notices": 0}
    due_days = [int(d) for d in config["NOTICES_DUE_DAYS"]]
    targets = [today + dt.timedelta(days=d) for d in due_days]
    cumulative = (
        select(func.coalesce(func.sum(LoanInstallment.payment), 0))
        .where(LoanInstallment.loan_id == Loan.id)
        .correlate(Loan)
    )
    rows = db.session.execute(
        select(Loan, LoanInstallment)
        .join(LoanInstallment, LoanInstallment.loan_id == Loan.id)
        .where(Loan.status == "active", LoanInstallment.due_date.in_(targets))
    ).all()
    for loan, installment in rows:
        amount = installment.payment
        if installment.number == loan.term_months:
            # The final installment is billed as the payoff on the maturity date, not the disclosed
            # figure (issue #11); nothing is billed when what is left is within the tolerance.
            from loanapp.servicing.queries import loan_position

            standing = loan_position(loan, today).standing
            if standing.next_due_date != installment.due_date or not standing.next_amount:
                continue
            amount = standing.next_amount
        owed = db.session.scalar(cumulative.where(LoanInstallment.number <= installment.number)) or 0
        paid = db.session.scalar(
            select(LoanServicing.total_paid).where(LoanServicing.loan_id == loan.id)
        ) or Decimal("0")
        if Decimal(paid) >= Decimal(owed) and installment.number != loan.term_months:
            continue
        days = (installment.due_date - today).days
        counts["due_reminders"] += len(
            ops.queue(
                loan.borrower,
                "payment_due",
                f"due:{loan.id}:{installment.due_date.isoformat()}:{days}",
                {"amount": amount, "date": installment.due_date},
                loan_id=loan.id,
            )
        )
    missed = [int(d) for d in config["NOTICES_MISSED_DAYS"]]
    late = db.session.execute(
        select(Loan, LoanServicing)
        .join(LoanServicing, LoanServicing.loan_id == Loan.id)
        .where(Loan.status == "active", LoanServicing.days_past_due.in_(missed))
    ).all()
    for loan, row in late:
        due_on = today - dt.timedelta(days=row.days_past_due)
        past_due = _past_due_amount(loan, row, today)
        counts["missed_notices"] += len(
            ops.queue(
                loan.borrower,
                "payment_missed",
                f"missed:{loan.id}:{due_on.isoformat()}:{row.days_past_due}",
                {"amount": past_due, "date": due_on, "days": row.days_past_due},
                loan_id=loan.id,
            )
        )
    return counts


def _past_due_amount(loan: Any, row: Any, today: dt.date) -> Decimal:
    """What was due by today less what was paid (never below zero)."""
    from loanapp.loans.models import LoanInstallment

    owed = db.session.scalar(
        select(func.coalesce(func.sum(LoanInstallment.payment), 0)).where(
            LoanInstallment.loan_id == loan.id, LoanInstallment.due_date <= today
        )
    )
    return max(Decimal(owed or 0) - Decimal(row.total_paid or 0), Decimal("0"))


def worker_of(user_id: int) -> User | None:
    return db.session.get(User, user_id)
