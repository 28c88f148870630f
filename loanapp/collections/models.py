"""Collections tables.

* ``collection_cases``: one row per loan, the officer it is assigned to and the borrower's name and
  phone folded for search (accents and case removed, digits only), so the worklist searches an index.
* ``collection_contacts``: the contact log, append-only (PostgreSQL refuses UPDATE and DELETE).
* ``collection_promises``: promises to pay, append-only; kept or broken is derived from the
  payments, never stored, so a returned payment turns a kept promise back into a broken one.
* ``hardship_plans``: deferrals, due-date changes, re-amortisations and re-ages, append-only facts
  (kind, effective date, parameters). The schedule in force after a plan is derived from the facts
  and the payments in date order (``risk.hardship``), so a backdated payment re-derives it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loanapp.db import one_of, utcnow
from loanapp.extensions import db

CHANNELS = ("call", "sms", "email", "letter", "visit")
DIRECTIONS = ("outbound", "inbound")
OUTCOMES = (
    "reached",
    "left_message",
    "no_answer",
    "wrong_number",
    "promised",
    "refused",
    "hardship_requested",
)
PLAN_KINDS = ("deferral", "due_day", "reamortize", "reage")


class CollectionCase(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "collection_cases"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime | None]
    # "hernandez maria" for "María Hernández": lower case, accents removed (NFKD), single spaces.
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    phone_digits: Mapped[str] = mapped_column(String(20), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactLog(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "collection_contacts"
    __table_args__ = (
        CheckConstraint(one_of("channel", CHANNELS), name="channel_known"),
        CheckConstraint(one_of("direction", DIRECTIONS), name="direction_known"),
        CheckConstraint(one_of("outcome", OUTCOMES), name="outcome_known"),
        Index("ix_collection_contacts_loan_at", "loan_id", "contacted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    channel: Mapped[str] = mapped_column(String(10))
    direction: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    next_action_on: Mapped[date | None] = mapped_column(Date)
    contacted_on: Mapped[date] = mapped_column(Date)  # the business date
    contacted_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str] = mapped_column(String(220), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))


class PromiseToPay(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "collection_promises"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("promised_on >= made_on", name="promised_not_before_made"),
        Index("ix_collection_promises_loan_promised", "loan_id", "promised_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    amount: Mapped[Decimal]
    promised_on: Mapped[date] = mapped_column(Date)
    made_on: Mapped[date] = mapped_column(Date)  # payments from this business date count towards it
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str] = mapped_column(String(220), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))


class HardshipPlan(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "hardship_plans"
    __table_args__ = (
        CheckConstraint(one_of("kind", PLAN_KINDS), name="kind_known"),
        CheckConstraint("installments IS NULL OR installments BETWEEN 1 AND 12", name="installments_range"),
        CheckConstraint("due_day IS NULL OR due_day BETWEEN 1 AND 28", name="due_day_range"),
        CheckConstraint("term_months IS NULL OR term_months BETWEEN 1 AND 120", name="term_range"),
        Index("ix_hardship_plans_loan_effective", "loan_id", "effective_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(String(12))
    effective_on: Mapped[date] = mapped_column(Date)
    installments: Mapped[int | None] = mapped_column(Integer)
    due_day: Mapped[int | None] = mapped_column(Integer)
    term_months: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    # The first payment due under the plan, as shown in the confirmed preview (the worklist's
    # "plan ending" reminder); the figures the officer confirmed are kept in ``preview``.
    resumes_on: Mapped[date | None] = mapped_column(Date, index=True)
    preview: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str] = mapped_column(String(220), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))


TITLE_STATUSES = ("lien_requested", "lien_recorded", "title_held", "lien_released")


class Collateral(db.Model):  # type: ignore[name-defined,misc]
    """The car that secures the loan: opened at booking with the application's year, make and model;
    the officer adds the VIN (check digit verified; one live loan per VIN) and the lien's progress."""

    __tablename__ = "loan_collateral"
    __table_args__ = (
        CheckConstraint(one_of("title_status", TITLE_STATUSES), name="title_status_known"),
        CheckConstraint("vin IS NULL OR length(vin) = 17", name="vin_length"),
    )

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    vin: Mapped[str | None] = mapped_column(String(17), index=True)
    vehicle_year: Mapped[int] = mapped_column(Integer)
    vehicle_make: Mapped[str] = mapped_column(String(60))
    vehicle_model: Mapped[str] = mapped_column(String(60))
    title_status: Mapped[str] = mapped_column(String(20), default="lien_requested")
    lien_recorded_on: Mapped[date | None] = mapped_column(Date)
    lien_released_on: Mapped[date | None] = mapped_column(Date)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsuranceProof(db.Model):  # type: ignore[name-defined,misc]
    """Proof of insurance on the car, append-only: the latest proof is the coverage in force; the loan
    is lapsed once its ``covered_through`` date has passed with no newer proof."""

    __tablename__ = "loan_insurance"
    __table_args__ = (
        CheckConstraint("covered_from IS NULL OR covered_from <= covered_through", name="dates_in_order"),
        Index("ix_loan_insurance_loan_id_id", "loan_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    carrier: Mapped[str] = mapped_column(String(120))
    policy_number: Mapped[str] = mapped_column(String(60))
    covered_from: Mapped[date | None] = mapped_column(Date)
    covered_through: Mapped[date] = mapped_column(Date, index=True)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
