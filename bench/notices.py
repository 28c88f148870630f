"""Benchmark: the notices sender on 10,000 pending messages (run: python bench/notices.py).

A database of its own, built by the migrations: SQLite in a temporary folder, or PostgreSQL when
``DATABASE_URL`` names a server (a database is created there and dropped). A real SMTP server
(aiosmtpd) and a local HTTP server speaking the SMS provider's Messages API run on 127.0.0.1; the
provider answers 503 to every 50th request (retried later) and 400 "invalid number" for 1% of the
workers (failed at once).

It queues ``BENCH_NOTICES`` (default 10,000) notices for 1,000 workers (half of them with SMS
consent) through ``notices.operations.queue`` (rendering each in the worker's language), then times
the ``notices`` job (``flask run-job notices``'s code path: the job lock, the sender, every outcome
committed) and a second run once the retries are due, and prints queued / sent / retried / failed and
messages per second.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

N_NOTICES = int(os.environ.get("BENCH_NOTICES", "10000"))
N_WORKERS = 1000


def main() -> None:
    from aiosmtpd.controller import Controller

    from tests import databases
    from tests.app.notices.conftest import ACCOUNT, FROM, TOKEN, MailHandler, SmsProvider, _handler, free_port

    server_url = os.environ.get("DATABASE_URL")
    if server_url and databases.is_postgres(server_url):
        url = databases.create_postgres_database(server_url)
    else:
        server_url = None
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.sqlite")
    mail = MailHandler()
    mail_port = free_port()
    controller = Controller(mail, hostname="127.0.0.1", port=mail_port)
    controller.start()
    provider = SmsProvider()
    provider.fail_every = 50
    sms_server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    threading.Thread(target=sms_server.serve_forever, daemon=True).start()
    try:
        databases.migrate(url)
        run(url, mail, mail_port, provider, sms_server.server_address[1], ACCOUNT, TOKEN, FROM)
    finally:
        controller.stop()
        sms_server.shutdown()
        if server_url:
            databases.drop_postgres_database(server_url, url)


def run(
    url: str, mail: Any, mail_port: int, provider: Any, sms_port: int, account: str, token: str, sender: str
) -> None:
    from sqlalchemy import func, insert, select

    from loanapp import create_app
    from loanapp.accounts.models import User
    from loanapp.extensions import db
    from loanapp.jobs import runner
    from loanapp.notices import operations as ops
    from loanapp.notices.models import Notice

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "NOTICES_TRANSPORT": "live",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": mail_port,
            "SMS_API_URL": f"http://127.0.0.1:{sms_port}",
            "SMS_ACCOUNT_SID": account,
            "SMS_AUTH_TOKEN": token,
            "SMS_FROM": sender,
            "SMS_QUIET_HOURS": ["00:00", "00:00", "America/New_York"],
            "NOTICES_BATCH_SIZE": 500,
        }
    )
    with app.app_context():
        workers = []
        for k in range(N_WORKERS):
            user = User(
                email=f"worker{k}@bench.example",
                full_name=f"Worker {k}",
                password_hash="x",
                role="worker",
                active=True,
                locale="es" if k % 3 == 0 else "en",
            )
            db.session.add(user)
            workers.append(user)
        db.session.flush()
        for k, user in enumerate(workers):
            phone = f"+1315555{k:04d}"
            if k % 100 == 7:
                provider.invalid.add(phone)
            ops.set_preferences(
                user,
                ops.Preferences(
                    by_email=True, by_sms=k % 2 == 0, language=None, phone=phone, sms_consent=k % 2 == 0
                ),
                channel="web",
                actor=None,
            )
        db.session.commit()
        # The queue path (render in the worker's language, one row per channel) on a sample...
        sample = 500
        started = time.perf_counter()
        for k in range(sample):
            ops.queue(
                workers[k % N_WORKERS],
                "payment_due",
                f"sample:{k}",
                {"amount": "212.50", "date": dt.date(2026, 12, 15)},
            )
        db.session.commit()
        per_event = (time.perf_counter() - started) / sample * 1000
        queued = db.session.scalar(select(func.count()).select_from(Notice)) or 0
        print(f"queue path: {per_event:.1f} ms per event ({queued} notices from {sample} events)")
        # ...then the rest of the 10,000 pending notices copied in bulk (the sender is what is timed).
        template = db.session.scalars(select(Notice).order_by(Notice.id).limit(2 * N_WORKERS)).all()
        rows = []
        k = 0
        while queued + len(rows) < N_NOTICES:
            n = template[k % len(template)]
            rows.append(
                {
                    "user_id": n.user_id,
                    "event": n.event,
                    "event_key": f"bench:{k}",
                    "channel": n.channel,
                    "language": n.language,
                    "recipient": n.recipient,
                    "subject": n.subject,
                    "body": n.body,
                    "secret": False,
                    "urgent": False,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": ops.utcnow(),
                    "last_error": "",
                    "transport": "",
                    "provider_id": "",
                    "created_at": ops.utcnow(),
                }
            )
            k += 1
        if rows:
            db.session.execute(insert(Notice), rows)
        db.session.commit()
        queued = db.session.scalar(select(func.count()).select_from(Notice)) or 0
        channels = dict(
            db.session.execute(select(Notice.channel, func.count()).group_by(Notice.channel)).all()
        )
        print(f"pending: {queued} notices ({channels.get('email', 0)} email, {channels.get('sms', 0)} SMS)")

        del workers, template, rows
        db.session.remove()  # the sender starts with an empty session, as in the scheduler
        started = time.perf_counter()
        result = runner.run_job("notices", dt.date(2026, 12, 10), trigger="manual")
        first = time.perf_counter() - started
        counts = result.counts
        handled = counts["sent"] + counts["retried"] + counts["failed"]
        print(
            f"first run: {result.outcome} in {first:.1f} s: sent {counts['sent']}, retried {counts['retried']}, "
            f"failed {counts['failed']} ({handled / first:,.0f} messages/s)"
        )
        later = ops.utcnow() + dt.timedelta(minutes=2)
        started = time.perf_counter()
        second = ops.send_pending(now=later)
        seconds = time.perf_counter() - started
        print(
            f"retry run: {seconds:.1f} s: sent {second.sent}, retried {second.retried}, failed {second.failed}"
        )
        print(
            f"SMTP server received {len(mail.messages)} emails; SMS provider {len(provider.received)} requests"
        )
        print(f"database: {db.engine.dialect.name}")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    main()
