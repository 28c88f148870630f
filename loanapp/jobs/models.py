"""Scheduled job runs (one row per job and business date) and the SQLite job lock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loanapp.db import utcnow
from loanapp.extensions import db

RUN_STATUSES = ("running", "succeeded", "failed")


class JobRun(db.Model):  # type: ignore[name-defined,misc]
    """A job's run for one business date: UNIQUE (job, business_date) makes a rerun update this row.

    A failed attempt leaves only this row (the job's own writes rolled back); ``attempts`` counts
    tries. A ``running`` row whose process died is taken over by the next run holding the lock.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "business_date", name="uq_job_runs_job_business_date"),
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status_known"),
        CheckConstraint("attempts >= 1", name="attempts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    business_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    trigger: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(120), default="")


class JobLock(db.Model):  # type: ignore[name-defined,misc]
    """SQLite only: who runs a job now (PostgreSQL uses an advisory lock instead)."""

    __tablename__ = "job_locks"

    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
