"""A charged-off loan's claim through the API: filed by an officer, decided by staff (maker-checker)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from loanapp.extensions import db
from tests.app.applications.conftest import accept, approve, fund_reserve, submit, verify


@pytest.fixture
def booked_loan_id(app: Flask, users: dict[str, int]) -> int:
    from loanapp.accounts.models import User
    from loanapp.clock import business_date
    from loanapp.loans.operations import book_loan, default_booking_dates
    from loanapp.programs.reference import seed_reference_lists

    with app.test_request_context():
        seed_reference_lists()
        people: dict[str, Any] = {role: db.session.get(User, uid) for role, uid in users.items()}
        application = submit(people["worker"])
        verify(application, people["officer"])
        approve(application, people["officer"])
        accept(application, people["worker"])
        fund_reserve(people["staff"].id, "20000.00")
        loan = book_loan(
            application,
            version=application.version,
            data=default_booking_dates(business_date()),
            actor=people["officer"],
        )
        db.session.commit()
        return int(loan.id)


def _claim(client, headers, loan_id: int, key: str = "claim-1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/reserve/claims",
        json={
            "loan_id": loan_id,
            "charged_off_on": "2026-11-01",
            "balance_at_charge_off": "7000.00",
            "allowed_costs": "250.00",
            "collateral_proceeds": "2500.00",
        },
        headers={**headers, "Idempotency-Key": key},
    )


def test_officer_files_and_staff_approves_a_claim_paid_commitment_first(
    client, token_for, booked_loan_id
) -> None:  # type: ignore[no-untyped-def]
    officer, staff = token_for("officer"), token_for("staff")
    before = client.get("/api/v1/reserve", headers=staff).get_json()
    filed = _claim(client, officer, booked_loan_id)
    assert filed.status_code == 201, filed.get_json()
    claim = filed.get_json()
    assert claim["loss"] == "4750.00" and claim["status"] == "pending"
    decided = client.post(
        f"/api/v1/reserve/claims/{claim['id']}/approval",
        json={"decision": "approve"},
        headers={**staff, "Idempotency-Key": "approve-1"},
    )
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["status"] == "paid" and decided.get_json()["paid"] == "4750.00"
    after = client.get("/api/v1/reserve", headers=staff).get_json()
    # The loss leaves the reserve; the loan's commitment paid first and nothing of it stays committed.
    assert Decimal(before["balance"]) - Decimal(after["balance"]) == Decimal("4750.00")
    assert Decimal(after["committed"]) == Decimal(before["committed"]) - Decimal(before["committed"])
    recovered = client.post(
        "/api/v1/reserve/recoveries",
        json={"claim_id": claim["id"], "amount": "800.00", "received_on": "2026-11-20"},
        headers={**officer, "Idempotency-Key": "rec-1"},
    )
    assert recovered.status_code == 201
    too_much = client.post(
        "/api/v1/reserve/recoveries",
        json={"claim_id": claim["id"], "amount": "5000.00", "received_on": "2026-11-21"},
        headers={**officer, "Idempotency-Key": "rec-2"},
    )
    assert too_much.status_code == 409


def test_the_filer_cannot_approve_their_own_claim(
    app: Flask, client, token_for, booked_loan_id, runner
) -> None:  # type: ignore[no-untyped-def]
    from loanapp.accounts.models import User

    officer = token_for("officer")
    claim = _claim(client, officer, booked_loan_id).get_json()
    with app.app_context():
        db.session.get(
            User, db.session.query(User.id).filter_by(email="officer@example.org").scalar()
        ).role = "staff"
        db.session.commit()
    response = client.post(
        f"/api/v1/reserve/claims/{claim['id']}/approval",
        json={"decision": "approve"},
        headers={**officer, "Idempotency-Key": "self-approve"},
    )
    assert response.status_code == 403
    assert (
        client.get(f"/api/v1/reserve/claims/{claim['id']}", headers=token_for("staff")).get_json()["status"]
        == "pending"
    )


def test_claim_inputs_are_checked(client, token_for, booked_loan_id) -> None:  # type: ignore[no-untyped-def]
    officer = token_for("officer")
    no_loan = client.post(
        "/api/v1/reserve/claims",
        json={"loan_id": 999999, "charged_off_on": "2026-11-01", "balance_at_charge_off": "7000.00"},
        headers={**officer, "Idempotency-Key": "x"},
    )
    assert no_loan.status_code == 422 and "loan_id" in no_loan.get_json()["errors"]
    bad = client.post(
        "/api/v1/reserve/claims",
        json={"loan_id": booked_loan_id, "charged_off_on": "2026-11-01", "balance_at_charge_off": "-1"},
        headers={**officer, "Idempotency-Key": "y"},
    )
    assert bad.status_code == 422 and "balance_at_charge_off" in bad.get_json()["errors"]
    assert _claim(client, officer, booked_loan_id, "a").status_code == 201
    assert _claim(client, officer, booked_loan_id, "b").status_code == 409  # one open claim per loan
    reject = client.post(
        "/api/v1/reserve/claims/1/approval",
        json={"decision": "reject"},
        headers={**token_for("staff"), "Idempotency-Key": "r"},
    )
    assert reject.status_code == 422 and "note" in reject.get_json()["errors"]


def test_reserve_pages_show_the_loan_and_claim(client, auth, booked_loan_id) -> None:  # type: ignore[no-untyped-def]
    auth.login("officer")
    page = client.get(f"/reserve/loans/{booked_loan_id}")
    assert page.status_code == 200 and "Commitment today" in page.get_data(as_text=True)
    assert client.get("/reserve/loans/999999").status_code == 404
    assert client.get("/reserve/claims/999999").status_code == 404
