from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loanapp.db import utcnow
from loanapp.extensions import db


class Employer(db.Model):  # type: ignore[name-defined,misc]
    """A manufacturer whose workers may borrow; partners are seeded, officers add others as they appear."""

    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    partner: Mapped[bool] = mapped_column(Boolean, default=False)
    city: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingProgram(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "training_programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    provider: Mapped[str] = mapped_column(String(200), default="")
    length_weeks: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")


class ReferralPartner(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "referral_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
