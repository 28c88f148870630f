"""Every password-recovery request (throttling counts them) and the secret it issued, hashed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from loanapp.db import one_of, utcnow
from loanapp.extensions import db

RESET_CHANNELS = ("email", "sms")
RESET_PURPOSES = ("reset", "welcome")


class PasswordReset(db.Model):  # type: ignore[name-defined,misc]
    """One request: who asked (identifier and address, for throttling), and, when the account exists,
    the secret sent (only its HMAC is kept), when it expires, tries left and when it was used."""

    __tablename__ = "password_resets"
    __table_args__ = (
        CheckConstraint(one_of("channel", RESET_CHANNELS), name="channel_known"),
        CheckConstraint(one_of("purpose", RESET_PURPOSES), name="purpose_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_password_resets_identifier_at", "identifier", "requested_at"),
        Index("ix_password_resets_address_at", "address", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(254))  # the email or E.164 number typed
    address: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[str] = mapped_column(String(10), default="reset")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # an admin, or None
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None]
