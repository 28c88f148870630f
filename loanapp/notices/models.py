"""The outbox of notices, each delivery attempt, workers' contact preferences, and Reg B notices.

Written only by ``loanapp.notices.operations``. A notice is rendered (in the worker's language) when it
is queued, in the same transaction as its event; the sender job delivers it later. UNIQUE
(event_key, channel) is what makes a notice idempotent per event and channel.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanapp.accounts.models import User
from loanapp.db import one_of, utcnow
from loanapp.extensions import db

CHANNELS = ("email", "sms")
#: pending: waiting to be sent (again, after ``next_attempt_at``); sending: claimed by the sender;
#: sent: the provider took it; failed: given up (permanent refusal or too many tries);
#: cancelled: no longer to be sent (SMS stopped by the worker before it went out).
NOTICE_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")
ATTEMPT_OUTCOMES = ("sent", "retry", "failed")
CONSENT_CHANNELS = ("web", "api", "sms", "officer")
ADVERSE_ACTION_KINDS = ("declined", "counter_offer_refused", "incomplete")


class Notice(db.Model):  # type: ignore[name-defined,misc]
    """One message to one person on one channel (the outbox row)."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("event_key", "channel", name="uq_notices_event_key_channel"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel_known"),
        CheckConstraint(one_of("status", NOTICE_STATUSES), name="status_known"),
        CheckConstraint(one_of("language", ("en", "es")), name="language_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_notices_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(5))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    # The body carries a sign-in secret (reset code or link): hidden on pages, blanked once sent.
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # sent in SMS quiet hours too
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    transport: Mapped[str] = mapped_column(String(20), default="")
    provider_id: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    attempt_log: Mapped[list[NoticeAttempt]] = relationship(
        back_populates="notice", order_by="NoticeAttempt.id"
    )


class NoticeAttempt(db.Model):  # type: ignore[name-defined,misc]
    """Each try at delivering a notice: when, what the provider said, its message id."""

    __tablename__ = "notice_attempts"
    __table_args__ = (CheckConstraint(one_of("outcome", ATTEMPT_OUTCOMES), name="outcome_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(10))
    transport: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(String(500), default="")

    notice: Mapped[Notice] = relationship(back_populates="attempt_log")


class NoticePreference(db.Model):  # type: ignore[name-defined,misc]
    """How a worker wants to be told, and the record of their SMS consent (TCPA: text, time, channel).

    The language lives on the account (``users.locale``) since pages use it too.
    """

    __tablename__ = "notice_preferences"
    __table_args__ = (
        CheckConstraint(one_of("sms_consent_channel", CONSENT_CHANNELS, nullable=True), name="consent_known"),
        CheckConstraint("phone IS NULL OR phone LIKE '+%'", name="phone_e164"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(16), index=True)  # E.164
    by_email: Mapped[bool] = mapped_column(Boolean, default=True)
    by_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_consent_at: Mapped[datetime | None]
    sms_consent_text: Mapped[str] = mapped_column(Text, default="")
    sms_consent_channel: Mapped[str | None] = mapped_column(String(10))
    sms_stopped_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()

    @property
    def sms_allowed(self) -> bool:
        return bool(self.by_sms and self.phone and self.sms_consent_at and self.sms_stopped_at is None)


class AdverseActionNotice(db.Model):  # type: ignore[name-defined,misc]
    """A Regulation B notice as sent (12 CFR 1002.9), kept at least 25 months (1002.12(b)).

    ``content`` is the text exactly as given to the applicant and ``sha256`` its digest, so a later
    reading can show it was not changed.
    """

    __tablename__ = "adverse_action_notices"
    __table_args__ = (
        UniqueConstraint("application_id", "kind", name="uq_adverse_action_notices_application_id"),
        CheckConstraint(one_of("kind", ADVERSE_ACTION_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    language: Mapped[str] = mapped_column(String(5))
    notice_date: Mapped[date] = mapped_column(Date)
    reasons: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retain_until: Mapped[date] = mapped_column(Date)
