"""The applications API: same rules as the pages, JSON errors per field, 404 for other people's ids."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from flask import Flask

from risk.dates import add_months
from tests.app.applications.conftest import answers, fund_reserve


@pytest.fixture
def body(app: Flask) -> Any:
    """``body(**overrides)``: a valid JSON application (money as strings, dates as ISO text)."""

    def make(**overrides: Any) -> dict[str, Any]:
        with app.app_context():
            values = answers()
        values = {
            k: (v.isoformat() if isinstance(v, date) else str(v) if hasattr(v, "quantize") else v)
            for k, v in values.items()
        }
        values.update(email="api.worker@example.org", password="a-long-password")
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not ...}

    return make


def _create(client, body, **overrides) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/applications", json=body(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_apply_through_the_api_creates_the_account(client, body) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/applications", json=body())
    created = response.get_json()
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/applications/{created['id']}")
    assert created["status"] == "submitted" and created["version"] == 1
    assert created["requested_amount"] == "8500.00" and created["email"] == "api.worker@example.org"
    assert "verifications" not in created and "password" not in created


def test_api_validation_errors_name_each_field(client, body) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/applications",
        json=body(
            requested_amount="8500.005", ssn_last4=None, term_months="48", consent=..., ssn="123456789"
        ),
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "two decimals" in errors["requested_amount"][0]
    assert set(errors) >= {"requested_amount", "ssn_last4", "term_months", "consent", "ssn"}


def test_api_business_rules_answer_422_with_field_messages(client, body) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/applications", json=body(down_payment="9500.00", postal_code="1"))
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"down_payment", "postal_code"}


def test_json_numbers_for_money_are_read_exactly(client, body) -> None:  # type: ignore[no-untyped-def]
    data = json.dumps(body()).replace('"8500.00"', "8500.10")
    response = client.post("/api/v1/applications", data=data, content_type="application/json")
    assert response.status_code == 201
    assert response.get_json()["requested_amount"] == "8500.10"


def test_api_double_submit_returns_the_first_application(client, body) -> None:  # type: ignore[no-untyped-def]
    first = client.post("/api/v1/applications", json=body(submission_key="retry-key-0001"))
    again = client.post("/api/v1/applications", json=body(submission_key="retry-key-0001"))
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    stranger = client.post(
        "/api/v1/applications", json=body(submission_key="retry-key-0001", email="someone@example.org")
    )
    assert stranger.status_code == 409


def test_worker_token_applies_for_that_worker(client, body, token_for) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/applications", json=body(email=..., password=...), headers=token_for("worker")
    )
    assert response.status_code == 201
    assert response.get_json()["email"] == "worker@example.org"
    officer = client.post(
        "/api/v1/applications", json=body(email=..., password=...), headers=token_for("officer")
    )
    assert officer.status_code == 403


def test_full_journey_through_the_api(app: Flask, client, body, token_for, users) -> None:  # type: ignore[no-untyped-def]
    from loanapp.clock import business_date
    from loanapp.extensions import db
    from tests.app.applications.conftest import employer_id

    worker, officer = token_for("worker"), token_for("officer")
    created = client.post(
        "/api/v1/applications", json=body(email=..., password=...), headers=worker
    ).get_json()
    url = f"/api/v1/applications/{created['id']}"
    with app.app_context():
        today = business_date()
        employer = employer_id()
        fund_reserve(users["staff"])
        db.session.commit()

    verification = client.post(
        f"{url}/verifications",
        json={
            "version": created["version"],
            "method": "employer_call",
            "outcome": "verified",
            "verified_on": today.isoformat(),
            "employer_id": employer,
            "hourly_wage": "13.50",
            "hours_per_week": "40",
        },
        headers=officer,
    )
    assert verification.status_code == 201, verification.get_json()
    assert verification.get_json()["outcome"] == "verified"
    as_officer = client.get(url, headers=officer).get_json()
    assert as_officer["verifications"][0]["hourly_wage"] == "13.50"

    decided = client.post(
        f"{url}/decision",
        json={
            "version": as_officer["version"],
            "decision": "counter_offer",
            "amount": "7500.00",
            "annual_rate": "8.25",
            "term_months": 48,
        },
        headers=officer,
    )
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["decision"]["payment_to_income"] is not None

    mine = client.get(url, headers=worker).get_json()
    assert mine["status"] == "counter_offered"
    assert mine["offer"]["schedule"][0]["payment"] == mine["decision"]["payment"]
    assert "payment_to_income" not in mine["decision"] and "verifications" not in mine

    accepted = client.post(
        f"{url}/acceptance", json={"version": mine["version"], "accept": True}, headers=worker
    )
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "offer_accepted"

    booked = client.post(f"{url}/booking", json={"version": accepted.get_json()["version"]}, headers=officer)
    assert booked.status_code == 201, booked.get_json()
    loan = booked.get_json()
    assert loan["principal"] == "7500.00" and loan["status"] == "active" and len(loan["schedule"]) == 48
    assert loan["contract_date"] == today.isoformat()
    assert loan["first_payment_date"] == add_months(today, 1).isoformat()
    assert loan["reserve_commitment"] == "1125.00"

    twice = client.post(
        f"{url}/booking", json={"version": accepted.get_json()["version"] + 1}, headers=officer
    )
    assert twice.status_code == 409

    for headers, status in (
        (worker, 200),
        (officer, 200),
        (token_for("staff"), 200),
        (token_for("worker2"), 404),
    ):
        response = client.get(f"/api/v1/loans/{loan['id']}", headers=headers)
        assert response.status_code == status
    assert "reserve_commitment" not in client.get(f"/api/v1/loans/{loan['id']}", headers=worker).get_json()
    assert client.get(url, headers=worker).get_json()["loan_id"] == loan["id"]


def test_stale_version_through_the_api_is_a_conflict(client, body, token_for) -> None:  # type: ignore[no-untyped-def]
    officer = token_for("officer")
    created = _create(client, body)
    url = f"/api/v1/applications/{created['id']}/decision"
    decline = {"decision": "decline", "reasons": ["insufficient_income"]}
    first = client.post(url, json={**decline, "version": created["version"]}, headers=officer)
    second = client.post(url, json={**decline, "version": created["version"]}, headers=officer)
    assert first.status_code == 200
    assert second.status_code == 409
    assert "Someone else changed" in second.get_json()["message"]


def test_decision_errors_are_field_level(client, body, token_for) -> None:  # type: ignore[no-untyped-def]
    created = _create(client, body)
    response = client.post(
        f"/api/v1/applications/{created['id']}/decision",
        json={"version": created["version"], "decision": "decline", "reasons": ["not-a-reason"]},
        headers=token_for("officer"),
    )
    assert response.status_code == 422
    assert "reasons" in response.get_json()["errors"]
    missing = client.post(
        f"/api/v1/applications/{created['id']}/decision",
        json={"decision": "approve"},
        headers=token_for("officer"),
    )
    assert missing.status_code == 422 and "version" in missing.get_json()["errors"]


def test_officer_lists_applications_by_status(client, body, token_for) -> None:  # type: ignore[no-untyped-def]
    _create(client, body)
    listed = client.get("/api/v1/applications?status=submitted", headers=token_for("officer")).get_json()
    assert listed["total"] == 1 and listed["counts"]["submitted"] == 1
    assert listed["items"][0]["requested_amount"] == "8500.00"
    assert client.get("/api/v1/applications?status=nonsense", headers=token_for("officer")).status_code == 422
    assert client.get("/api/v1/applications", headers=token_for("worker")).status_code == 403
    assert client.get("/api/v1/applications", headers=token_for("staff")).status_code == 403


def test_openapi_describes_the_applications_api(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/applications",
        "/api/v1/applications/{application_id}",
        "/api/v1/applications/{application_id}/verifications",
        "/api/v1/applications/{application_id}/decision",
        "/api/v1/applications/{application_id}/acceptance",
        "/api/v1/applications/{application_id}/booking",
        "/api/v1/loans/{loan_id}",
    ):
        assert path in paths, path
