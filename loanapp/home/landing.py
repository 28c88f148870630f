"""What each role sees first after signing in, gathered without Flask so it can be tested alone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from loanapp.accounts.models import User
from loanapp.audit.models import AuditEvent
from loanapp.extensions import db
from loanapp.programs.models import Employer, ReferralPartner, TrainingProgram


def for_user(user: User) -> dict[str, Any]:
    data: dict[str, Any] = {"user": user}
    if user.role == "worker":
        data.update(_worker_application(user))
    if user.role == "officer":
        from loanapp.applications.queries import status_counts
        from loanapp.applications.vocabulary import STATUS_LABELS

        data["queue_counts"] = status_counts()
        data["status_labels"] = STATUS_LABELS
    if user.role in ("officer", "staff", "admin"):
        data["employer_count"] = db.session.scalar(select(func.count()).select_from(Employer))
        data["partner_employers"] = db.session.scalars(
            select(Employer).where(Employer.partner.is_(True)).order_by(Employer.name)
        ).all()
        data["training_programs"] = db.session.scalars(
            select(TrainingProgram).order_by(TrainingProgram.name)
        ).all()
        data["referral_partners"] = db.session.scalars(
            select(ReferralPartner).order_by(ReferralPartner.name)
        ).all()
    if user.role == "worker":
        from loanapp.clock import business_date
        from loanapp.servicing.queries import loan_position, loans_of

        today = business_date()
        data["today"] = today
        data["loans"] = [(loan, loan_position(loan, today)) for loan in loans_of(user.id)]
    if user.role == "admin":
        data["account_counts"] = dict(
            [
                (role, count)
                for role, count in db.session.execute(select(User.role, func.count()).group_by(User.role))
            ]
        )
        data["recent_events"] = db.session.scalars(
            select(AuditEvent).order_by(AuditEvent.id.desc()).limit(25)
        ).all()
    elif user.role != "worker":
        # The audit trail is for staff; a worker's home shows their application and loan instead.
        data["recent_events"] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id.desc()).limit(10)
        ).all()
    return data


def _worker_application(user: User) -> dict[str, Any]:
    """The worker's latest application, where it stands, and the loan once booked."""
    from loanapp.applications.queries import loan_for, missing_documents, of_worker
    from loanapp.applications.vocabulary import DOCUMENT_KINDS, STATUS_LABELS, label

    applications = of_worker(user.id)
    latest = applications[0] if applications else None
    return {
        "application": latest,
        "application_status": STATUS_LABELS.get(latest.status, latest.status) if latest else None,
        "missing_documents": missing_documents(latest) if latest else [],
        "loan": loan_for(latest.id) if latest else None,
        "document_label": lambda kind: label(DOCUMENT_KINDS, kind),
    }
