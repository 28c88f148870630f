"""Password recovery: email link, SMS code, one answer for every account, throttling, sessions ended."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from loanapp.accounts.models import User
from loanapp.extensions import db
from loanapp.notices import operations as notices
from loanapp.notices.models import Notice
from loanapp.recovery.models import PasswordReset
from tests.app.notices.conftest import worker_with


def _sent_mail(live: dict[str, Any]) -> str:
    with_app = notices.send_pending()
    assert with_app.sent >= 1
    return str(live["mail"].messages[-1].get_content())


def test_a_reset_link_by_email_works_once_and_ends_other_sessions(
    app: Flask, client: FlaskClient, auth: Any, users: Any, live: dict[str, Any]
) -> None:
    auth.login("worker")
    assert client.get("/my/messages").status_code == 200
    anonymous = app.test_client()
    answer = anonymous.post("/password/forgot", data={"identifier": "Worker@Example.org"})
    assert answer.status_code == 200 and "If an account uses this email" in answer.get_data(as_text=True)
    with app.app_context():
        text = _sent_mail(live)
        notice = db.session.scalar(select(Notice).where(Notice.event == "password_reset_link"))
        assert notice is not None and notice.body == "(sign-in secret removed once sent)"
    link = re.search(r"http://127\.0\.0\.1:5000(/password/reset/\S+)", text)
    assert link is not None
    path = link.group(1)
    assert anonymous.get(path).status_code == 200
    short = anonymous.post(path, data={"password": "short", "confirm": "short"})
    assert short.status_code == 422
    done = anonymous.post(path, data={"password": "a-brand-new-pass", "confirm": "a-brand-new-pass"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert anonymous.get(path).status_code == 410  # single use
    # The session signed in before the reset is over.
    assert client.get("/my/messages").status_code in (302, 401)
    ok = anonymous.post("/login", data={"email": "worker@example.org", "password": "a-brand-new-pass"})
    assert ok.status_code == 302


def test_unknown_accounts_get_the_same_answer_and_nothing_is_sent(
    app: Flask, client: FlaskClient, users: Any
) -> None:
    known = client.post("/password/forgot", data={"identifier": "worker@example.org"})
    unknown = client.post("/password/forgot", data={"identifier": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(select(PasswordReset).order_by(PasswordReset.id)).all()
        assert [r.user_id is not None for r in rows] == [True, False]
        assert db.session.scalar(select(Notice.recipient).where(Notice.event == "password_reset_link")) == (
            "worker@example.org"
        )


def test_requests_are_throttled_per_email(app: Flask, client: FlaskClient, users: Any) -> None:
    for _ in range(3):
        assert client.post("/password/forgot", data={"identifier": "nobody@example.org"}).status_code == 200
    assert client.post("/password/forgot", data={"identifier": "nobody@example.org"}).status_code == 429


def test_a_code_by_sms_resets_the_password_and_wrong_codes_use_up_tries(
    app: Flask, client: FlaskClient, people: dict[str, Any], live: dict[str, Any]
) -> None:
    worker_with(people, language="es")
    db.session.commit()
    sent = client.post("/password/forgot", data={"identifier": "(315) 555-0142"})
    assert sent.status_code == 302 and "/password/code" in sent.headers["Location"]
    with app.app_context():
        assert notices.send_pending().sent == 1
    body = live["sms"].received[-1]["Body"]
    assert "su código para restablecer la contraseña es" in body
    code = re.search(r"\b(\d{6})\b", body).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    form = {"phone": "315-555-0142", "password": "otra-clave-larga", "confirm": "otra-clave-larga"}
    assert client.post("/password/code", data={**form, "code": wrong}).status_code == 422
    assert client.post("/password/code", data={**form, "code": code}).status_code == 302
    assert client.post("/password/code", data={**form, "code": code}).status_code == 422  # used
    with app.app_context():
        row = db.session.scalar(select(PasswordReset).where(PasswordReset.channel == "sms"))
        assert row is not None and row.attempts == 2 and row.used_at is not None


def test_five_wrong_codes_end_the_code(app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    worker_with(people)
    db.session.commit()
    client.post("/password/forgot", data={"identifier": "3155550142"})
    form = {"phone": "3155550142", "password": "otra-clave-larga", "confirm": "otra-clave-larga"}
    with app.app_context():
        code_notice = db.session.scalar(select(Notice).where(Notice.event == "password_reset_code"))
        code = re.search(r"\b(\d{6})\b", code_notice.body).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/password/code", data={**form, "code": wrong})
    assert client.post("/password/code", data={**form, "code": code}).status_code == 422


def test_a_new_staff_account_gets_a_link_and_admins_never_type_passwords(
    app: Flask, client: FlaskClient, auth: Any, users: Any
) -> None:
    auth.login("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'type="password"' not in page
    made = client.post(
        "/admin/users", data={"full_name": "Nia Officer", "email": "nia@coopfed.example", "role": "officer"}
    )
    assert made.status_code == 302
    sent = client.post(f"/admin/users/{users['worker2']}/password-link")
    assert sent.status_code == 302
    with app.app_context():
        events = dict(db.session.execute(select(Notice.recipient, Notice.event)).all())
        assert events == {"nia@coopfed.example": "welcome_link", "worker2@example.org": "password_reset_link"}
        nia = db.session.scalar(select(User).where(User.email == "nia@coopfed.example"))
        reset = db.session.scalar(select(PasswordReset).where(PasswordReset.user_id == nia.id))  # type: ignore[union-attr]
        assert reset is not None and reset.purpose == "welcome" and reset.requested_by == users["admin"]


def test_the_login_page_links_to_password_recovery(client: FlaskClient) -> None:
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)
