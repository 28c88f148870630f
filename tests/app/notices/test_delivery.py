"""The outbox and its sender against a real SMTP server and a local SMS provider."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.notices import operations as ops
from loanapp.notices.models import Notice, NoticeAttempt
from tests.app.applications.conftest import submit
from tests.app.notices.conftest import FROM, worker_with


def _notices(event: str | None = None) -> list[Notice]:
    query = select(Notice).order_by(Notice.id)
    if event:
        query = query.where(Notice.event == event)
    return list(db.session.scalars(query))


def test_an_application_queues_its_notices_in_the_workers_language_and_the_job_sends_them(
    app: Flask, people: dict[str, Any], live: dict[str, Any]
) -> None:
    worker = worker_with(people, language="es")
    application = submit(worker)
    db.session.commit()
    queued = _notices("application_received")
    assert {n.channel for n in queued} == {"email", "sms"}
    assert all(n.status == "pending" and n.language == "es" for n in queued)
    assert all(n.application_id == application.id for n in queued)

    counts = ops.send_pending()
    assert counts.sent == 2 and counts.failed == 0

    [mail] = live["mail"].messages
    assert mail["To"] == "worker@example.org"
    assert mail["Subject"] == "Recibimos su solicitud de préstamo de auto"
    text = mail.get_content()
    assert "Hola, Test:" in text and "$8,500.00" in text and f"/my-application/{application.id}" in text
    assert "(315) 476-1500" in text  # the credit union's phone closes every email

    [sms] = live["sms"].received
    assert sms["To"] == "+13155550142" and sms["From"] == FROM
    assert sms["Body"].startswith("Cooperative Federal: recibimos su solicitud")

    email_notice, sms_notice = sorted(queued, key=lambda n: n.channel)
    db.session.refresh(email_notice)
    db.session.refresh(sms_notice)
    assert email_notice.status == "sent" and email_notice.provider_id == mail["Message-ID"]
    assert sms_notice.status == "sent" and sms_notice.provider_id.startswith("SM")
    assert [a.outcome for a in sms_notice.attempt_log] == ["sent"]


def test_a_notice_is_never_sent_twice(app: Flask, people: dict[str, Any], live: dict[str, Any]) -> None:
    worker = worker_with(people, sms=False)
    ops.queue(
        worker,
        "payment_received",
        "test:once",
        {"amount": "120.00", "date": dt.date(2026, 12, 1), "link": "x"},
    )
    again = ops.queue(
        worker,
        "payment_received",
        "test:once",
        {"amount": "120.00", "date": dt.date(2026, 12, 1), "link": "x"},
    )
    db.session.commit()
    assert again == [] and len(_notices("payment_received")) == 1
    assert ops.send_pending().sent == 1
    assert ops.send_pending().sent == 0
    assert len(live["mail"].messages) == 1


def test_provider_errors_are_retried_with_backoff_and_every_attempt_recorded(
    app: Flask, people: dict[str, Any], live: dict[str, Any]
) -> None:
    worker = worker_with(people)
    [sms] = ops.queue(
        worker, "payoff_complete", "test:retry", {"date": dt.date(2026, 12, 1)}, channels=["sms"]
    )
    db.session.commit()
    live["sms"].script.extend(
        [
            (503, {"code": 20503, "message": "Service unavailable", "status": 503}),
            (429, {"code": 20429, "message": "Too many requests", "status": 429}),
        ]
    )
    start = utcnow()
    first = ops.send_pending(now=start)
    assert first.retried == 1
    db.session.refresh(sms)
    assert sms.status == "pending" and sms.attempts == 1 and "503" in sms.last_error
    wait = (
        sms.next_attempt_at.replace(tzinfo=dt.UTC)
        if sms.next_attempt_at.tzinfo is None
        else sms.next_attempt_at
    )
    assert wait - start == dt.timedelta(seconds=60)
    assert ops.send_pending(now=start + dt.timedelta(seconds=30)).retried == 0  # not due yet
    assert ops.send_pending(now=start + dt.timedelta(seconds=61)).retried == 1
    db.session.refresh(sms)
    wait = (
        sms.next_attempt_at.replace(tzinfo=dt.UTC)
        if sms.next_attempt_at.tzinfo is None
        else sms.next_attempt_at
    )
    assert wait - (start + dt.timedelta(seconds=61)) == dt.timedelta(seconds=120)  # doubled
    assert ops.send_pending(now=start + dt.timedelta(seconds=200)).sent == 1
    db.session.refresh(sms)
    assert sms.status == "sent" and sms.attempts == 3
    assert [a.outcome for a in sms.attempt_log] == ["retry", "retry", "sent"]
    assert len(live["sms"].received) == 3


def test_an_invalid_number_fails_at_once_and_officers_see_why(
    app: Flask, people: dict[str, Any], live: dict[str, Any]
) -> None:
    from loanapp.notices.queries import failed_notices_for_loan

    worker = worker_with(people, phone="315-555-0199")
    live["sms"].invalid.add("+13155550199")
    [sms] = ops.queue(
        worker,
        "payment_due",
        "test:bad-number",
        {"amount": "200.00", "date": dt.date(2026, 12, 9)},
        channels=["sms"],
    )
    db.session.commit()
    assert ops.send_pending().failed == 1
    db.session.refresh(sms)
    assert sms.status == "failed" and sms.attempts == 1
    assert sms.last_error == "SMS provider answered 400: number not valid"
    assert failed_notices_for_loan(-1) == []


def test_a_bounced_email_is_failed_and_a_dead_server_is_retried(
    app: Flask, people: dict[str, Any], live: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.app.notices.conftest import free_port

    worker = worker_with(people, sms=False)
    live["mail"].refuse.add("worker@example.org")
    [bounced] = ops.queue(worker, "payoff_complete", "test:bounce", {"date": dt.date(2026, 12, 1)})
    db.session.commit()
    assert ops.send_pending().failed == 1
    db.session.refresh(bounced)
    assert bounced.status == "failed" and bounced.last_error.startswith("Email address refused: 550")

    live["mail"].refuse.clear()
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    [later] = ops.queue(worker, "payoff_complete", "test:down", {"date": dt.date(2026, 12, 1)})
    db.session.commit()
    assert ops.send_pending().retried == 1
    db.session.refresh(later)
    assert later.status == "pending" and "not reachable" in later.last_error


def test_sms_waits_for_the_end_of_quiet_hours_but_email_does_not(
    app: Flask, people: dict[str, Any], live: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", ["21:00", "08:00", "America/New_York"])
    worker = worker_with(people)
    ops.queue(worker, "payoff_complete", "test:quiet", {"date": dt.date(2026, 12, 1)})
    db.session.commit()
    night = dt.datetime(2026, 12, 8, 3, 30, tzinfo=dt.UTC)  # 22:30 in Syracuse
    counts = ops.send_pending(now=night)
    assert counts.sent == 1 and counts.held == 1
    assert live["sms"].received == [] and len(live["mail"].messages) == 1
    assert ops.in_quiet_hours(night) == dt.datetime(2026, 12, 8, 13, 0, tzinfo=dt.UTC)
    morning = dt.datetime(2026, 12, 8, 13, 5, tzinfo=dt.UTC)
    assert ops.send_pending(now=morning).sent == 1
    assert len(live["sms"].received) == 1


def test_a_notice_rolls_back_with_the_event_that_caused_it(app: Flask, people: dict[str, Any]) -> None:
    worker = worker_with(people, sms=False)
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Notice))
    submit(worker)
    assert db.session.scalar(select(func.count()).select_from(Notice)) == before + 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notice)) == before


def test_unticking_sms_cancels_texts_not_yet_sent(
    app: Flask, people: dict[str, Any], live: dict[str, Any]
) -> None:
    worker = worker_with(people)
    ops.queue(worker, "payoff_complete", "test:untick", {"date": dt.date(2026, 12, 1)})
    ops.set_preferences(
        worker,
        ops.Preferences(by_email=True, by_sms=False, language="es", phone="315-555-0142", sms_consent=False),
        channel="web",
        actor=worker,
    )
    db.session.commit()
    counts = ops.send_pending()
    assert counts.sent == 1 and live["sms"].received == []
    assert {n.channel: n.status for n in _notices()} == {"email": "sent", "sms": "cancelled"}


def test_a_sender_that_died_mid_send_leaves_a_failure_not_a_duplicate(
    app: Flask, people: dict[str, Any], live: dict[str, Any]
) -> None:
    worker = worker_with(people, sms=False)
    [notice] = ops.queue(worker, "payoff_complete", "test:died", {"date": dt.date(2026, 12, 1)})
    notice.status, notice.claimed_at = "sending", utcnow() - dt.timedelta(hours=1)
    db.session.commit()
    counts = ops.send_pending()
    assert counts.interrupted == 1 and counts.sent == 0 and live["mail"].messages == []
    db.session.refresh(notice)
    assert notice.status == "failed" and "not sent again" in notice.last_error


def test_run_job_notices_sends_what_is_pending(
    app: Flask, people: dict[str, Any], live: dict[str, Any]
) -> None:
    worker = worker_with(people, sms=False)
    ops.queue(worker, "payoff_complete", "test:cli", {"date": dt.date(2026, 12, 1)})
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["run-job", "notices"])
    assert first.exit_code == 0, first.output
    assert "succeeded" in first.output and "sent=1" in first.output
    second = runner.invoke(args=["run-job", "notices"])  # runs again the same day (not "already done")
    assert "succeeded" in second.output and "sent=0" in second.output
    assert len(live["mail"].messages) == 1
    attempts = db.session.scalar(select(func.count()).select_from(NoticeAttempt))
    assert attempts == 1
