"""The servicing API and pages: who sees what, refusals, the worker's loan page in plain words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from loanapp.accounts.models import User
from loanapp.extensions import db
from loanapp.jobs import runner
from loanapp.servicing.models import Payment
from tests.app.servicing.conftest import fund, make_loan, pay


@pytest.fixture
def booked(app: Flask, users: dict[str, int], on_date: Any) -> Iterator[Any]:
    """The worker's loan, one payment made, on March 17, 2026 (12 days late for March 5).

    Built in a request context of its own that is gone before the test's requests: requests must not
    share an app context (Flask-Login and Flask-Babel cache per context). The test body runs inside
    a plain app context for its own database reads.
    """
    on_date(dt.date(2026, 3, 17))
    with app.test_request_context():
        people = {role: db.session.get(User, user_id) for role, user_id in users.items()}
        fund(people)
        loan = make_loan(people)
        pay(loan, "205.52", dt.date(2026, 2, 5), people["officer"])
        db.session.commit()
        loan_id = loan.id
    yield SimpleNamespace(id=loan_id)


def payments(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Payment))  # type: ignore[return-value]


def post_payment(
    client: Any, headers: dict[str, str], loan_id: int, key: str | None = "k-1", **body: Any
) -> Any:
    data = {"amount": "205.52", "received_on": "2026-03-16", "method": "ach", "reference": "chk 1001", **body}
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return client.post(f"/api/v1/loans/{loan_id}/payments", json=data, headers=headers)


def test_an_officer_records_a_payment_through_the_api_once_per_key(
    app: Flask, client: Any, token_for: Any, booked: Any
) -> None:
    officer = token_for("officer")
    first = post_payment(client, officer, booked.id)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["amount"] == "205.52" and body["allocation"]["to_interest"] == "66.90"  # 39 days on $8,348.62
    assert body["servicing"]["days_past_due"] == 0 and body["servicing"]["next_due_date"] == "2026-04-05"
    retry = post_payment(client, officer, booked.id)
    assert retry.get_json()["id"] == body["id"] and payments(app) == 2
    conflict = post_payment(client, officer, booked.id, amount="10.00")
    assert conflict.status_code == 409
    missing = post_payment(client, officer, booked.id, key=None)
    assert missing.status_code == 400 and "Idempotency-Key" in missing.get_json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"amount": True}, "amount"),
        ({"received_on": "2099-12-31"}, "received_on"),
        ({"received_on": "yesterday"}, "received_on"),
        ({"method": "bitcoin"}, "method"),
    ],
)
def test_bad_payments_through_the_api_are_422_with_field_errors(
    app: Flask, client: Any, token_for: Any, booked: Any, body: dict[str, Any], field: str
) -> None:
    response = post_payment(client, token_for("officer"), booked.id, key=f"bad-{field}-{body}", **body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert payments(app) == 1


def test_a_paid_off_or_charged_off_loan_refuses_payments_with_409(
    app: Flask, client: Any, token_for: Any, booked: Any
) -> None:
    payoff = client.get(f"/api/v1/loans/{booked.id}/payoff", headers=token_for("officer")).get_json()[
        "payoff_amount"
    ]
    response = post_payment(
        client, token_for("officer"), booked.id, key="payoff", amount=payoff, received_on="2026-03-17"
    )
    assert response.status_code == 201 and response.get_json()["servicing"]["principal_balance"] == "0.00"
    refused = post_payment(client, token_for("officer"), booked.id, key="after")
    assert refused.status_code == 409 and "paid off" in refused.get_json()["message"]
    assert client.get(f"/api/v1/loans/{booked.id}/payoff", headers=token_for("worker")).status_code == 409


def test_the_worker_reads_their_loan_through_the_api(client: Any, token_for: Any, booked: Any) -> None:
    worker = token_for("worker")
    loan = client.get(f"/api/v1/loans/{booked.id}", headers=worker).get_json()
    assert loan["servicing"]["days_past_due"] == 12 and loan["servicing"]["past_due_amount"] == "205.52"
    assert loan["servicing"]["principal_balance"] == "8348.62"
    schedule = client.get(f"/api/v1/loans/{booked.id}/schedule", headers=worker).get_json()
    assert [row["status"] for row in schedule[:3]] == ["paid", "unpaid", "unpaid"] and schedule[1][
        "due"
    ] is True
    history = client.get(f"/api/v1/loans/{booked.id}/payments", headers=worker).get_json()
    assert [p["amount"] for p in history] == ["205.52"]
    payoff = client.get(f"/api/v1/loans/{booked.id}/payoff", headers=worker).get_json()
    assert payoff["payoff_amount"] == "8417.24" and payoff["as_of"] == "2026-03-17"
    later = client.get(f"/api/v1/loans/{booked.id}/payoff?as_of=2026-04-16", headers=worker).get_json()
    assert later["payoff_amount"] > payoff["payoff_amount"]
    too_far = client.get(f"/api/v1/loans/{booked.id}/payoff?as_of=2026-04-17", headers=worker)
    assert too_far.status_code == 422 and "as_of" in too_far.get_json()["errors"]
    assert (
        client.post(
            f"/api/v1/loans/{booked.id}/payments", json={}, headers={**worker, "Idempotency-Key": "x"}
        ).status_code
        == 403
    )


def test_another_worker_guessing_ids_gets_404_on_every_loan_route(
    app: Flask, client: Any, token_for: Any, auth: Any, booked: Any
) -> None:
    other = token_for("worker2")
    with app.app_context():
        payment_id = db.session.scalar(select(Payment.id))
    for path in (
        f"/api/v1/loans/{booked.id}",
        f"/api/v1/loans/{booked.id}/schedule",
        f"/api/v1/loans/{booked.id}/payments",
        f"/api/v1/loans/{booked.id}/payoff",
        f"/api/v1/loans/{booked.id}/payoff?as_of=2026-03-20",
        "/api/v1/loans/999999/schedule",
    ):
        response = client.get(path, headers=other)
        assert response.status_code == 404, path
        assert response.get_json()["message"] == "No such loan."
    auth.login("worker2")
    for path in (
        f"/my/loans/{booked.id}",
        f"/my/loans/{booked.id}?payoff_date=2026-03-20",
        f"/loans/{booked.id}",
    ):
        assert client.get(path).status_code == 404, path
    assert "No such loan" not in client.get("/my/loans").get_data(as_text=True)
    assert f"#{booked.id}" not in client.get("/my/loans").get_data(as_text=True)
    # Writes are officers' only: a worker is refused before any loan is looked up.
    auth.logout()
    assert (
        client.post(
            f"/api/v1/loans/{booked.id}/payments/{payment_id}/reversal",
            json={"reason": "x"},
            headers={**other, "Idempotency-Key": "r"},
        ).status_code
        == 403
    )


def test_the_workers_page_says_how_late_in_plain_words(client: Any, auth: Any, booked: Any) -> None:
    auth.login("worker")
    page = client.get(f"/my/loans/{booked.id}").get_data(as_text=True)
    assert "You are 12 days late." in page and "Pay $205.52 to catch up." in page
    assert "$8,348.62" in page and "$8,417.24" in page  # balance, payoff today
    assert "April 5, 2026" in page  # the next payment after catching up
    quoted = client.get(f"/my/loans/{booked.id}?payoff_date=2026-04-01").get_data(as_text=True)
    assert "To pay it off on April 1, 2026:" in quoted
    bad = client.get(f"/my/loans/{booked.id}?payoff_date=2026-05-30")
    assert bad.status_code == 422 and "Choose a date from today to April 16, 2026." in bad.get_data(
        as_text=True
    )
    listing = client.get("/my/loans").get_data(as_text=True)
    assert "You are 12 days late." in listing and f"/my/loans/{booked.id}" in listing
    client.get("/language/es")
    spanish = client.get(f"/my/loans/{booked.id}").get_data(as_text=True)
    assert '<html lang="es">' in spanish


def test_the_workers_page_after_an_on_time_payment(
    client: Any, auth: Any, booked: Any, people: dict[str, Any]
) -> None:
    pay(booked, "205.52", dt.date(2026, 3, 16), people["officer"])
    db.session.commit()
    auth.login("worker")
    page = client.get(f"/my/loans/{booked.id}").get_data(as_text=True)
    assert "You are up to date." in page and "Your next payment of $205.52 is due on April 5, 2026." in page


def test_an_officer_records_and_reverses_a_late_payment_on_the_loan_page(
    app: Flask, client: Any, auth: Any, booked: Any
) -> None:
    auth.login("officer")
    page = client.get(f"/servicing/loans/{booked.id}")
    assert page.status_code == 200 and "Record a payment" in page.get_data(as_text=True)
    bad = client.post(
        f"/servicing/loans/{booked.id}/payments",
        data={"amount": "12.345", "received_on": "2026-03-16", "method": "check", "idempotency_key": "p0"},
    )
    assert bad.status_code == 422 and "at most two decimals" in bad.get_data(as_text=True)
    future = client.post(
        f"/servicing/loans/{booked.id}/payments",
        data={"amount": "20.00", "received_on": "2027-03-16", "method": "check", "idempotency_key": "p1"},
    )
    assert future.status_code == 422 and "cannot be after" in future.get_data(as_text=True)
    assert payments(app) == 1
    done = client.post(
        f"/servicing/loans/{booked.id}/payments",
        data={
            "amount": "205.52",
            "received_on": "2026-03-16",
            "method": "check",
            "reference": "1002",
            "idempotency_key": "p2",
        },
    )
    assert done.status_code == 302
    again = client.post(
        f"/servicing/loans/{booked.id}/payments",
        data={
            "amount": "205.52",
            "received_on": "2026-03-16",
            "method": "check",
            "reference": "1002",
            "idempotency_key": "p2",
        },
        follow_redirects=True,
    )
    assert "already recorded" in again.get_data(as_text=True) and payments(app) == 2
    with app.app_context():
        payment_id = db.session.scalar(select(Payment.id).where(Payment.reference == "1002"))
    empty = client.post(
        f"/servicing/loans/{booked.id}/payments/{payment_id}/reversal",
        data={"reason": "", "idempotency_key": "r0"},
    )
    assert empty.status_code == 422
    asked = client.post(
        f"/servicing/loans/{booked.id}/payments/{payment_id}/reversal",
        data={"reason": "NSF", "returned_on": "2026-03-17", "idempotency_key": "r1"},
    )
    assert asked.status_code == 200 and "Reverse this payment?" in asked.get_data(as_text=True)
    reversed_ = client.post(
        f"/servicing/loans/{booked.id}/payments/{payment_id}/reversal",
        data={"reason": "NSF", "returned_on": "2026-03-17", "idempotency_key": "r1", "confirmed": "yes"},
        follow_redirects=True,
    )
    assert "reversed" in reversed_.get_data(as_text=True) and "returned 2026-03-17" in reversed_.get_data(
        as_text=True
    )
    assert (
        client.post(
            f"/servicing/loans/{booked.id}/payments/999999/reversal",
            data={"reason": "x", "idempotency_key": "r2"},
        ).status_code
        == 404
    )
    not_yet = client.post(
        f"/servicing/loans/{booked.id}/charge-off",
        data={"collateral_status": "none", "collateral_proceeds": "0.00", "idempotency_key": "c"},
    )
    assert not_yet.status_code == 409 and "charge-off policy starts at 120 days" in not_yet.get_data(
        as_text=True
    )


def test_staff_pages_render(app: Flask, client: Any, auth: Any, booked: Any) -> None:
    with app.app_context():
        runner.run_job("aging", dt.date(2026, 3, 17))
        runner.run_job("delinquency_snapshot", dt.date(2026, 3, 1))
    auth.login("staff")
    loans = client.get("/servicing/loans?bucket=1-29").get_data(as_text=True)
    assert f"#{booked.id}" in loans
    assert client.get(f"/servicing/loans?q={booked.id}").status_code == 200
    assert client.get("/servicing/loans?q=Reyes&status=active").status_code == 200
    page = client.get(f"/servicing/loans/{booked.id}").get_data(as_text=True)
    assert "Record a payment" not in page and "Bucket history" in page
    report = client.get("/servicing/delinquency").get_data(as_text=True)
    assert "Delinquency as of 2026-03-17" in report and "<svg" in report and "Cryomech" in report
    csv_text = client.get("/servicing/delinquency.csv?as_of=2026-03-17").get_data(as_text=True)
    assert csv_text.startswith("as_of,section,group") and "program_bucket,1-29,1," in csv_text
    assert client.get("/servicing/delinquency?as_of=nope").status_code == 400
    jobs = client.get("/jobs").get_data(as_text=True)
    assert "aging" in jobs and "succeeded" in jobs
    assert client.get("/jobs?job=aging").status_code == 200
    assert client.get("/api/v1/delinquency?as_of=2026-03-17").get_json()["loans"] == 1
