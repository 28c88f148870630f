"""Account writes and sign-in checks. Views and CLI call these; nothing else writes users or tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from loanapp.access import ROLES
from loanapp.accounts.models import ApiToken, LoginAttempt, User
from loanapp.audit.trail import record
from loanapp.db import utcnow
from loanapp.extensions import db

MIN_PASSWORD_LENGTH = 10
# A real hash to compare against when the account is unknown, so both paths take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class LoginThrottled(Exception):
    """Too many failed attempts for this email or from this address; try again later."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 5
    window_seconds: int = 900
    max_failures_per_address: int = 30


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    """scrypt by default; tests may choose a cheaper method through PASSWORD_HASH_METHOD."""
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"Use at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(
    email: str, password: str, role: str, full_name: str = "", *, actor: User | None = None
) -> User:
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError("role", f"Role must be one of: {', '.join(ROLES)}.")
    if "@" not in email or len(email) > 254:
        raise AccountError("email", "Enter a valid email address.")
    check_new_password(password)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("email", "An account with this email already exists.")
    user = User(email=email, password_hash=hash_password(password), role=role, full_name=full_name.strip())
    db.session.add(user)
    db.session.flush()
    record("user.created", "user", user.id, actor=actor, details={"email": email, "role": role})
    return user


def set_active(user: User, active: bool, *, actor: User | None) -> None:
    user.active = active
    record("user.enabled" if active else "user.disabled", "user", user.id, actor=actor)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _recent_failures(
    column: Any, value: str, policy: ThrottlePolicy, reset_on_success: bool
) -> tuple[int, datetime | None]:
    """Failed attempts in the window; for an account, a successful sign-in starts the count afresh
    (an address's count does not reset: an attacker could sign in to an account of their own)."""
    floor = utcnow() - timedelta(seconds=policy.window_seconds)
    if reset_on_success:
        last_success = db.session.scalar(
            select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.succeeded.is_(True))
        )
        if last_success is not None:
            floor = max(floor, _aware(last_success))
    count, oldest = db.session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at > floor
        )
    ).one()
    return count, oldest


def authenticate(email: str, password: str, address: str, policy: ThrottlePolicy) -> User | None:
    """The user for these credentials, or None. Raises LoginThrottled before checking the password.

    One answer for unknown, wrong and disabled accounts so the page cannot be used to find accounts.
    Every attempt is recorded (and committed by the caller) so counts hold across processes.
    """
    email = normalise_email(email)[:254]
    address = (address or "unknown")[:64]
    for column, value, limit, reset in (
        (LoginAttempt.email, email, policy.max_failures, True),
        (LoginAttempt.address, address, policy.max_failures_per_address, False),
    ):
        count, oldest = _recent_failures(column, value, policy, reset)
        if count >= limit and oldest is not None:
            retry = int(
                (_aware(oldest) + timedelta(seconds=policy.window_seconds) - utcnow()).total_seconds()
            )
            raise LoginThrottled(max(retry, 1))
    user = db.session.scalar(select(User).where(User.email == email))
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user.active
    db.session.add(LoginAttempt(email=email, address=address, succeeded=bool(ok)))
    if ok:
        record("user.signed_in", "user", user.id, actor=user)  # type: ignore[union-attr]
        return user
    return None


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, label: str = "", *, actor: User | None = None) -> str:
    """Create a bearer token and return it; only its hash is kept, so this is the only time it is seen."""
    token = "cbp_" + secrets.token_urlsafe(32)
    row = ApiToken(user=user, token_hash=_token_digest(token), prefix=token[:12], label=label)
    db.session.add(row)
    db.session.flush()
    record(
        "api_token.issued", "user", user.id, actor=actor, details={"token_id": row.id, "prefix": row.prefix}
    )
    return token


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_digest(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    return row.user


def revoke_token(token_id: int, *, actor: User | None) -> None:
    row = db.session.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        record("api_token.revoked", "user", row.user_id, actor=actor, details={"token_id": token_id})


def set_language(user: User, code: str, *, actor: User | None) -> None:
    """Keep the worker's language on the account: every page and message uses it."""
    if code not in current_app.config["LANGUAGES"]:
        raise AccountError("language", "Choose English or Spanish.")
    if user.locale != code:
        record(
            "user.language_changed", "user", user.id, actor=actor, details={"from": user.locale, "to": code}
        )
        user.locale = code


def set_password(user: User, password: str, *, actor: User | None, reason: str) -> None:
    """A new password (reset or first choice); every session of the user ends (their id changes)."""
    check_new_password(password)
    user.password_hash = hash_password(password)
    user.session_generation = (user.session_generation or 0) + 1
    record("user.password_set", "user", user.id, actor=actor, details={"reason": reason})
