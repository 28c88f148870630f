"""How a notice leaves the building: email over SMTP, SMS over an HTTP API in the shape of Twilio's
Messages API, or (development) nowhere but the outbox viewer and the log.

A transport returns the provider's message id, or raises :class:`DeliveryError` saying whether trying
again later makes sense (a timeout, a 5xx, a 429) or not (an invalid number, a refused address).
Transports are opened once per sender run and reused for every message (one SMTP session, one
keep-alive HTTP connection).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import logging
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

log = logging.getLogger("loanapp.notices")


class DeliveryError(Exception):
    def __init__(self, message: str, *, retry: bool, provider_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry
        self.provider_id = provider_id


class Transport(Protocol):
    name: str

    def send(self, recipient: str, subject: str, body: str) -> str: ...

    def close(self) -> None: ...


class OutboxTransport:
    """Development: the message is kept in the outbox (shown on /admin/outbox) and written to the log."""

    def __init__(self, channel: str) -> None:
        self.name = "outbox"
        self.channel = channel

    def send(self, recipient: str, subject: str, body: str) -> str:
        log.info("notice (%s) to %s: %s %s", self.channel, recipient, subject, body.replace("\n", " ")[:300])
        return f"outbox-{uuid.uuid4().hex[:16]}"

    def close(self) -> None:
        pass


class SmtpTransport:
    """Email through the ``MAIL_*`` server; one SMTP session for the whole run, reopened if it drops."""

    name = "smtp"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.server = str(config["MAIL_SERVER"])
        self.port = int(config["MAIL_PORT"])
        self.use_tls = bool(config["MAIL_USE_TLS"])
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.sender = str(config["MAIL_DEFAULT_SENDER"])
        self.timeout = float(config["MAIL_TIMEOUT"])
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.server, self.port, timeout=self.timeout)
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            self._smtp = smtp
        return self._smtp

    def send(self, recipient: str, subject: str, body: str) -> str:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1].strip("> ") or None)
        message.set_content(body)
        for attempt in (1, 2):  # a server that closed an idle session gets one reconnect
            try:
                self._connect().send_message(message)
                return str(message["Message-ID"])
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise DeliveryError(f"Mail server closed the connection: {exc}", retry=True) from exc
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                raise DeliveryError(
                    f"Email address refused: {code} {_text(text)}", retry=400 <= code < 500
                ) from exc
            except smtplib.SMTPResponseException as exc:
                self._reset()
                raise DeliveryError(
                    f"Mail server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                    retry=400 <= exc.smtp_code < 500,
                ) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                raise DeliveryError(f"Mail server not reachable: {exc}", retry=True) from exc
        raise AssertionError("unreachable")

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._drop()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


#: Provider error codes (Twilio's) with words an officer understands.
SMS_ERROR_WORDS = {
    21211: "number not valid",
    21214: "number not reachable",
    21408: "country not enabled",
    21610: "the worker replied STOP",
    21612: "number not reachable",
    21614: "not a mobile number",
    30003: "number not reachable",
    30005: "unknown number",
    30006: "landline or unreachable carrier",
}


class SmsApiTransport:
    """``POST {SMS_API_URL}/2010-04-01/Accounts/{SMS_ACCOUNT_SID}/Messages.json`` with form fields
    ``To``, ``From``, ``Body`` and HTTP basic auth (account id, ``SMS_AUTH_TOKEN``); the JSON answer's
    ``sid`` is the provider's id. One keep-alive connection for the run."""

    name = "sms_api"

    def __init__(self, config: Mapping[str, Any]) -> None:
        base = urlsplit(str(config["SMS_API_URL"]).rstrip("/"))
        self.scheme = base.scheme
        self.host = base.hostname or ""
        self.port = base.port
        self.prefix = base.path
        self.account = str(config["SMS_ACCOUNT_SID"])
        self.sender = str(config["SMS_FROM"])
        self.timeout = float(config["SMS_TIMEOUT"])
        token = f"{self.account}:{config['SMS_AUTH_TOKEN']}".encode()
        self.auth = "Basic " + base64.b64encode(token).decode()
        self._connection: http.client.HTTPConnection | None = None

    @property
    def path(self) -> str:
        return f"{self.prefix}/2010-04-01/Accounts/{self.account}/Messages.json"

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self.scheme == "https":
                self._connection = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
            else:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._connection

    def send(self, recipient: str, subject: str, body: str) -> str:
        form = urlencode({"To": recipient, "From": self.sender, "Body": body})
        headers = {
            "Authorization": self.auth,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        try:
            connection = self._connect()
            connection.request("POST", self.path, body=form, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            status = response.status
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self.close()
            raise DeliveryError(f"SMS provider not reachable: {exc}", retry=True) from exc
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if 200 <= status < 300 and answer.get("sid"):
            return str(answer["sid"])
        code = answer.get("code")
        words = SMS_ERROR_WORDS.get(code) if isinstance(code, int) else None
        detail = words or str(answer.get("message") or raw[:200].decode("utf-8", "replace"))
        retry = status == 429 or status >= 500 or (200 <= status < 300)
        raise DeliveryError(f"SMS provider answered {status}: {detail}", retry=retry)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def open_transports(config: Mapping[str, Any]) -> dict[str, Transport]:
    """The transport of each channel for ``NOTICES_TRANSPORT`` (``outbox`` or ``live``)."""
    mode = config["NOTICES_TRANSPORT"]
    if mode == "live":
        return {"email": SmtpTransport(config), "sms": SmsApiTransport(config)}
    if mode == "outbox":
        return {"email": OutboxTransport("email"), "sms": OutboxTransport("sms")}
    raise ValueError(f"NOTICES_TRANSPORT must be 'outbox' or 'live', not {mode!r}")
