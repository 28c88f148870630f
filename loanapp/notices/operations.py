"""Every write of the notices package: preferences and consent, the outbox, delivery, STOP, Reg B notices.

* **Queueing** happens in the caller's transaction (the event's): :func:`queue` renders the notice in the
  worker's language and adds one outbox row per allowed channel. UNIQUE (event_key, channel) makes a
  repeated event a no-op, so a notice is never queued twice.
* **Sending** (:func:`send_pending`, run by the ``notices`` job under the jobs' lock) claims due rows,
  hands each to its transport and commits each outcome on its own, so a crash half-way loses nothing and
  repeats nothing: a row left ``sending`` by a dead sender is marked failed, not sent again, because the
  provider may already have it.
* A web request never talks to SMTP or the SMS provider; it only writes rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from loanapp.accounts.models import User
from loanapp.accounts.operations import set_language
from loanapp.audit.trail import record
from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.notices import messages
from loanapp.notices.models import AdverseActionNotice, Notice, NoticeAttempt, NoticePreference
from loanapp.notices.transports import DeliveryError, Transport, open_transports
from risk.dates import add_months

log = logging.getLogger("loanapp.notices")

#: What the worker agrees to when ticking the SMS box (kept word for word with the time and channel).
SMS_CONSENT_TEXT = _l(
    "I agree to get text messages about my loan application and my loan (status, reminders, payment "
    "notices) at this number. Message and data rates may apply. Reply STOP to stop, HELP for help. "
    "Agreeing is not a condition of the loan."
)
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR", "ALTO"})
START_WORDS = frozenset({"START", "UNSTOP", "YES", "INICIO"})


class NoticeError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- phone numbers ---------------------------------------------------------------------------------


def e164(text: str, region: str = "US") -> str:
    """The number in E.164 (+13155550123), or NoticeError when it is not a valid number."""
    try:
        number = phonenumbers.parse(text or "", region)
    except phonenumbers.NumberParseException as exc:
        raise NoticeError("phone", str(_l("Enter a phone number, like 315-555-0123."))) from exc
    if not phonenumbers.is_valid_number(number):
        raise NoticeError("phone", str(_l("This phone number does not exist. Check the digits.")))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- preferences and consent -----------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    """What the worker chose: channels, language, phone, and whether they agree to texts now."""

    by_email: bool
    by_sms: bool
    language: str | None
    phone: str | None
    sms_consent: bool


def preferences_of(user_id: int) -> NoticePreference | None:
    return db.session.get(NoticePreference, user_id)


def check_preferences(prefs: Preferences) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if prefs.language is not None and prefs.language not in current_app.config["LANGUAGES"]:
        errors["language"] = [str(_l("Choose English or Spanish."))]
    if prefs.by_sms:
        if not prefs.phone:
            errors["phone"] = [str(_l("Enter the mobile number for texts."))]
        else:
            try:
                e164(prefs.phone)
            except NoticeError as exc:
                errors["phone"] = [exc.message]
        if not prefs.sms_consent:
            errors["sms_consent"] = [str(_l("Tick the box to agree to texts, or choose email only."))]
    elif prefs.phone:
        try:
            e164(prefs.phone)
        except NoticeError as exc:
            errors["phone"] = [exc.message]
    return errors


def set_preferences(user: User, prefs: Preferences, *, channel: str, actor: Any) -> NoticePreference:
    """Save the worker's channels, phone and language; record SMS consent (text, time, channel) when
    given, and stop texts at once when SMS is unticked. Raises NoticeError for a bad phone number."""
    errors = check_preferences(prefs)
    if errors:
        field, messages_ = next(iter(errors.items()))
        raise NoticeError(field, messages_[0])
    now = utcnow()
    row = preferences_of(user.id)
    if row is None:
        row = NoticePreference(user_id=user.id, by_email=True, by_sms=False, sms_consent_text="")
        db.session.add(row)
    before = (row.by_email, row.by_sms, row.phone)
    row.phone = e164(prefs.phone) if prefs.phone else None
    row.by_email = prefs.by_email
    consented = prefs.by_sms and prefs.sms_consent
    if consented and (not row.by_sms or row.sms_stopped_at is not None or row.sms_consent_at is None):
        with force_locale(prefs.language or user.locale or "en"):
            row.sms_consent_text = str(SMS_CONSENT_TEXT)
        row.sms_consent_at = now
        row.sms_consent_channel = channel
        row.sms_stopped_at = None
        record(
            "notices.sms_consent_given",
            "user",
            user.id,
            actor=actor,
            details={"phone": row.phone, "channel": channel, "text": row.sms_consent_text},
        )
    if not consented and row.by_sms:
        row.sms_stopped_at = now
        _cancel_pending_sms(user.id, "SMS turned off by the worker")
        record("notices.sms_consent_withdrawn", "user", user.id, actor=actor, details={"channel": channel})
    row.by_sms = consented
    row.updated_at = now
    if prefs.language is not None and prefs.language != user.locale:
        set_language(user, prefs.language, actor=actor)
    if before != (row.by_email, row.by_sms, row.phone):
        record(
            "notices.preferences_changed",
            "user",
            user.id,
            actor=actor,
            details={"by_email": row.by_email, "by_sms": row.by_sms, "phone": row.phone},
        )
    db.session.flush()
    return row


def _cancel_pending_sms(user_id: int, reason: str) -> int:
    result = db.session.execute(
        update(Notice)
        .where(Notice.user_id == user_id, Notice.channel == "sms", Notice.status == "pending")
        .values(status="cancelled", last_error=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class InboundResult:
    action: str  # "stopped", "started", "help" or "ignored"
    users: int
    reply: str


def inbound_sms(sender: str, body: str) -> InboundResult:
    """A text from a worker's phone: STOP (and its synonyms) ends texts to that number at once;
    START turns them back on; HELP answers with who we are. Recorded like any consent change."""
    try:
        number = e164(sender)
    except NoticeError:
        return InboundResult("ignored", 0, "")
    word = (body or "").strip().split()[0].upper() if (body or "").strip() else ""
    rows = list(db.session.scalars(select(NoticePreference).where(NoticePreference.phone == number)))
    now = utcnow()
    language = "en"
    if word in STOP_WORDS:
        for row in rows:
            language = row.user.locale or "en"
            if row.by_sms or row.sms_stopped_at is None:
                row.by_sms = False
                row.sms_stopped_at = now
                row.updated_at = now
                _cancel_pending_sms(row.user_id, "The worker replied STOP")
                record(
                    "notices.sms_consent_withdrawn",
                    "user",
                    row.user_id,
                    details={"channel": "sms", "word": word},
                )
        with force_locale(language):
            return InboundResult("stopped", len(rows), messages.sms_stopped({}).sms)
    if word in START_WORDS:
        for row in rows:
            language = row.user.locale or "en"
            row.by_sms = True
            row.sms_stopped_at = None
            row.sms_consent_at = now
            row.sms_consent_channel = "sms"
            row.sms_consent_text = f"Replied {word} from {number}"
            row.updated_at = now
            record("notices.sms_consent_given", "user", row.user_id, details={"channel": "sms", "word": word})
        with force_locale(language):
            return InboundResult(
                "started", len(rows), messages._sms(_("texts are on again. Reply STOP to stop."))
            )
    if word in ("HELP", "INFO", "AYUDA"):
        contact = messages.contact()
        with force_locale("es" if word == "AYUDA" else "en"):
            return InboundResult(
                "help",
                len(rows),
                messages._sms(
                    _(
                        "Car Buyer Program loan messages. Call %(phone)s. Reply STOP to stop.",
                        phone=contact["phone_display"],
                    )
                ),
            )
    return InboundResult("ignored", len(rows), "")


# --- queueing --------------------------------------------------------------------------------------


def channels_for(
    user: User, wanted: Iterable[str] | None = None, prefs: NoticePreference | None = None
) -> list[str]:
    """The channels this worker gets notices on now (email by default; SMS only with live consent)."""
    prefs = prefs if prefs is not None else preferences_of(user.id)
    chosen = []
    if prefs is None or prefs.by_email:
        chosen.append("email")
    if prefs is not None and prefs.sms_allowed:
        chosen.append("sms")
    if wanted is not None:
        chosen = [c for c in chosen if c in set(wanted)]
    return chosen


def queue(
    user: User,
    event: str,
    event_key: str,
    values: Mapping[str, Any],
    *,
    channels: Iterable[str] | None = None,
    application_id: int | None = None,
    loan_id: int | None = None,
    urgent: bool = False,
    secret: bool = False,
    language: str | None = None,
    force_channel: bool = False,
) -> list[Notice]:
    """Add the event's notices to the outbox in the current transaction (one per channel); an event
    already queued on a channel is left as it is.

    ``force_channel``: the person asked for this message on this channel (a reset code or link), so
    it goes there whatever their notice preferences, though never to a number that replied STOP.
    """
    language = language or (user.locale if user.locale in current_app.config["LANGUAGES"] else "en")
    first_name = user.full_name.split(" ")[0] or user.full_name
    rendered = messages.render(event, language, {"name": first_name, **values})
    prefs = preferences_of(user.id)
    if force_channel:
        chosen = [
            c
            for c in (channels or ())
            if c == "email" or (prefs is not None and prefs.phone and prefs.sms_stopped_at is None)
        ]
    else:
        chosen = channels_for(user, channels, prefs)
    added: list[Notice] = []
    already = set(db.session.scalars(select(Notice.channel).where(Notice.event_key == event_key)))
    for channel in chosen:
        text = rendered.email if channel == "email" else rendered.sms
        if not text:
            continue
        recipient = user.email if channel == "email" else (prefs.phone if prefs else None)
        if not recipient:
            continue
        if channel in already:
            continue
        notice = Notice(
            user_id=user.id,
            event=event,
            event_key=event_key[:200],
            channel=channel,
            language=language,
            recipient=recipient,
            subject=rendered.subject[:300] if channel == "email" else "",
            body=text,
            secret=secret,
            urgent=urgent,
            application_id=application_id,
            loan_id=loan_id,
            status="pending",
            attempts=0,
            next_attempt_at=utcnow(),
            last_error="",
            transport="",
            provider_id="",
        )
        # Keys name one event (an audit event's id, or a reminder's loan, date and day count, queued
        # under the job lock), so no concurrent twin can insert the same key; UNIQUE (event_key,
        # channel) would refuse one with the event's own transaction.
        db.session.add(notice)
        added.append(notice)
    return added


# --- sending ---------------------------------------------------------------------------------------


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def in_quiet_hours(now: dt.datetime) -> dt.datetime | None:
    """When SMS may go again if ``now`` is in the quiet hours (``SMS_QUIET_HOURS``), else None."""
    start_text, end_text, zone_name = current_app.config["SMS_QUIET_HOURS"]
    zone = ZoneInfo(zone_name)
    local = _aware(now).astimezone(zone)
    start = dt.time.fromisoformat(start_text)
    end = dt.time.fromisoformat(end_text)
    clock = local.time()
    quiet = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not quiet:
        return None
    day = local.date() if clock < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tzinfo=zone).astimezone(dt.UTC)


def retry_delay(attempts: int) -> dt.timedelta:
    """Backoff: the base wait doubled for each failed try, at most an hour."""
    base = int(current_app.config["NOTICES_RETRY_SECONDS"])
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class SendCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    held: int = 0  # SMS kept back by quiet hours
    interrupted: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def send_pending(
    *,
    now: dt.datetime | None = None,
    transports: Mapping[str, Transport] | None = None,
    limit: int | None = None,
) -> SendCounts:
    """Deliver every notice that is due. Commits each outcome. Call under the ``notices`` job lock."""
    config = current_app.config
    counts = SendCounts()
    own = transports is None
    transports = transports if transports is not None else open_transports(config)
    try:
        counts.interrupted = _fail_interrupted(now or utcnow())
        db.session.commit()
        batch = int(config["NOTICES_BATCH_SIZE"])
        done = 0
        while limit is None or done < limit:
            moment = now or utcnow()
            quiet_until = in_quiet_hours(moment)
            query = select(Notice.id).where(Notice.status == "pending", Notice.next_attempt_at <= moment)
            if quiet_until is not None:
                counts.held = int(
                    db.session.scalar(
                        select(func.count())
                        .select_from(Notice)
                        .where(
                            Notice.status == "pending",
                            Notice.next_attempt_at <= moment,
                            Notice.channel == "sms",
                            Notice.urgent.is_(False),
                        )
                    )
                    or 0
                )
                query = query.where((Notice.channel == "email") | Notice.urgent.is_(True))
            ids = list(db.session.scalars(query.order_by(Notice.id).limit(batch)))
            if not ids:
                break
            db.session.execute(
                update(Notice)
                .where(Notice.id.in_(ids), Notice.status == "pending")
                .values(status="sending", claimed_at=moment)
            )
            db.session.commit()
            # One row at a time and no list of them kept: each commit expires what the session
            # holds, and rows nobody references leave it (its identity map is weak).
            for notice_id in ids:
                notice = db.session.get(Notice, notice_id)
                if notice is None or notice.status != "sending":
                    continue
                outcome = _deliver(notice, transports[notice.channel], now or utcnow())
                setattr(counts, outcome, getattr(counts, outcome) + 1)
                del notice
                db.session.commit()
                done += 1
                if limit is not None and done >= limit:
                    break
    finally:
        if own:
            for transport in transports.values():
                transport.close()
    return counts


def _fail_interrupted(now: dt.datetime) -> int:
    """Rows a dead sender left ``sending``: the provider may have them, so they are not sent again."""
    cutoff = now - dt.timedelta(seconds=int(current_app.config["NOTICES_SENDING_TIMEOUT_SECONDS"]))
    result = db.session.execute(
        update(Notice)
        .where(Notice.status == "sending", Notice.claimed_at < cutoff)
        .values(status="failed", last_error="Interrupted while sending; not sent again to avoid a duplicate")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _deliver(notice: Notice, transport: Transport, now: dt.datetime) -> str:
    if notice.channel == "sms":
        prefs = preferences_of(notice.user_id)
        # A code the person asked for goes to their number unless it replied STOP; other texts need consent.
        allowed = prefs is not None and (
            prefs.sms_allowed if not notice.secret else prefs.sms_stopped_at is None
        )
        if prefs is None or not allowed or prefs.phone != notice.recipient:
            notice.status = "cancelled"
            notice.last_error = "SMS stopped by the worker"
            return "cancelled"
    notice.attempts += 1
    try:
        provider_id = transport.send(notice.recipient, notice.subject, notice.body)
    except DeliveryError as exc:
        give_up = not exc.retry or notice.attempts >= int(current_app.config["NOTICES_MAX_ATTEMPTS"])
        db.session.add(
            NoticeAttempt(
                notice_id=notice.id,
                attempted_at=now,
                outcome="failed" if give_up else "retry",
                transport=transport.name,
                provider_id=exc.provider_id,
                error=exc.message[:500],
            )
        )
        notice.last_error = exc.message[:500]
        notice.transport = transport.name
        if give_up:
            notice.status = "failed"
            log.warning("notice %s failed: %s", notice.id, exc.message)
            return "failed"
        notice.status = "pending"
        notice.next_attempt_at = now + retry_delay(notice.attempts)
        return "retried"
    notice.status = "sent"
    notice.sent_at = now
    notice.provider_id = provider_id[:200]
    notice.transport = transport.name
    notice.last_error = ""
    if notice.secret:
        notice.body = "(sign-in secret removed once sent)"
    db.session.add(
        NoticeAttempt(
            notice_id=notice.id,
            attempted_at=now,
            outcome="sent",
            transport=transport.name,
            provider_id=notice.provider_id,
            error="",
        )
    )
    return "sent"


# --- Regulation B adverse-action notices -----------------------------------------------------------

ECOA_PARAGRAPH = _l(
    "The federal Equal Credit Opportunity Act prohibits creditors from discriminating against credit "
    "applicants on the basis of race, color, religion, national origin, sex, marital status, age (provided "
    "the applicant has the capacity to enter into a binding contract); because all or part of the "
    "applicant's income derives from any public assistance program; or because the applicant has in good "
    "faith exercised any right under the Consumer Credit Protection Act. The federal agency that administers "
    "compliance with this law concerning this creditor is: %(agency)s."
)
NCUA = "National Credit Union Administration, Office of Consumer Financial Protection, 1775 Duke Street, Alexandria, VA 22314"
RETAIN_MONTHS = 25  # 12 CFR 1002.12(b)


def adverse_action_text(
    *, kind: str, applicant: str, address: str, day: dt.date, reasons: list[str], language: str
) -> str:
    with force_locale(language):
        contact = messages.contact()
        actions = {
            "declined": _("We are unable to offer you the credit you applied for."),
            "counter_offer_refused": _(
                "We offered you credit on terms different from those you applied for, and you did not accept "
                "the offer."
            ),
            "incomplete": _(
                "Your application is incomplete, and we cannot make a decision on it without the information "
                "listed below."
            ),
        }
        lines = [
            _("Notice of action taken on your credit application"),
            "",
            _("Date: %(date)s", date=messages._day(day)),
            _("Applicant: %(name)s", name=applicant),
            address,
            "",
            _("Action taken: %(action)s", action=actions[kind]),
            "",
            _("Principal reasons:"),
            *[f"- {reason}" for reason in reasons[:4]],
            "",
            _(
                "Creditor: %(name)s, %(address)s, %(phone)s",
                name=contact["name"],
                address=contact["address"],
                phone=contact["phone_display"],
            ),
            "",
            str(ECOA_PARAGRAPH) % {"agency": NCUA},
        ]
        if kind == "incomplete":
            lines += ["", _("Send us the missing information and we will look at your application again.")]
    return "\n".join(lines) + "\n"


def issue_adverse_action(
    application: Any, *, kind: str, reasons: list[str], day: dt.date
) -> AdverseActionNotice:
    """Write the notice as sent (content and SHA-256), kept for at least 25 months; once per kind."""
    existing = db.session.scalar(
        select(AdverseActionNotice).where(
            AdverseActionNotice.application_id == application.id, AdverseActionNotice.kind == kind
        )
    )
    if existing is not None:
        return existing
    worker = application.worker
    language = worker.locale if worker.locale in current_app.config["LANGUAGES"] else "en"
    address = f"{application.street}, {application.city}, {application.state} {application.postal_code}"
    content = adverse_action_text(
        kind=kind,
        applicant=application.full_name,
        address=address,
        day=day,
        reasons=reasons,
        language=language,
    )
    notice = AdverseActionNotice(
        application_id=application.id,
        kind=kind,
        language=language,
        notice_date=day,
        reasons="\n".join(reasons[:4]),
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        retain_until=add_months(day, RETAIN_MONTHS),
    )
    db.session.add(notice)
    db.session.flush()
    record(
        "notices.adverse_action_issued",
        "application",
        application.id,
        details={"notice_id": notice.id, "kind": kind, "sha256": notice.sha256},
    )
    return notice
