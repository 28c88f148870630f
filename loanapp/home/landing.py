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
    if user.role == "admin":
        data["users"] = db.session.scalars(select(User).order_by(User.role, User.email)).all()
        data["recent_events"] = db.session.scalars(
            select(AuditEvent).order_by(AuditEvent.id.desc()).limit(25)
        ).all()
    else:
        data["recent_events"] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id.desc()).limit(10)
        ).all()
    return data
