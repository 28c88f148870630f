"""Consent and language on apply (API and page), the account page, and STOP through the signed webhook."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from loanapp.accounts.models import User
from loanapp.extensions import db
from loanapp.notices.models import Notice, NoticePreference
from loanapp.notices.views import twilio_signature
from tests.app.applications.conftest import answers
from tests.app.notices.conftest import TOKEN, worker_with


def _api_body(app: Flask, **extra: Any) -> dict[str, Any]:
    with app.app_context():
        values = answers()
    body = {k: (str(v) if v is not None and not isinstance(v, bool | int) else v) for k, v in values.items()}
    body.update(email="lucia@example.org", password="a-long-password", **extra)
    return body


def test_api_apply_keeps_language_channels_and_sms_consent(app: Flask, client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/applications",
        json=_api_body(app, language="es", notify_by=["email", "sms"], sms_consent=True),
    )
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "lucia@example.org"))
        assert user is not None and user.locale == "es"
        prefs = db.session.get(NoticePreference, user.id)
        assert prefs is not None and prefs.phone == "+13155550142" and prefs.by_sms and prefs.by_email
        assert prefs.sms_consent_channel == "api" and prefs.sms_consent_at is not None
        assert prefs.sms_consent_text.startswith("Acepto recibir mensajes de texto")
        notices = db.session.scalars(select(Notice).where(Notice.user_id == user.id)).all()
        assert {(n.channel, n.language, n.event) for n in notices} == {
            ("email", "es", "application_received"),
            ("sms", "es", "application_received"),
        }


def test_api_apply_refuses_sms_without_consent_or_with_a_bad_language(
    app: Flask, client: FlaskClient
) -> None:
    response = client.post("/api/v1/applications", json=_api_body(app, notify_by=["sms"], sms_consent=False))
    assert response.status_code == 422
    assert "sms_consent" in response.get_json()["errors"]
    bad = client.post("/api/v1/applications", json=_api_body(app, language="fr"))
    assert bad.status_code == 422 and "language" in bad.get_json()["errors"]


def test_apply_page_in_spanish_records_consent_from_the_web(
    app: Flask, client: FlaskClient, form_data: Any
) -> None:
    client.get("/language/es")
    page = client.get("/apply").get_data(as_text=True)
    assert "Cómo nos comunicamos con usted" in page and "Acepto recibir mensajes de texto" in page
    response = client.post("/apply", data=form_data(notify_by="both", sms_consent="y", language="es"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "ana.reyes@example.org"))
        prefs = db.session.get(NoticePreference, user.id)  # type: ignore[union-attr]
        assert user.locale == "es" and prefs.sms_consent_channel == "web" and prefs.by_sms  # type: ignore[union-attr]


def test_the_messages_page_lists_what_was_sent_and_saves_settings(
    app: Flask, client: FlaskClient, auth: Any, people: dict[str, Any]
) -> None:
    from loanapp.notices import operations as ops

    worker_with(people, language="es")
    ops.queue(
        people["worker"], "payment_due", "test:page", {"amount": "210.00", "date": dt.date(2026, 12, 9)}
    )
    db.session.commit()
    auth.login("worker")
    page = client.get("/my/messages").get_data(as_text=True)
    assert "Lo que le enviamos" in page and "Su pago del préstamo de auto vence el" in page
    bad = client.post(
        "/my/messages", data={"notify_by": "sms", "phone": "123", "sms_consent": "y", "language": "es"}
    )
    assert bad.status_code == 422
    assert "Este número de teléfono no existe. Revise los dígitos." in bad.get_data(as_text=True)
    saved = client.post("/my/messages", data={"notify_by": "email", "phone": "", "language": "en"})
    assert saved.status_code == 302
    with app.app_context():
        prefs = db.session.get(NoticePreference, people["worker"].id)
        assert prefs is not None and not prefs.by_sms and prefs.sms_stopped_at is not None
        assert db.session.get(User, people["worker"].id).locale == "en"  # type: ignore[union-attr]


def _signed_post(client: FlaskClient, form: dict[str, str], token: str = TOKEN) -> Any:
    url = "http://localhost/api/v1/sms/inbound"
    return client.post(url, data=form, headers={"X-Twilio-Signature": twilio_signature(token, url, form)})


def test_stop_by_text_ends_sms_at_once_and_a_forged_request_is_refused(
    app: Flask, client: FlaskClient, people: dict[str, Any], live: dict[str, Any]
) -> None:
    from loanapp.notices import operations as ops

    worker = worker_with(people, language="es")
    ops.queue(worker, "payment_due", "test:stop", {"amount": "210.00", "date": dt.date(2026, 12, 9)})
    db.session.commit()
    form = {
        "From": "+13155550142",
        "To": "+13155550100",
        "Body": "STOP",
        "MessageSid": "SM1",
        "AccountSid": "AC1",
    }

    forged = _signed_post(client, form, token="not-the-token")
    assert forged.status_code == 403
    unsigned = client.post("/api/v1/sms/inbound", data=form)
    assert unsigned.status_code == 403
    with app.app_context():
        assert db.session.get(NoticePreference, worker.id).by_sms  # type: ignore[union-attr]

    answer = _signed_post(client, form)
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    assert "ya no recibirá mensajes de texto" in answer.get_data(as_text=True)
    with app.app_context():
        prefs = db.session.get(NoticePreference, worker.id)
        assert prefs is not None and not prefs.by_sms and prefs.sms_stopped_at is not None
        statuses = dict(db.session.execute(select(Notice.channel, Notice.status)).all())
        assert statuses == {"email": "pending", "sms": "cancelled"}
    again = _signed_post(client, {**form, "Body": "START"})
    assert again.status_code == 200
    with app.app_context():
        assert db.session.get(NoticePreference, worker.id).by_sms  # type: ignore[union-attr]


def test_the_language_switch_is_kept_on_the_account(
    app: Flask, client: FlaskClient, auth: Any, users: Any
) -> None:
    auth.login("worker")
    client.get("/language/es")
    auth.logout()
    other = app.test_client()  # another browser, in English
    other.post("/login", data={"email": "worker@example.org", "password": "worker-pass-123"})
    page = other.get("/my/messages", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="es"' in page and "Mensajes" in page
