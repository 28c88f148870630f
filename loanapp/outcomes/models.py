"""Tables of the outcome feature: each loan's check-in schedule and the answers.

Written only by ``loanapp.outcomes.operations``. A check-in answer is never changed or deleted: a
correction is a new row naming the one it corrects (``corrects_id``, unique, so a chain never forks),
and a partial unique index lets a scheduled check-in have one first answer even when two arrive at
the same instant.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanapp.accounts.models import User
from loanapp.db import one_of, utcnow
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.outcomes.vocabulary import COMMUTES, SOURCES, STATES
from loanapp.programs.models import Employer


class CheckInDue(db.Model):  # type: ignore[name-defined,misc]
    """One scheduled check-in of a loan: ``milestone`` "3", "6", ... (months after booking) or "payoff".

    ``state`` is kept by the daily ``check_ins`` job and by answers; ``state_since`` is the business
    date it took that state (a reminder sends for rows that became ``due`` today).
    """

    __tablename__ = "check_in_schedule"
    __table_args__ = (
        UniqueConstraint("loan_id", "milestone", name="uq_check_in_schedule_loan_milestone"),
        CheckConstraint(one_of("state", STATES), name="state_known"),
        CheckConstraint(
            "(milestone = 'payoff' AND months IS NULL) OR (milestone <> 'payoff' AND months BETWEEN 1 AND 240)",
            name="milestone_months",
        ),
        Index("ix_check_in_schedule_state_due_on", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    milestone: Mapped[str] = mapped_column(String(10))
    months: Mapped[int | None] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10))
    state_since: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    loan: Mapped[Loan] = relationship()


class CheckIn(db.Model):  # type: ignore[name-defined,misc]
    """An answer to a scheduled check-in, or a correction of one (append-only)."""

    __tablename__ = "check_ins"
    __table_args__ = (
        CheckConstraint(one_of("source", SOURCES), name="source_known"),
        CheckConstraint(one_of("commute", COMMUTES, nullable=True), name="commute_known"),
        CheckConstraint(
            "hourly_wage IS NULL OR (hourly_wage >= 0 AND hourly_wage <= 200)", name="hourly_wage_range"
        ),
        CheckConstraint(
            "hours_per_week IS NULL OR (hours_per_week >= 0 AND hours_per_week <= 80)", name="hours_range"
        ),
        CheckConstraint(
            "(employed AND hourly_wage IS NOT NULL AND hours_per_week IS NOT NULL) OR (NOT employed AND "
            "hourly_wage IS NULL AND hours_per_week IS NULL AND employer_id IS NULL AND employer_other = '')",
            name="employment_facts",
        ),
        CheckConstraint("started_on IS NULL OR started_job", name="started_on_when_started"),
        Index(
            "ux_check_ins_first_answer",
            "schedule_id",
            unique=True,
            postgresql_where=text("corrects_id IS NULL"),
            sqlite_where=text("corrects_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("check_in_schedule.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    # UNIQUE: a check-in is corrected at most once (a later correction corrects the correction).
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("check_ins.id"), unique=True)
    checked_on: Mapped[date] = mapped_column(Date)
    employed: Mapped[bool] = mapped_column(Boolean)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"))
    employer_other: Mapped[str] = mapped_column(String(200), default="")
    hourly_wage: Mapped[Decimal | None]
    hours_per_week: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    started_job: Mapped[bool | None] = mapped_column(Boolean)
    started_on: Mapped[date | None] = mapped_column(Date)
    commute: Mapped[str | None] = mapped_column(String(20))
    car_running: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(30))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str] = mapped_column(String(220), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))

    due: Mapped[CheckInDue] = relationship()
    employer: Mapped[Employer | None] = relationship()
    recorder: Mapped[User] = relationship()

    @property
    def employer_name(self) -> str:
        return self.employer.name if self.employer is not None else self.employer_other
