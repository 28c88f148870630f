"""Account writes and sign-in checks. Views and CLI call these; nothing else writes users or tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from loanapp.access import ROLES
from loanapp.accounts.models import ApiToken, LoginAttempt, User
from loanapp.audit.trail import record
from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.security import end_sessions

MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 3
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
    """Growing delays, not a hard lock: after ``max_failures`` failed attempts on an account from one
    address, that address waits ``delay_seconds``, doubling with each further failure up to
    ``max_delay_seconds``. The same for an address over all accounts (``max_failures_per_address``).
    Over all addresses an account's failures (``max_failures_per_account``) bring only short delays
    (``account_max_delay_seconds``), so a stranger cannot keep the owner out for long."""

    max_failures: int = 5
    window_seconds: int = 900
    max_failures_per_address: int = 30
    max_failures_per_account: int = 20
    delay_seconds: int = 30
    max_delay_seconds: int = 900
    account_max_delay_seconds: int = 60

    def delay(self, failures: int, threshold: int, cap: int) -> int:
        if failures < threshold:
            return 0
        return int(min(self.delay_seconds * 2 ** min(failures - threshold, 20), cap))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    """scrypt by default; tests may choose a cheaper method through PASSWORD_HASH_METHOD."""
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def check_new_password(password: str, *, email: str = "", field: str = "password") -> None:
    """Refuse short, blank and guessable passwords: zxcvbn (Dropbox's strength estimator, with its
    lists of common passwords, words and names) must rate it at least 3 of 4 ("safely unguessable")
    with the person's own email and the program's words counted as known."""
    if len(password.strip()) < MIN_PASSWORD_LENGTH:
        raise AccountError(field, _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    context = [email, *email.split("@")[:1], "work", "train", "worktrain", "car", "buyer", "coopfed", "loan"]
    if zxcvbn(password[:100], user_inputs=[c for c in context if c])["score"] < MIN_PASSWORD_SCORE:
        raise AccountError(
            field, _l("This password is too easy to guess. Use a longer phrase of unrelated words.")
        )


def change_password(user: User, current: str, new: str) -> None:
    """The signed-in person changes their own password; every session issued before ends."""
    if not check_password_hash(user.password_hash, current):
        raise AccountError("current_password", _l("That is not your current password."))
    check_new_password(new, email=user.email, field="new_password")
    user.password_hash = hash_password(new)
    end_sessions(user)
    record("user.password_changed", "user", user.id, actor=user)


def sign_out(user: User) -> None:
    """Sign-out ends this session and every copy of it (the caller commits)."""
    end_sessions(user)
    record("user.signed_out", "user", user.id, actor=user)


def create_user(
    email: str, password: str, role: str, full_name: str = "", *, actor: User | None = None
) -> User:
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError("role", f"Role must be one of: {', '.join(ROLES)}.")
    if "@" not in email or len(email) > 254:
        raise AccountError("email", "Enter a valid email address.")
    check_new_password(password, email=email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("email", "An account with this email already exists.")
    user = User(email=email, password_hash=hash_password(password), role=role, full_name=full_name.strip())
    db.session.add(user)
    db.session.flush()
    record("user.created", "user", user.id, actor=actor, details={"email": email, "role": role})
    return user


def set_active(user: User, active: bool, *, actor: User | None) -> None:
    if actor is not None and user.id == actor.id and not active:
        raise AccountError("active", "You cannot disable your own account.")
    if user.active == active:
        return  # already so (a second click, a stale page): nothing to change or audit
    user.active = active
    record("user.enabled" if active else "user.disabled", "user", user.id, actor=actor)


#: Roles an administrator may give: workers get their account by applying and keep it.
STAFF_ROLES = ("officer", "staff", "admin")


def set_role(user: User, role: str, *, actor: User) -> None:
    if role not in STAFF_ROLES:
        raise AccountError("role", "Choose credit-union officer, Work Train staff or administrator.")
    if user.role == "worker":
        raise AccountError(
            "role", "A worker's account keeps its role: it holds their applications and loans."
        )
    if user.id == actor.id:
        raise AccountError("role", "You cannot change your own role; ask another administrator.")
    if user.role == role:
        return
    previous, user.role = user.role, role
    record("user.role_changed", "user", user.id, actor=actor, details={"from": previous, "to": role})


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _recent_failures(
    conditions: list[Any], policy: ThrottlePolicy, reset_on_success: bool
) -> tuple[int, datetime | None]:
    """Failed attempts in the window and the last of them; for an account, a successful sign-in starts
    the count afresh (an address's count does not reset: an attacker could sign in to an account of
    their own)."""
    floor = utcnow() - timedelta(seconds=policy.window_seconds)
    if reset_on_success:
        last_success = db.session.scalar(
            select(func.max(LoginAttempt.at)).where(*conditions, LoginAttempt.succeeded.is_(True))
        )
        if last_success is not None:
            floor = max(floor, _aware(last_success))
    count, last = db.session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            *conditions, LoginAttempt.succeeded.is_(False), LoginAttempt.at > floor
        )
    ).one()
    return count, last


def authenticate(email: str, password: str, address: str, policy: ThrottlePolicy) -> User | None:
    """The user for these credentials, or None. Raises LoginThrottled before checking the password.

    One answer for unknown, wrong and disabled accounts so the page cannot be used to find accounts.
    Every attempt is recorded (and committed by the caller) so counts hold across processes.
    ``address`` is the client's (behind trusted proxies, ProxyFix puts the real one in remote_addr).
    """
    email = normalise_email(email)[:254]
    address = (address or "unknown")[:64]
    now = utcnow()
    for conditions, threshold, cap, reset in (
        (
            [LoginAttempt.email == email, LoginAttempt.address == address],
            policy.max_failures,
            policy.max_delay_seconds,
            True,
        ),
        ([LoginAttempt.address == address], policy.max_failures_per_address, policy.max_delay_seconds, False),
        (
            [LoginAttempt.email == email],
            policy.max_failures_per_account,
            policy.account_max_delay_seconds,
            True,
        ),
    ):
        count, last = _recent_failures(conditions, policy, reset)
        wait = policy.delay(count, threshold, cap)
        if wait and last is not None:
            retry = int((_aware(last) + timedelta(seconds=wait) - now).total_seconds())
            if retry > 0:
                raise LoginThrottled(retry)
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


def issue_token(user: User, label: str = "", *, actor: User | None = None, days: int | None = None) -> str:
    """Create a bearer token and return it; only its hash is kept, so this is the only time it is seen.

    It expires after ``days`` (default ``API_TOKEN_DAYS``); at most ``API_TOKEN_MAX_DAYS``."""
    limit = int(current_app.config["API_TOKEN_MAX_DAYS"])
    days = int(current_app.config["API_TOKEN_DAYS"]) if days is None else days
    if not 1 <= days <= limit:
        raise AccountError("days", f"A token lasts from 1 to {limit} days.")
    if len(label) > 100:
        raise AccountError("label", "At most 100 characters.")
    token = "cbp_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        token_hash=_token_digest(token),
        prefix=token[:12],
        label=label.strip(),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(row)
    db.session.flush()
    record(
        "api_token.issued",
        "user",
        user.id,
        actor=actor,
        details={"token_id": row.id, "prefix": row.prefix, "expires_at": row.expires_at.isoformat()},
    )
    return token


def user_for_token(token: str) -> User | None:
    """The token's user while the token is neither revoked nor expired (tokens from before expiry
    existed have none: they last until revoked)."""
    if len(token) > 200:
        return None
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_digest(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    if row.expires_at is not None and _aware(row.expires_at) <= utcnow():
        return None
    return row.user


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too, so the list tells their story)."""
    return list(
        db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc()))
    )


def token_state(row: ApiToken) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and _aware(row.expires_at) <= utcnow():
        return "expired"
    return "active"


def revoke_token(token_id: int, *, actor: User | None, owner: User | None = None) -> bool:
    """Revoke a token (of ``owner`` when given: a person revokes only their own). True when it was live."""
    row = db.session.get(ApiToken, token_id)
    if row is None or (owner is not None and row.user_id != owner.id):
        raise AccountError("token", "No such token.")
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    record("api_token.revoked", "user", row.user_id, actor=actor, details={"token_id": token_id})
    return True


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
    check_new_password(password, email=user.email)
    user.password_hash = hash_password(password)
    end_sessions(user)
    record("user.password_set", "user", user.id, actor=actor, details={"reason": reason})
