"""Every write of password recovery: requests (throttled), the link or code they send, their use.

* One answer whatever the account: a request for an unknown email or number is recorded like any other
  (throttling counts it) and sends nothing; the page says the same thing either way.
* Email: a link signed with the app's key (itsdangerous), naming the request and a random nonce whose
  hash is stored; it works once, for ``PASSWORD_RESET_LINK_SECONDS``.
* SMS: a 6-digit code, stored as an HMAC keyed by the app's secret; it works once, for
  ``PASSWORD_RESET_CODE_SECONDS``, and ``PASSWORD_RESET_CODE_TRIES`` wrong tries end it.
* Using either sets the password through ``accounts.operations.set_password``, which ends every session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update

from loanapp.accounts.models import User
from loanapp.accounts.operations import normalise_email, set_password
from loanapp.audit.trail import record
from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.notices import messages
from loanapp.notices import operations as notices
from loanapp.notices.models import NoticePreference
from loanapp.recovery.models import PasswordReset


class ResetThrottled(Exception):
    """Too many requests for this email or number, or from this address, in the last hour."""


class ResetInvalid(Exception):
    """The link or code is wrong, used, expired or out of tries."""


@dataclass(frozen=True)
class Requested:
    channel: str  # "email" or "sms": what the page tells the person to look for
    identifier: str


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _digest(value: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _throttle(identifier: str, address: str) -> None:
    since = utcnow() - dt.timedelta(hours=1)
    config = current_app.config
    for column, value, limit in (
        (PasswordReset.identifier, identifier, int(config["PASSWORD_RESET_MAX_PER_HOUR"])),
        (PasswordReset.address, address, int(config["PASSWORD_RESET_MAX_PER_ADDRESS"])),
    ):
        count = db.session.scalar(
            select(func.count())
            .select_from(PasswordReset)
            .where(column == value, PasswordReset.requested_at > since, PasswordReset.requested_by.is_(None))
        )
        if int(count or 0) >= limit:
            raise ResetThrottled()


def request_reset(identifier: str, address: str) -> Requested:
    """A worker (or anyone) asks for a reset by email or mobile number. Raises ResetThrottled."""
    text = (identifier or "").strip()
    address = (address or "unknown")[:64]
    if "@" in text:
        channel, key = "email", normalise_email(text)[:254]
        user = db.session.scalar(select(User).where(User.email == key))
    else:
        channel = "sms"
        try:
            key = notices.e164(text)
        except notices.NoticeError:
            key = "".join(ch for ch in text if ch.isdigit())[:20] or "?"
            user = None
        else:
            prefs = db.session.scalar(
                select(NoticePreference)
                .where(NoticePreference.phone == key, NoticePreference.sms_stopped_at.is_(None))
                .order_by(NoticePreference.updated_at.desc())
                .limit(1)
            )
            user = prefs.user if prefs is not None else None
    _throttle(key, address)
    row = PasswordReset(identifier=key, address=address, channel=channel, purpose="reset", attempts=0)
    db.session.add(row)
    db.session.flush()
    if user is not None and user.active:
        _issue(row, user, channel=channel, purpose="reset", actor=None)
    return Requested(channel, key)


def _issue(row: PasswordReset, user: User, *, channel: str, purpose: str, actor: User | None) -> None:
    config = current_app.config
    row.user_id = user.id
    now = utcnow()
    if channel == "email":
        nonce = secrets.token_urlsafe(24)
        token = _serializer().dumps({"r": row.id, "n": nonce})
        row.secret_hash = _digest(f"link:{row.id}:{nonce}")
        seconds = (
            config["WELCOME_LINK_SECONDS"] if purpose == "welcome" else config["PASSWORD_RESET_LINK_SECONDS"]
        )
        row.expires_at = now + dt.timedelta(seconds=int(seconds))
        event = "welcome_link" if purpose == "welcome" else "password_reset_link"
        notices.queue(
            user,
            event,
            f"reset:{row.id}",
            {"link": messages.link(f"/password/reset/{token}")},
            channels=["email"],
            urgent=True,
            secret=True,
            force_channel=True,
        )
    else:
        code = f"{secrets.randbelow(10**6):06d}"
        row.secret_hash = _digest(f"code:{row.id}:{code}")
        row.expires_at = now + dt.timedelta(seconds=int(config["PASSWORD_RESET_CODE_SECONDS"]))
        notices.queue(
            user,
            "password_reset_code",
            f"reset:{row.id}",
            {"code": code},
            channels=["sms"],
            urgent=True,
            secret=True,
            force_channel=True,
        )
    record(
        "user.password_reset_sent",
        "user",
        user.id,
        actor=actor,
        details={"reset_id": row.id, "channel": channel, "purpose": purpose},
    )


def send_link(user: User, *, actor: User, purpose: str = "reset") -> PasswordReset:
    """An admin sends a reset (or, for a new account, a set-your-password) link: never a password."""
    row = PasswordReset(
        identifier=user.email,
        address="admin",
        channel="email",
        purpose=purpose,
        attempts=0,
        requested_by=actor.id,
    )
    db.session.add(row)
    db.session.flush()
    _issue(row, user, channel="email", purpose=purpose, actor=actor)
    return row


def _usable(row: PasswordReset | None) -> PasswordReset:
    if row is None or row.user_id is None or row.used_at is not None or row.expires_at is None:
        raise ResetInvalid()
    if _aware(row.expires_at) <= utcnow():
        raise ResetInvalid()
    return row


def check_link(token: str) -> PasswordReset:
    """The request a link names, if the link is genuine and still usable. Raises ResetInvalid."""
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise ResetInvalid() from exc
    if not isinstance(data, dict) or not isinstance(data.get("r"), int) or not isinstance(data.get("n"), str):
        raise ResetInvalid()
    row = _usable(db.session.get(PasswordReset, data["r"]))
    if row.channel != "email" or not hmac.compare_digest(
        row.secret_hash or "", _digest(f"link:{row.id}:{data['n']}")
    ):
        raise ResetInvalid()
    return row


def reset_with_link(token: str, password: str) -> User:
    row = check_link(token)
    return _use(row, password)


def reset_with_code(phone: str, code: str, password: str) -> User:
    """The latest code sent to this number; a wrong code uses up one of its tries."""
    try:
        number = notices.e164(phone)
    except notices.NoticeError as exc:
        raise ResetInvalid() from exc
    row = db.session.scalar(
        select(PasswordReset)
        .where(
            PasswordReset.identifier == number,
            PasswordReset.channel == "sms",
            PasswordReset.user_id.is_not(None),
            PasswordReset.used_at.is_(None),
        )
        .order_by(PasswordReset.id.desc())
        .limit(1)
    )
    row = _usable(row)
    if row.attempts >= int(current_app.config["PASSWORD_RESET_CODE_TRIES"]):
        raise ResetInvalid()
    row.attempts += 1
    if not hmac.compare_digest(row.secret_hash or "", _digest(f"code:{row.id}:{(code or '').strip()}")):
        db.session.flush()
        raise ResetInvalid()
    return _use(row, password)


def _use(row: PasswordReset, password: str) -> User:
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        raise ResetInvalid()
    set_password(user, password, actor=user, reason=row.purpose)
    now = utcnow()
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    return user
