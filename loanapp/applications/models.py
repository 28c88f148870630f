"""Tables of the application feature: drafts, applications, documents, verifications, decisions.

Written only by ``loanapp.applications.operations``. Money is ``Numeric(12, 2)`` with CHECKs;
``applications.version`` is SQLAlchemy's optimistic-lock counter, so a stale write fails instead of
silently overwriting a colleague's.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanapp.accounts.models import User
from loanapp.applications.states import Status
from loanapp.applications.vocabulary import (
    DECISION_KINDS,
    DOCUMENT_KINDS,
    EMPLOYMENT_STATUSES,
    PAY_FREQUENCIES,
    SALE_TYPES,
    VERIFICATION_METHODS,
    VERIFICATION_OUTCOMES,
)
from loanapp.db import one_of, utcnow
from loanapp.extensions import db
from loanapp.programs.models import Employer, ReferralPartner, TrainingProgram

Hours = Numeric(5, 2)
Rate = Numeric(5, 2)
Ratio = Numeric(9, 2)


class ApplicationDraft(db.Model):  # type: ignore[name-defined,misc]
    """A half-filled application form, kept on the server under a random token.

    The token travels in the worker's signed session cookie (only its SHA-256 is stored here), so any
    web process can resume it; nothing lives in process memory. Passwords and files are never kept.
    """

    __tablename__ = "application_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Application(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(one_of("status", [s.value for s in Status]), name="status_known"),
        CheckConstraint(one_of("employment_status", EMPLOYMENT_STATUSES), name="employment_status_known"),
        CheckConstraint(one_of("pay_frequency", PAY_FREQUENCIES, nullable=True), name="pay_frequency_known"),
        CheckConstraint(one_of("sale_type", SALE_TYPES), name="sale_type_known"),
        CheckConstraint("length(ssn_last4) = 4", name="ssn_last4_four_digits"),
        CheckConstraint("household_size BETWEEN 1 AND 20", name="household_size_range"),
        CheckConstraint("hourly_wage IS NULL OR hourly_wage > 0", name="hourly_wage_positive"),
        CheckConstraint(
            "hours_per_week IS NULL OR (hours_per_week > 0 AND hours_per_week <= 80)", name="hours_range"
        ),
        CheckConstraint("monthly_income >= 0", name="monthly_income_not_negative"),
        CheckConstraint("monthly_debts >= 0", name="monthly_debts_not_negative"),
        CheckConstraint("requested_amount > 0", name="requested_amount_positive"),
        CheckConstraint("requested_term_months BETWEEN 1 AND 120", name="requested_term_range"),
        CheckConstraint("vehicle_price > 0", name="vehicle_price_positive"),
        CheckConstraint("vehicle_mileage >= 0", name="vehicle_mileage_not_negative"),
        CheckConstraint("down_payment >= 0 AND down_payment < vehicle_price", name="down_payment_range"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_applications_status_submitted_at", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=Status.SUBMITTED.value)
    version: Mapped[int] = mapped_column(Integer)
    # The form's one-time token (or the API client's key): a double submit finds the first application.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    # Identity: the last four digits of the SSN only; the full number is never asked for or kept.
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    ssn_last4: Mapped[str] = mapped_column(String(4))
    phone: Mapped[str] = mapped_column(String(20))
    street: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(10))
    household_size: Mapped[int]

    # Employment as stated; verifications record what the officer confirmed.
    employment_status: Mapped[str] = mapped_column(String(20))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    employer_other: Mapped[str] = mapped_column(String(200), default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    offer_date: Mapped[date | None] = mapped_column(Date)
    hourly_wage: Mapped[Decimal | None]
    hours_per_week: Mapped[Decimal | None] = mapped_column(Hours)
    pay_frequency: Mapped[str | None] = mapped_column(String(20))
    training_program_id: Mapped[int | None] = mapped_column(ForeignKey("training_programs.id"), index=True)
    expected_completion: Mapped[date | None] = mapped_column(Date)
    monthly_income: Mapped[Decimal]
    monthly_debts: Mapped[Decimal]

    # The loan asked for and the vehicle.
    requested_amount: Mapped[Decimal]
    requested_term_months: Mapped[int]
    vehicle_year: Mapped[int]
    vehicle_make: Mapped[str] = mapped_column(String(60))
    vehicle_model: Mapped[str] = mapped_column(String(60))
    vehicle_mileage: Mapped[int]
    vehicle_price: Mapped[Decimal]
    sale_type: Mapped[str] = mapped_column(String(10))
    dealer_name: Mapped[str] = mapped_column(String(200), default="")
    down_payment: Mapped[Decimal]

    referral_partner_id: Mapped[int | None] = mapped_column(ForeignKey("referral_partners.id"), index=True)
    consent_at: Mapped[datetime]

    # What the officer asked for when the status is needs_documents.
    documents_requested: Mapped[list[str]] = mapped_column(JSON, default=list)
    documents_note: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"version_id_col": version}

    worker: Mapped[User] = relationship()
    employer: Mapped[Employer | None] = relationship()
    training_program: Mapped[TrainingProgram | None] = relationship()
    referral_partner: Mapped[ReferralPartner | None] = relationship()
    documents: Mapped[list[ApplicationDocument]] = relationship(
        back_populates="application", order_by="ApplicationDocument.id"
    )
    verifications: Mapped[list[EmploymentVerification]] = relationship(
        back_populates="application", order_by="EmploymentVerification.id"
    )
    decision: Mapped[ApplicationDecision | None] = relationship(back_populates="application")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def employer_name(self) -> str:
        return self.employer.name if self.employer is not None else self.employer_other

    @property
    def latest_verification(self) -> EmploymentVerification | None:
        return self.verifications[-1] if self.verifications else None

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.status}>"


class ApplicationDocument(db.Model):  # type: ignore[name-defined,misc]
    """An uploaded pay stub, offer letter or training letter; the file lives under UPLOAD_FOLDER."""

    __tablename__ = "application_documents"
    __table_args__ = (
        CheckConstraint(one_of("kind", DOCUMENT_KINDS), name="kind_known"),
        CheckConstraint(
            one_of("content_type", ("application/pdf", "image/jpeg", "image/png")), name="content_type_known"
        ),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    original_name: Mapped[str] = mapped_column(String(200))
    # Random: the uploader's name never reaches the file system.
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="documents")


class EmploymentVerification(db.Model):  # type: ignore[name-defined,misc]
    """What an officer confirmed about the applicant's job, how, and when. The latest one counts."""

    __tablename__ = "employment_verifications"
    __table_args__ = (
        CheckConstraint(one_of("method", VERIFICATION_METHODS), name="method_known"),
        CheckConstraint(one_of("outcome", VERIFICATION_OUTCOMES), name="outcome_known"),
        CheckConstraint("hourly_wage IS NULL OR hourly_wage > 0", name="hourly_wage_positive"),
        CheckConstraint(
            "hours_per_week IS NULL OR (hours_per_week > 0 AND hours_per_week <= 80)", name="hours_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    method: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(20))
    verified_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verified_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"))
    start_date: Mapped[date | None] = mapped_column(Date)
    hourly_wage: Mapped[Decimal | None]
    hours_per_week: Mapped[Decimal | None] = mapped_column(Hours)
    notes: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship(back_populates="verifications")
    employer: Mapped[Employer | None] = relationship()
    officer: Mapped[User] = relationship()

    @property
    def has_facts(self) -> bool:
        """Verified wage and hours that override the stated income (a discrepancy's facts count too)."""
        return (
            self.outcome in ("verified", "discrepancy")
            and self.hourly_wage is not None
            and self.hours_per_week is not None
        )


class ApplicationDecision(db.Model):  # type: ignore[name-defined,misc]
    """The officer's decision, its terms, and the underwriting figures it was made on.

    One per application (decisions are final), which the unique key enforces even against two
    officers deciding at the same instant.
    """

    __tablename__ = "application_decisions"
    __table_args__ = (
        CheckConstraint(one_of("kind", DECISION_KINDS), name="kind_known"),
        CheckConstraint(
            "(kind = 'decline' AND amount IS NULL AND annual_rate IS NULL AND term_months IS NULL "
            "AND payment IS NULL) OR (kind <> 'decline' AND amount > 0 AND annual_rate >= 0 "
            "AND term_months BETWEEN 1 AND 120 AND payment > 0)",
            name="terms_match_kind",
        ),
        CheckConstraint("monthly_income >= 0", name="monthly_income_not_negative"),
        CheckConstraint("loan_to_value >= 0", name="loan_to_value_not_negative"),
        CheckConstraint(one_of("response", ("accepted", "refused"), nullable=True), name="response_known"),
        CheckConstraint(one_of("income_source", ("verified", "stated")), name="income_source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    amount: Mapped[Decimal | None]
    annual_rate: Mapped[Decimal | None] = mapped_column(Rate)
    term_months: Mapped[int | None]
    payment: Mapped[Decimal | None]
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")

    # Underwriting as computed when deciding (the terms offered, or those requested for a decline).
    monthly_income: Mapped[Decimal]
    income_source: Mapped[str] = mapped_column(String(10))
    payment_to_income: Mapped[Decimal | None] = mapped_column(Ratio)
    debt_to_income: Mapped[Decimal | None] = mapped_column(Ratio)
    loan_to_value: Mapped[Decimal] = mapped_column(Ratio)
    flags: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    verification_id: Mapped[int | None] = mapped_column(ForeignKey("employment_verifications.id"))

    # The worker's answer to an offer.
    response: Mapped[str | None] = mapped_column(String(10))
    responded_at: Mapped[datetime | None]

    application: Mapped[Application] = relationship(back_populates="decision")
    officer: Mapped[User] = relationship()

    @property
    def is_offer(self) -> bool:
        return self.kind in ("approve", "counter_offer")
