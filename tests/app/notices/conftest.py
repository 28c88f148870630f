"""Real components for the notices tests: an SMTP server (aiosmtpd) and an HTTP server speaking the SMS
provider's Messages API (Twilio's request and response format), both on 127.0.0.1."""

from __future__ import annotations

import base64
import email
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from flask import Flask

from tests.app.applications.conftest import _reference_lists, ctx, form_data, people  # noqa: F401  (fixtures)

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "test-auth-token"
FROM = "+13155550100"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MailHandler:
    """Keeps every message; refuses the addresses in ``refuse`` with a 550 (a bounce)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[MailHandler, int]]:
    from aiosmtpd.controller import Controller

    handler = MailHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


class SmsProvider:
    """What the fake provider received, and what it should answer next."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, Any]]] = []  # answers to give before succeeding
        self.invalid: set[str] = set()
        self.fail_every = 0  # every n-th request answers 503 (the benchmark's flaky provider)

    def reset(self) -> None:
        self.received.clear()
        self.script.clear()
        self.invalid.clear()


def _handler(provider: SmsProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
            if self.path != f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json":
                return self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
            if self.headers.get("Authorization") != expected:
                return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
            provider.received.append(form)
            if provider.script:
                status, body = provider.script.pop(0)
                return self._answer(status, body)
            if provider.fail_every and len(provider.received) % provider.fail_every == 0:
                return self._answer(503, {"code": 20503, "message": "Service unavailable", "status": 503})
            if form.get("To") in provider.invalid:
                return self._answer(
                    400,
                    {
                        "code": 21211,
                        "message": f"The 'To' number {form['To']} is not a valid phone number.",
                        "status": 400,
                    },
                )
            sid = "SM" + uuid.uuid4().hex
            self._answer(
                201,
                {
                    "sid": sid,
                    "status": "queued",
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "body": form.get("Body"),
                    "account_sid": ACCOUNT,
                    "error_code": None,
                },
            )

    return Handler


@pytest.fixture(scope="session")
def sms_server() -> Iterator[tuple[SmsProvider, int]]:
    provider = SmsProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def live(app: Flask, smtp_server: Any, sms_server: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The app sending for real to the local SMTP and SMS servers (restored after the test)."""
    mail, mail_port = smtp_server
    sms, sms_port = sms_server
    mail.messages.clear()
    mail.refuse.clear()
    sms.reset()
    for key, value in {
        "NOTICES_TRANSPORT": "live",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mail_port,
        "MAIL_USE_TLS": False,
        "SMS_API_URL": f"http://127.0.0.1:{sms_port}",
        "SMS_ACCOUNT_SID": ACCOUNT,
        "SMS_AUTH_TOKEN": TOKEN,
        "SMS_FROM": FROM,
        "SMS_TIMEOUT": 5,
        "MAIL_TIMEOUT": 5,
        "SMS_QUIET_HOURS": ["00:00", "00:00", "America/New_York"],  # no quiet hours unless a test sets them
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return {"mail": mail, "sms": sms}


def worker_with(
    persons: dict[str, Any], *, language: str = "es", sms: bool = True, phone: str = "315-555-0142"
) -> Any:
    """The test worker with contact preferences set as a worker would on the apply page."""
    from loanapp.notices.operations import Preferences, set_preferences

    worker = persons["worker"]
    set_preferences(
        worker,
        Preferences(by_email=True, by_sms=sms, language=language, phone=phone, sms_consent=sms),
        channel="web",
        actor=worker,
    )
    return worker
