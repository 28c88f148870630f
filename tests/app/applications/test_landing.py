"""The landing pages: the worker sees where the application stands, the officer the queue counts."""

from __future__ import annotations

from flask import Flask

from tests.app.applications.conftest import submit


def _apply_as_worker(app: Flask, users: dict[str, int]) -> int:
    from loanapp.accounts.models import User
    from loanapp.extensions import db

    with app.test_request_context():
        application = submit(db.session.get(User, users["worker"]))
        db.session.commit()
        return application.id


def test_worker_landing_shows_the_application_status(app: Flask, client, auth, users) -> None:  # type: ignore[no-untyped-def]
    auth.login("worker")
    assert "You have not applied yet." in client.get("/home").get_data(as_text=True)
    application_id = _apply_as_worker(app, users)
    text = client.get("/home").get_data(as_text=True)
    assert "Status: Submitted." in text and "What to do next" in text
    assert f"/my-application/{application_id}" in text


def test_officer_landing_shows_queue_counts(app: Flask, client, auth, users) -> None:  # type: ignore[no-untyped-def]
    _apply_as_worker(app, users)
    auth.login("officer")
    text = client.get("/home").get_data(as_text=True)
    assert "Application queue" in text
    assert '/applications?status=submitted">Submitted <span class="count">1</span>' in text
