"""The worker's application form: validation messages, drafts, double submit, the account."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from loanapp.applications.models import Application, ApplicationDocument
from tests.app.applications.conftest import PDF, PNG


def _count(app: Flask, model: Any = Application) -> int:
    from loanapp.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))  # type: ignore[no-any-return]


def test_apply_page_is_public_mobile_friendly_and_asks_only_for_the_last_four_ssn_digits(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/apply")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="viewport"' in text
    assert 'name="ssn_last4"' in text and 'maxlength="4"' in text
    assert "Social Security number" in text and 'name="ssn"' not in text
    assert 'name="submission_key"' in text
    assert not re.search(r"<script(?![^>]*\bsrc=)", text) and " style=" not in text


def test_a_complete_application_creates_the_account_signs_in_and_shows_the_status(
    app: Flask, client, form_data
) -> None:  # type: ignore[no-untyped-def]
    data = form_data(document=(io.BytesIO(PDF), "offer-letter.pdf"))
    response = client.post("/apply", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "/my-application/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your application" in page and "Submitted" in page and "offer-letter.pdf" in page
    assert _count(app) == 1 and _count(app, ApplicationDocument) == 1


def test_every_bad_field_gets_its_own_message_and_nothing_is_saved(app: Flask, client, form_data) -> None:  # type: ignore[no-untyped-def]
    data = form_data(
        first_name="",
        ssn_last4="123-45-6789",
        date_of_birth="not a date",
        hourly_wage="13.505",
        requested_amount="$12,000.00",
        vehicle_price="9000",
        postal_code="1320",
        consent=None,
        password="short",
    )
    response = client.post("/apply", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in (
        "This is required.",
        "Enter only the last 4 digits",
        "Enter a date, like",
        "at most two decimals",
        "You cannot borrow more than the price of the vehicle.",
        "Enter a 5-digit ZIP code.",
        "We need your permission",
        "at least 10 characters",
    ):
        assert message in text, message
    assert 'aria-invalid="true"' in text
    assert _count(app) == 0
    # The answers the worker typed stay in the form (but never the password).
    assert 'value="Honda"' in text and "a-long-password" not in text


def test_double_submit_creates_one_application(app: Flask, client, form_data) -> None:  # type: ignore[no-untyped-def]
    data = form_data()
    first = client.post("/apply", data=data)
    client.post("/logout")
    second = client.post("/apply", data=data)
    assert first.status_code == 302 and second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert _count(app) == 1


def test_a_replayed_form_with_someone_elses_password_shows_nothing(app: Flask, client, form_data) -> None:  # type: ignore[no-untyped-def]
    data = form_data()
    client.post("/apply", data=data)
    client.post("/logout")
    response = client.post("/apply", data={**data, "password": "another-password"})
    assert response.status_code == 409
    assert "already sent" in response.get_data(as_text=True)
    assert _count(app) == 1


def test_an_email_with_an_account_is_asked_to_sign_in_first(app: Flask, client, users, form_data) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/apply", data=form_data(email="worker@example.org"))
    assert response.status_code == 422
    assert "Sign in first" in response.get_data(as_text=True)


def test_save_and_finish_later_keeps_answers_on_the_server(app: Flask, client, form_data) -> None:  # type: ignore[no-untyped-def]
    from loanapp.applications.models import ApplicationDraft

    response = client.post(
        "/apply",
        data={"action": "save", "first_name": "Ana", "vehicle_make": "Honda", "password": "a-long-password"},
    )
    assert response.status_code == 302
    with client.session_transaction() as session:
        token = session["application_draft"]
    assert len(token) > 30  # only a random token travels in the (signed) cookie
    page = client.get("/apply").get_data(as_text=True)
    assert 'value="Ana"' in page and 'value="Honda"' in page and "a-long-password" not in page
    assert "We filled in the answers you saved" in page
    assert _count(app, ApplicationDraft) == 1
    # Submitting the finished form discards the draft.
    assert client.post("/apply", data=form_data()).status_code == 302
    assert _count(app, ApplicationDraft) == 0


def test_signed_in_worker_applies_without_account_fields(app: Flask, client, auth, form_data) -> None:  # type: ignore[no-untyped-def]
    auth.login("worker")
    page = client.get("/apply").get_data(as_text=True)
    assert 'name="password"' not in page
    response = client.post("/apply", data=form_data(email=None, password=None))
    assert response.status_code == 302
    # A second application while the first is open goes to the first one.
    again = client.get("/apply")
    assert again.status_code == 302 and again.headers["Location"] == response.headers["Location"]


def test_officers_cannot_use_the_application_form(client, auth) -> None:  # type: ignore[no-untyped-def]
    auth.login("officer")
    assert client.get("/apply").status_code == 403


def test_upload_with_a_lying_extension_refuses_the_whole_submission(app: Flask, client, form_data) -> None:  # type: ignore[no-untyped-def]
    data = form_data(document=(io.BytesIO(PNG), "offer-letter.pdf"))
    response = client.post("/apply", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "contents do not match" in response.get_data(as_text=True)
    assert _count(app) == 0 and _count(app, ApplicationDocument) == 0


def test_my_application_without_one_offers_to_apply(client, auth) -> None:  # type: ignore[no-untyped-def]
    auth.login("worker")
    text = client.get("/my-application").get_data(as_text=True)
    assert "You have not applied yet" in text


def test_the_form_reads_in_spanish(client) -> None:  # type: ignore[no-untyped-def]
    client.get("/language/es")
    text = client.get("/apply").get_data(as_text=True)
    assert "Solicite un préstamo de auto" in text
