"""Facts for the program report, one per application, read in one query (no SSN, no documents)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from loanapp.applications.models import Application, ApplicationDecision
from loanapp.applications.vocabulary import EMPLOYMENT_STATUS_NAMES
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.programs.models import Employer, ReferralPartner, TrainingProgram
from loanapp.reports.program import ApplicationFact

NONE = "(none)"


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def facts(zone: str, start: date | None = None, end: date | None = None) -> list[ApplicationFact]:
    """Applications submitted from ``start`` to ``end`` (inclusive, days in ``zone``)."""
    tz = ZoneInfo(zone)
    query = (
        select(
            Application.submitted_at,
            Application.employment_status,
            Application.employer_other,
            Employer.name,
            TrainingProgram.name,
            ReferralPartner.name,
            ApplicationDecision.kind,
            ApplicationDecision.reasons,
            ApplicationDecision.decided_at,
            Loan.principal,
        )
        .outerjoin(Employer, Employer.id == Application.employer_id)
        .outerjoin(TrainingProgram, TrainingProgram.id == Application.training_program_id)
        .outerjoin(ReferralPartner, ReferralPartner.id == Application.referral_partner_id)
        .outerjoin(ApplicationDecision, ApplicationDecision.application_id == Application.id)
        .outerjoin(Loan, Loan.application_id == Application.id)
        .order_by(Application.submitted_at)
    )
    if start is not None:
        query = query.where(Application.submitted_at >= datetime.combine(start, time.min, tz).astimezone(UTC))
    if end is not None:
        query = query.where(Application.submitted_at < datetime.combine(end, time.max, tz).astimezone(UTC))
    rows = []
    for (
        submitted_at,
        employment_status,
        employer_other,
        employer,
        program,
        partner,
        kind,
        reasons,
        decided_at,
        principal,
    ) in db.session.execute(query):
        submitted = _aware(submitted_at)
        assert submitted is not None
        rows.append(
            ApplicationFact(
                month=submitted.astimezone(tz).strftime("%Y-%m"),
                employer=employer or (f"{employer_other} (not in the list)" if employer_other else NONE),
                employment_status=EMPLOYMENT_STATUS_NAMES.get(employment_status, employment_status),
                training_program=program or NONE,
                referral_partner=partner or NONE,
                decision=kind,
                reasons=tuple(reasons or ()),
                submitted_at=submitted,
                decided_at=_aware(decided_at),
                loan_principal=principal,
            )
        )
    return rows
