"""A charged-off loan's claim through the API: filed by an officer, decided by staff (maker-checker)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from loanapp.extensions import db
from tests.app.applications.conftest import accept, approve, fund_reserve, submit, verify

BOOKED = dt.date(2026, 1, 5)
CHARGED_OFF = dt.date(2026, 6, 5)  # first installment (Feb 5) unpaid: 120 days past due


def _book(app: Flask, users: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> tuple[int, Any]:
    from loanapp.accounts.models import User
    from loanapp.loans.operations import BookingInput, book_loan
    from loanapp.programs.reference import seed_reference_lists

    monkeypatch.setitem(app.config, "BUSINESS_DATE", BOOKED)
    with app.test_request_context():
        seed_reference_lists()
        people: dict[str, Any] = {role: db.session.get(User, uid) for role, uid in users.items()}
        application = submit(
            people["worker"],
            offer_date=BOOKED - dt.timedelta(days=3),
            start_date=BOOKED + dt.timedelta(days=14),
        )
        verify(application, people["officer"], start_date=BOOKED + dt.timedelta(days=14))
        approve(application, people["officer"])
        accept(application, people["worker"])
        fund_reserve(people["staff"].id, "20000.00")
        loan = book_loan(
            application,
            version=application.version,
            data=BookingInput(BOOKED, dt.date(2026, 2, 5)),
            actor=people["officer"],
        )
        db.session.commit()
        return int(loan.id), people


@pytest.fixture
def booked_loan_id(app: Flask, users: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> int:
    """An active, current loan: no claim may be filed on it."""
    return _book(app, users, monkeypatch)[0]


@pytest.fixture
def charged_off_loan_id(app: Flask, users: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> int:
    """A loan charged off at 120 days, the claim its charge-off filed rejected by staff (so a corrected
    claim may be filed through the API)."""
    import reserve
    from loanapp.servicing.operations import ChargeOffInput, charge_off

    loan_id, _ = _book(app, users, monkeypatch)
    monkeypatch.setitem(app.config, "BUSINESS_DATE", CHARGED_OFF)
    with app.test_request_context():
        from loanapp.accounts.models import User

        officer, staff = db.session.get(User, users["officer"]), db.session.get(User, users["staff"])
        entry = charge_off(loan_id, ChargeOffInput("repossessed_sold", Decimal("0.00")), actor=officer)
        reserve.reject_claim(
            db.session,
            key="reject-first",
            actor_id=staff.id,
            claim_id=entry.claim_id,
            decided_on=CHARGED_OFF,
            reason="auction receipt missing",
        )
        db.session.commit()
    return loan_id


def _claim(client, headers, loan_id: int, key: str = "claim-1", **extra: Any):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/reserve/claims",
        json={
            "loan_id": loan_id,
            "allowed_costs": [
                {"kind": "repossession", "amount": "200.00", "description": "Agent's bill"},
                {"kind": "storage", "amount": "50.00"},
            ],
            "collateral_proceeds": "2500.00",
            **extra,
        },
        headers={**headers, "Idempotency-Key": key},
    )


def test_officer_files_and_staff_approves_a_claim_paid_commitment_first(
    client, token_for, charged_off_loan_id
) -> None:  # type: ignore[no-untyped-def]
    officer, staff = token_for("officer"), token_for("staff")
    before = client.get("/api/v1/reserve", headers=staff).get_json()
    filed = _claim(client, officer, charged_off_loan_id)
    assert filed.status_code == 201, filed.get_json()
    claim = filed.get_json()
    # The balance is the charge-off's own (principal + interest to the charge-off date), not the request's.
    balance = Decimal(claim["balance_at_charge_off"])
    loss = balance + Decimal("250.00") - Decimal("2500.00")
    assert claim["loss"] == f"{loss:.2f}" and claim["status"] == "pending"
    assert [i["kind"] for i in claim["cost_items"]] == ["repossession", "storage"]
    decided = client.post(
        f"/api/v1/reserve/claims/{claim['id']}/approval",
        json={"decision": "approve"},
        headers={**staff, "Idempotency-Key": "approve-1"},
    )
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["status"] == "paid" and decided.get_json()["paid"] == f"{loss:.2f}"
    after = client.get("/api/v1/reserve", headers=staff).get_json()
    # The loss leaves the reserve; the loan's commitment paid first and nothing of it stays committed.
    assert Decimal(before["balance"]) - Decimal(after["balance"]) == loss
    assert Decimal(after["committed"]) == Decimal(before["committed"]) - Decimal(before["committed"])
    recovered = client.post(
        "/api/v1/reserve/recoveries",
        json={"claim_id": claim["id"], "amount": "800.00", "received_on": "2026-06-05"},
        headers={**officer, "Idempotency-Key": "rec-1"},
    )
    assert recovered.status_code == 201
    too_much = client.post(
        "/api/v1/reserve/recoveries",
        json={"claim_id": claim["id"], "amount": "50000.00", "received_on": "2026-06-05"},
        headers={**officer, "Idempotency-Key": "rec-2"},
    )
    assert too_much.status_code == 409


def test_the_filer_cannot_approve_their_own_claim(
    app: Flask, client, token_for, charged_off_loan_id, runner
) -> None:  # type: ignore[no-untyped-def]
    from loanapp.accounts.models import User

    officer = token_for("officer")
    claim = _claim(client, officer, charged_off_loan_id).get_json()
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


def test_claim_inputs_are_checked(client, token_for, charged_off_loan_id) -> None:  # type: ignore[no-untyped-def]
    officer = token_for("officer")
    no_loan = client.post(
        "/api/v1/reserve/claims", json={"loan_id": 999999}, headers={**officer, "Idempotency-Key": "x"}
    )
    assert no_loan.status_code == 422 and "loan_id" in no_loan.get_json()["errors"]
    bad = _claim(client, officer, charged_off_loan_id, "y", allowed_costs=[{"kind": "bribe", "amount": "-1"}])
    assert bad.status_code == 422 and "allowed_costs" in bad.get_json()["errors"]
    too_costly = _claim(
        client, officer, charged_off_loan_id, "z", allowed_costs=[{"kind": "legal", "amount": "5000.01"}]
    )
    assert too_costly.status_code == 422 and "allowed_costs" in too_costly.get_json()["errors"]
    assert _claim(client, officer, charged_off_loan_id, "a").status_code == 201
    assert _claim(client, officer, charged_off_loan_id, "b").status_code == 409  # one open claim per loan
    reject = client.post(
        "/api/v1/reserve/claims/1/approval",
        json={"decision": "reject"},
        headers={**token_for("staff"), "Idempotency-Key": "r"},
    )
    assert reject.status_code == 422 and "note" in reject.get_json()["errors"]


def test_a_claim_for_any_amount_on_a_current_loan_is_refused(client, token_for, booked_loan_id) -> None:  # type: ignore[no-untyped-def]
    """Issue #17: $250,000 claimed on an active, current $10,900 loan was accepted and paid."""
    officer, staff = token_for("officer"), token_for("staff")
    before = client.get("/api/v1/reserve", headers=staff).get_json()
    attack = client.post(
        "/api/v1/reserve/claims",
        json={
            "loan_id": booked_loan_id,
            "charged_off_on": "2026-01-06",
            "balance_at_charge_off": "250000.00",
        },
        headers={**officer, "Idempotency-Key": "attack"},
    )
    assert attack.status_code == 422
    assert {"balance_at_charge_off", "charged_off_on"} <= set(attack.get_json()["errors"])
    honest_form = _claim(client, officer, booked_loan_id, "attack-2")
    assert honest_form.status_code == 422
    assert "charged off" in honest_form.get_json()["errors"]["loan_id"][0]
    assert client.get("/api/v1/reserve", headers=staff).get_json() == before
    assert client.get("/api/v1/reserve/claims", headers=staff).get_json() == []


def test_reserve_pages_show_the_loan_and_claim(client, auth, booked_loan_id) -> None:  # type: ignore[no-untyped-def]
    auth.login("officer")
    page = client.get(f"/reserve/loans/{booked_loan_id}")
    assert page.status_code == 200 and "Commitment today" in page.get_data(as_text=True)
    assert client.get("/reserve/loans/999999").status_code == 404
    assert client.get("/reserve/claims/999999").status_code == 404
