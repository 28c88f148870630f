"""Projection tables: the versioned assumptions staff set, and the projections run (requested or
the monthly snapshot) with their results.

A result is stored as the JSON document ``loanapp.projections.results`` builds: money in whole
cents (ints), probabilities as numbers. It is written once, when the run finishes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from loanapp.db import one_of, utcnow
from loanapp.extensions import db

RUN_KINDS = ("request", "snapshot")
RUN_STATUSES = ("queued", "running", "succeeded", "failed")


class AssumptionSet(db.Model):  # type: ignore[name-defined,misc]
    """One version of the projection assumptions. Never updated: a change is a new version, so
    every stored projection names exactly the assumptions it ran with."""

    __tablename__ = "projection_assumption_sets"
    __table_args__ = (CheckConstraint("version >= 1", name="version_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectionRun(db.Model):  # type: ignore[name-defined,misc]
    """A projection of the reserve: asked for by staff (page, API, CLI) or the monthly snapshot.

    ``seed`` is fixed when the run is asked for, so a queued run and a rerun give the same figures.
    A snapshot is unique per ``as_of`` (the month end it projects from).
    """

    __tablename__ = "projection_runs"
    __table_args__ = (
        CheckConstraint(one_of("kind", RUN_KINDS), name="kind_known"),
        CheckConstraint(one_of("status", RUN_STATUSES), name="status_known"),
        CheckConstraint("paths >= 1 AND horizon_months >= 1", name="size_positive"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),
        Index("ix_projection_runs_status", "status"),
        Index("ix_projection_runs_kind_as_of", "kind", "as_of"),
        Index(
            "ux_projection_runs_snapshot_as_of",
            "as_of",
            unique=True,
            postgresql_where=text("kind = 'snapshot'"),
            sqlite_where=text("kind = 'snapshot'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    as_of: Mapped[date] = mapped_column(Date)
    scenario: Mapped[str] = mapped_column(String(40))
    paths: Mapped[int] = mapped_column(Integer)
    horizon_months: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    assumption_set_id: Mapped[int | None] = mapped_column(ForeignKey("projection_assumption_sets.id"))
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(10))  # page, api, cli, job
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    progress: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")

    @property
    def done(self) -> bool:
        return self.status in ("succeeded", "failed")
