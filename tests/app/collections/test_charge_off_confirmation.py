"""The charge-off form has no dangerous defaults (the car's outcome and proceeds are chosen) and shows
the claim it will file before the officer confirms; nothing is written until then."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from loanapp.accounts.models import User
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.servicing.models import ChargeOff
from tests.app.servicing.conftest import fund, make_loan


def test_the_charge_off_asks_for_the_car_then_shows_the_claim_then_charges_off(
    app: Flask, client: Any, auth: Any, users: dict[str, int], on_date: Any
) -> None:
    on_date(dt.date(2026, 6, 10))  # nothing paid: 125 days past due
    with app.test_request_context():
        people = {role: db.session.get(User, user_id) for role, user_id in users.items()}
        fund(people)
        loan_id = make_loan(people).id
        db.session.commit()
    auth.login("officer")
    path = f"/servicing/loans/{loan_id}/charge-off"
    page = client.get(f"/servicing/loans/{loan_id}").text
    assert "Choose what happened to the car" in page
    missing = client.post(path, data={"idempotency_key": "k"})
    assert missing.status_code == 422
    assert "Choose what happened to the car." in missing.text and "0.00 if nothing" in missing.text
    form = {
        "collateral_status": "repossessed_sold",
        "collateral_proceeds": "3000.00",
        "allowed_costs": "250.00",
        "idempotency_key": "k",
    }
    confirm = client.post(path, data=form)
    assert confirm.status_code == 200 and "Claim to be filed on the reserve" in confirm.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ChargeOff)) == 0
    done = client.post(path, data={**form, "confirmed": "yes"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Loan, loan_id).status == "charged_off"
        entry = db.session.scalar(select(ChargeOff))
        claimed = entry.balance + entry.allowed_costs - entry.collateral_proceeds
        assert f"${claimed:,.2f}" in confirm.text
