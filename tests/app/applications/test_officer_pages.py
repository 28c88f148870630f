"""The officer's queue and review page: filters, verification, decision, conflicts, booking."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from tests.app.applications.conftest import accept, approve, fund_reserve, submit, verify


@pytest.fixture
def made(app: Flask, users: dict[str, int]) -> Any:
    """``made(step)``: an application of the test worker carried to ``step`` through the operations."""
    from loanapp.accounts.models import User
    from loanapp.extensions import db

    def make(step: str = "submitted", worker: str = "worker", **overrides: Any) -> int:
        with app.test_request_context():
            applicant = db.session.get(User, users[worker])
            officer = db.session.get(User, users["officer"])
            application = submit(applicant, **overrides)
            if step in ("verified", "approved", "accepted"):
                verify(application, officer)
            if step in ("approved", "accepted"):
                approve(application, officer)
            if step == "accepted":
                accept(application, applicant)
            db.session.commit()
            return application.id

    return make


def _version(app: Flask, application_id: int) -> int:
    from loanapp.applications.models import Application
    from loanapp.extensions import db

    with app.app_context():
        return db.session.get(Application, application_id).version  # type: ignore[union-attr]


def test_queue_lists_filters_and_counts_by_status(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    first = made("submitted")
    made(
        "approved",
        worker="worker2",
        employment_status="employed",
        pay_frequency="weekly",
        start_date=date(2024, 1, 8),
        offer_date=None,
    )
    auth.login("officer")
    page = client.get("/applications").get_data(as_text=True)
    assert "Reyes, Ana" in page and f"/applications/{first}" in page
    assert "1 application" in page  # it opens on work to do: the approved one waits for the worker
    assert "2 applications" in client.get("/applications?status=all").get_data(as_text=True)
    only_submitted = client.get("/applications?status=submitted").get_data(as_text=True)
    assert "1 application" in only_submitted
    employed = client.get("/applications?status=all&employment_status=employed&sort=newest").get_data(
        as_text=True
    )
    assert "1 application" in employed and "Employed" in employed
    assert "0 applications" in client.get("/applications?status=all&min_age_days=7").get_data(as_text=True)


def test_queue_pages_through_applications(app: Flask, client, auth, made, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "APPLICATION_QUEUE_PAGE_SIZE", 1)
    made("submitted")
    made("submitted", worker="worker2")
    auth.login("officer")
    text = client.get("/applications").get_data(as_text=True)
    assert "page 1 of 2" in text and 'rel="next"' in text
    assert 'rel="prev"' in client.get("/applications?page=2").get_data(as_text=True)


def test_review_page_shows_facts_underwriting_and_forms(client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("submitted")
    auth.login("officer")
    text = client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "•••-••-4821" in text
    assert "Payment-to-income" in text and "Record verification" in text and "Record decision" in text
    assert "Employment is not verified." in text  # a flag, not a decline


def test_officer_verifies_then_approves_through_the_pages(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    from loanapp.clock import business_date

    application_id = made("submitted")
    auth.login("officer")
    with app.app_context():
        from tests.app.applications.conftest import employer_id

        employer = employer_id()
        today = business_date().isoformat()
    response = client.post(
        f"/applications/{application_id}/verifications",
        data={
            "version": _version(app, application_id),
            "method": "offer_letter",
            "outcome": "verified",
            "verified_on": today,
            "employer_id": employer,
            "hourly_wage": "14.00",
            "hours_per_week": "40",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(
        f"/applications/{application_id}/decision",
        data={
            "version": _version(app, application_id),
            "kind": "approve",
            "amount": "8500.00",
            "annual_rate": "7.25",
            "term_months": "48",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    text = client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "Decision: Approve" in text and "Monthly income (verified)" in text


def test_two_officers_deciding_at_once_the_second_gets_a_conflict(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("verified")
    auth.login("officer")
    seen = _version(app, application_id)  # both officers opened the page at this version
    approve_form = {
        "version": seen,
        "kind": "approve",
        "amount": "8500.00",
        "annual_rate": "7.25",
        "term_months": "48",
    }
    decline_form = {"version": seen, "kind": "decline", "reasons": ["insufficient_income"]}
    first = client.post(f"/applications/{application_id}/decision", data=approve_form)
    second = client.post(f"/applications/{application_id}/decision", data=decline_form)
    assert first.status_code == 302
    assert second.status_code == 409
    assert "Someone else changed this application" in second.get_data(as_text=True)
    text = client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "Decision: Approve" in text


def test_a_second_decision_is_refused_even_with_the_current_version(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("approved")
    auth.login("officer")
    response = client.post(
        f"/applications/{application_id}/decision",
        data={
            "version": _version(app, application_id),
            "kind": "decline",
            "reasons": ["insufficient_income"],
        },
    )
    assert response.status_code == 409
    assert "already decided" in response.get_data(as_text=True)


def test_decision_form_errors_are_shown_on_their_fields(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("submitted")
    auth.login("officer")
    response = client.post(
        f"/applications/{application_id}/decision",
        data={
            "version": _version(app, application_id),
            "kind": "approve",
            "amount": "8500.123",
            "annual_rate": "99",
            "term_months": "48",
        },
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at most two decimals" in text


def test_decline_without_reasons_is_refused(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("submitted")
    auth.login("officer")
    response = client.post(
        f"/applications/{application_id}/decision",
        data={"version": _version(app, application_id), "kind": "decline"},
    )
    assert response.status_code == 422
    assert "principal reason" in response.get_data(as_text=True)


def test_request_documents_then_the_worker_sees_what_is_missing(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("submitted")
    auth.login("officer")
    response = client.post(
        f"/applications/{application_id}/request-documents",
        data={
            "version": _version(app, application_id),
            "kinds": ["pay_stub"],
            "note": "Your latest stub, please",
        },
    )
    assert response.status_code == 302
    auth.logout()
    auth.login("worker")
    text = client.get(f"/my-application/{application_id}").get_data(as_text=True)
    assert "Needs documents" in text and "What is missing" in text and "Your latest stub, please" in text


def test_officer_adds_an_unknown_employer(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("submitted", employer_id=None, employer_other="Onondaga Gear Works")
    auth.login("officer")
    assert "not in the list" in client.get(f"/applications/{application_id}").get_data(as_text=True)
    response = client.post(
        f"/applications/{application_id}/employer",
        data={"version": _version(app, application_id), "name": "Onondaga Gear Works", "city": "Syracuse"},
    )
    assert response.status_code == 302
    assert "not in the list" not in client.get(f"/applications/{application_id}").get_data(as_text=True)


def test_officer_books_the_accepted_offer_and_the_worker_sees_the_loan(
    app: Flask, client, auth, made, users
) -> None:  # type: ignore[no-untyped-def]
    from loanapp.clock import business_date
    from loanapp.extensions import db

    application_id = made("accepted")
    with app.app_context():
        fund_reserve(users["staff"])
        db.session.commit()
        today = business_date()
    auth.login("officer")
    review = client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "Book loan" in review
    response = client.post(
        f"/applications/{application_id}/booking",
        data={
            "version": _version(app, application_id),
            "contract_date": today.isoformat(),
            "first_payment_date": (today + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302 and "/loans/" in response.headers["Location"]
    loan_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "the reserve stands behind $1,275.00 of it" in loan_page
    assert f"/servicing/loans/{response.headers['Location'].rsplit('/', 1)[1]}" in loan_page
    again = client.post(
        f"/applications/{application_id}/booking",
        data={
            "version": _version(app, application_id),
            "contract_date": today.isoformat(),
            "first_payment_date": (today + timedelta(days=30)).isoformat(),
        },
    )
    assert again.status_code == 409 and "booked once" in again.get_data(as_text=True)
    auth.logout()
    auth.login("worker")
    status = client.get(f"/my-application/{application_id}").get_data(as_text=True)
    assert "See your loan" in status
    loan_url = response.headers["Location"]
    # One loan page for the borrower: the disclosure and the live balance together.
    worker_view = client.get(loan_url, follow_redirects=True).get_data(as_text=True)
    assert "Your car loan" in worker_view and "Truth-in-Lending disclosure" in worker_view
    assert "Where you stand today" in worker_view
    assert "reserve commitment" not in worker_view


def test_booking_with_a_short_reserve_is_refused_with_a_clear_message(
    app: Flask, client, auth, made, users
) -> None:  # type: ignore[no-untyped-def]
    from loanapp.clock import business_date

    application_id = made("accepted")
    auth.login("officer")
    with app.app_context():
        today = business_date()
    response = client.post(
        f"/applications/{application_id}/booking",
        data={
            "version": _version(app, application_id),
            "contract_date": today.isoformat(),
            "first_payment_date": (today + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 409
    assert "reserve does not have enough" in response.get_data(as_text=True)


def test_worker_accepts_the_offer_and_sees_the_schedule(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("approved")
    auth.login("worker")
    text = client.get(f"/my-application/{application_id}").get_data(as_text=True)
    assert "Your loan offer" in text and "Annual percentage rate" in text and "Accept this offer" in text
    response = client.post(
        f"/my-application/{application_id}/offer",
        data={"version": _version(app, application_id), "answer": "accept"},
    )
    assert response.status_code == 302
    text = client.get(f"/my-application/{application_id}").get_data(as_text=True)
    assert "Offer accepted" in text and "See every payment" in text and "Accept this offer" not in text


def test_worker_with_a_stale_page_gets_a_conflict(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("approved")
    auth.login("worker")
    stale = _version(app, application_id) - 1
    response = client.post(
        f"/my-application/{application_id}/offer", data={"version": stale, "answer": "accept"}
    )
    assert response.status_code == 409


def test_worker_withdraws_an_open_application(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("submitted")
    auth.login("worker")
    response = client.post(
        f"/my-application/{application_id}/withdraw", data={"version": _version(app, application_id)}
    )
    assert response.status_code == 302
    assert "You withdrew this application." in client.get(f"/my-application/{application_id}").get_data(
        as_text=True
    )


def test_worker_acting_on_a_moved_application_gets_a_plain_message(app: Flask, client, auth, made) -> None:  # type: ignore[no-untyped-def]
    application_id = made("submitted")
    auth.login("worker")
    response = client.post(
        f"/my-application/{application_id}/offer",
        data={"version": _version(app, application_id), "answer": "accept"},
    )
    assert response.status_code == 409
    assert "Your application has moved on" in response.get_data(as_text=True)
