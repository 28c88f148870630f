"""Reading notices: a worker's messages, an application's or a loan's (officers), failures, the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from loanapp.extensions import db
from loanapp.notices.models import AdverseActionNotice, Notice

#: What officers and workers read for each channel and status (never a provider's raw code alone).
CHANNEL_WORDS = {"email": "Email", "sms": "SMS"}


def messages_of(user_id: int, limit: int = 100) -> list[Notice]:
    return list(
        db.session.scalars(
            select(Notice)
            .where(Notice.user_id == user_id, Notice.status != "cancelled")
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )


def notices_for(*, application_id: int | None = None, loan_id: int | None = None) -> list[Notice]:
    query = select(Notice).order_by(Notice.created_at.desc(), Notice.id.desc()).limit(50)
    if application_id is not None:
        query = query.where(Notice.application_id == application_id)
    if loan_id is not None:
        query = query.where(Notice.loan_id == loan_id)
    return list(db.session.scalars(query))


def failed_notices_for_loan(loan_id: int) -> list[Notice]:
    """Notices of a loan that could not be delivered (for the collections worklist), newest first."""
    return list(
        db.session.scalars(
            select(Notice)
            .where(Notice.loan_id == loan_id, Notice.status == "failed")
            .order_by(Notice.created_at.desc(), Notice.id.desc())
        )
    )


def failed_counts_by_loan(loan_ids: list[int]) -> dict[int, int]:
    """How many failed notices each of these loans has (loans with none are absent)."""
    if not loan_ids:
        return {}
    rows = db.session.execute(
        select(Notice.loan_id, func.count())
        .where(Notice.loan_id.in_(loan_ids), Notice.status == "failed")
        .group_by(Notice.loan_id)
    )
    return {int(loan_id): int(count) for loan_id, count in rows}


def outbox(status: str | None = None, limit: int = 200) -> list[Notice]:
    query = select(Notice).order_by(Notice.id.desc()).limit(limit)
    if status:
        query = query.where(Notice.status == status)
    return list(db.session.scalars(query))


def status_counts() -> dict[str, int]:
    return {
        s: int(c) for s, c in db.session.execute(select(Notice.status, func.count()).group_by(Notice.status))
    }


def adverse_action_notices(application_id: int) -> list[AdverseActionNotice]:
    return list(
        db.session.scalars(
            select(AdverseActionNotice)
            .where(AdverseActionNotice.application_id == application_id)
            .order_by(AdverseActionNotice.id)
        )
    )


def describe_failure(notice: Notice) -> dict[str, Any]:
    """ "SMS failed: number not valid" for officers' pages."""
    return {"channel": CHANNEL_WORDS.get(notice.channel, notice.channel), "error": notice.last_error}
