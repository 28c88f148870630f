"""Read side of applications: what a worker may see, the officer's queue, an offer's disclosure.

Ownership is part of every worker query (``worker_id = the caller``), so another worker's id finds
nothing and the view answers 404, the same as an id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from loanapp.applications.models import Application, ApplicationDocument
from loanapp.applications.states import Status
from loanapp.applications.vocabulary import EXPECTED_DOCUMENT
from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.loans.models import Loan
from risk.dates import add_months
from risk.disclosure import TruthInLending, truth_in_lending


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def for_worker(application_id: int, worker_id: int) -> Application | None:
    return db.session.scalar(
        select(Application).where(Application.id == application_id, Application.worker_id == worker_id)
    )


def of_worker(worker_id: int) -> list[Application]:
    return list(
        db.session.scalars(
            select(Application).where(Application.worker_id == worker_id).order_by(Application.id.desc())
        )
    )


def get(application_id: int) -> Application | None:
    return db.session.get(Application, application_id)


def document_for(application_id: int, document_id: int, worker_id: int | None) -> ApplicationDocument | None:
    """A document of the application; for a worker (``worker_id`` given) only of their own application."""
    query = (
        select(ApplicationDocument)
        .join(Application)
        .where(ApplicationDocument.id == document_id, ApplicationDocument.application_id == application_id)
    )
    if worker_id is not None:
        query = query.where(Application.worker_id == worker_id)
    return db.session.scalar(query)


def loan_for(application_id: int) -> Loan | None:
    return db.session.scalar(select(Loan).where(Loan.application_id == application_id))


def missing_documents(application: Application) -> list[str]:
    """Document kinds the worker still has to provide: the officer's requests, else the proof of the job."""
    have = {d.kind for d in application.documents}
    if application.status == Status.NEEDS_DOCUMENTS:
        return [kind for kind in application.documents_requested or [] if kind not in have]
    if application.status in (Status.SUBMITTED, Status.IN_REVIEW):
        expected = EXPECTED_DOCUMENT.get(application.employment_status)
        if expected and expected not in have:
            return [expected]
    return []


def offer_disclosure(application: Application, today: date) -> TruthInLending | None:
    """The offer's Truth-in-Lending figures, estimated as if signed today with the first payment a month on.

    Booking computes the binding figures from the actual contract and first payment dates.
    """
    decision = application.decision
    if decision is None or not decision.is_offer:
        return None
    assert (
        decision.amount is not None and decision.annual_rate is not None and decision.term_months is not None
    )
    return truth_in_lending(
        decision.amount, decision.annual_rate, decision.term_months, today, add_months(today, 1)
    )


# --- the officer's queue ---------------------------------------------------------------------------

#: What the queue opens on: applications an officer has to act on (documents received move an
#: application back to in review; an accepted offer waits to be booked). Everything else is history,
#: reached through the status filter or "all".
WORK_TO_DO = (Status.SUBMITTED.value, Status.IN_REVIEW.value, Status.OFFER_ACCEPTED.value)
TO_DO = "to_do"
ALL = "all"

SORTS: dict[str, tuple[Any, ...]] = {
    "recent": (Application.updated_at.desc(), Application.id.desc()),
    "oldest": (Application.submitted_at.asc(), Application.id.asc()),
    "newest": (Application.submitted_at.desc(), Application.id.desc()),
    "amount": (Application.requested_amount.desc(), Application.id.asc()),
    "name": (Application.last_name.asc(), Application.first_name.asc(), Application.id.asc()),
}


@dataclass(frozen=True)
class QueueFilters:
    status: str | None = None
    employer_id: int | None = None
    training_program_id: int | None = None
    employment_status: str | None = None
    min_age_days: int | None = None
    sort: str = "recent"
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class Page:
    items: list[Application]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _filtered(filters: QueueFilters, now: datetime) -> Select[Any]:
    query = select(Application)
    if filters.status == TO_DO:
        query = query.where(Application.status.in_(WORK_TO_DO))
    elif filters.status and filters.status != ALL:
        query = query.where(Application.status == filters.status)
    if filters.employer_id:
        query = query.where(Application.employer_id == filters.employer_id)
    if filters.training_program_id:
        query = query.where(Application.training_program_id == filters.training_program_id)
    if filters.employment_status:
        query = query.where(Application.employment_status == filters.employment_status)
    if filters.min_age_days:
        query = query.where(Application.submitted_at <= now - timedelta(days=filters.min_age_days))
    return query


def queue(filters: QueueFilters, now: datetime | None = None) -> Page:
    now = now or utcnow()
    query = _filtered(filters, now)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, min(filters.page, max(1, -(-total // filters.per_page))))
    items = db.session.scalars(
        query.options(selectinload(Application.employer), selectinload(Application.training_program))
        .order_by(*SORTS.get(filters.sort, SORTS["recent"]))
        .limit(filters.per_page)
        .offset((page - 1) * filters.per_page)
    ).all()
    return Page(list(items), total, page, filters.per_page)


def status_counts() -> dict[str, int]:
    """How many applications are in each status (every status listed, zeros included)."""
    rows = db.session.execute(select(Application.status, func.count()).group_by(Application.status))
    counts = {status: count for status, count in rows}
    return {status.value: int(counts.get(status.value, 0)) for status in Status}


def age_in_days(application: Application, now: datetime | None = None) -> int:
    return ((now or utcnow()) - aware(application.submitted_at)).days


def requested_payment_preview(application: Application, rate: Decimal) -> Any:
    """Underwriting figures at the requested terms and a given rate (for the review page)."""
    from loanapp.applications.operations import underwriting

    return underwriting(application, application.requested_amount, rate, application.requested_term_months)


def counter_offer_why(application: Application) -> list[str]:
    """The program rules the requested terms broke and the counter-offer keeps (flag codes), so the
    worker reads why the offer differs from what they asked for."""
    decision = application.decision
    if decision is None or decision.kind != "counter_offer" or decision.annual_rate is None:
        return []
    requested = requested_payment_preview(application, decision.annual_rate)
    offered = {flag["code"] for flag in decision.flags}
    return [str(f.code) for f in requested.flags if str(f.code) not in offered]
