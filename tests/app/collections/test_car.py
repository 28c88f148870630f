"""The car: collateral at booking, VIN check digit and one live loan per VIN, lien status, proof of
insurance and a lapse on the worklist (page and API)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from loanapp.collections import operations, queries
from loanapp.collections.models import Collateral, InsuranceProof
from loanapp.extensions import db
from loanapp.servicing import queries as servicing_queries
from loanapp.servicing.errors import InvalidInput
from tests.app.servicing.conftest import make_loan, pay

VIN = "1HGCM82633A004352"  # a valid check digit
TODAY = dt.date(2026, 3, 17)


def test_booking_opens_the_cars_record_from_the_application(people: dict[str, Any], loan: Any) -> None:
    car = db.session.get(Collateral, loan.id)
    application = loan.application
    assert (car.vehicle_year, car.vehicle_make, car.vehicle_model) == (
        application.vehicle_year,
        application.vehicle_make,
        application.vehicle_model,
    )
    assert car.title_status == "lien_requested" and car.vin is None


@pytest.mark.parametrize(
    ("vin", "message"),
    [
        ("1HGCM82633A00435", "17 characters"),
        ("1HGCM82633A004353", "check digit"),
        ("IHGCM82633A004352", "except I"),
    ],
)
def test_a_bad_vin_is_refused(
    people: dict[str, Any], loan: Any, on_date: Any, vin: str, message: str
) -> None:
    on_date(TODAY)
    with pytest.raises(InvalidInput) as refused:
        operations.put_collateral(
            loan.id, operations.CollateralInput(vin, "lien_requested"), actor=people["officer"]
        )
    assert message in refused.value.errors["vin"][0]
    assert db.session.get(Collateral, loan.id).vin is None


def test_a_vin_on_another_live_loan_is_refused_and_the_lien_is_released_on_payoff(
    people: dict[str, Any], loan: Any, on_date: Any
) -> None:
    on_date(TODAY)
    officer = people["officer"]
    operations.put_collateral(
        loan.id, operations.CollateralInput(VIN.lower(), "lien_recorded", dt.date(2026, 1, 20)), actor=officer
    )
    assert db.session.get(Collateral, loan.id).vin == VIN
    other = make_loan(people, worker="worker2")
    with pytest.raises(InvalidInput) as refused:
        operations.put_collateral(other.id, operations.CollateralInput(VIN, "lien_requested"), actor=officer)
    assert f"live loan {loan.id}" in refused.value.errors["vin"][0]
    with pytest.raises(InvalidInput) as early:
        operations.put_collateral(loan.id, operations.CollateralInput(VIN, "lien_released"), actor=officer)
    assert "title_status" in early.value.errors
    pay(loan, str(servicing_queries.payoff_quote(loan, TODAY)), TODAY, officer)
    car = operations.put_collateral(loan.id, operations.CollateralInput(VIN, "lien_released"), actor=officer)
    assert car.lien_released_on == TODAY
    # Paid off, the VIN is free for a new loan on the same car.
    operations.put_collateral(other.id, operations.CollateralInput(VIN, "lien_requested"), actor=officer)


def test_insurance_dates_in_the_wrong_order_are_refused_and_a_lapse_lists_the_loan(
    people: dict[str, Any], loan: Any, on_date: Any
) -> None:
    on_date(TODAY)
    officer = people["officer"]
    with pytest.raises(InvalidInput) as refused:
        operations.put_insurance(
            loan.id,
            operations.InsuranceInput("Erie", "Q-1", dt.date(2026, 4, 1), covered_from=dt.date(2026, 5, 1)),
            actor=officer,
        )
    assert "covered_through" in refused.value.errors
    assert db.session.scalar(select(func.count()).select_from(InsuranceProof)) == 0
    proof = operations.put_insurance(
        loan.id, operations.InsuranceInput("Erie", "Q-1", dt.date(2026, 4, 1)), actor=officer
    )
    again = operations.put_insurance(
        loan.id, operations.InsuranceInput("Erie", "Q-1", dt.date(2026, 4, 1)), actor=officer
    )
    assert again.id == proof.id
    pay(loan, "205.52", dt.date(2026, 2, 5), officer)
    pay(loan, "205.52", dt.date(2026, 3, 5), officer)
    later = dt.date(2026, 4, 2)
    items, _ = queries.worklist(queries.WorklistFilters(reason="insurance_lapsed"), later)
    assert [(i.loan_id, i.reasons) for i in items] == [(loan.id, ["insurance_lapsed"])]
    on_date(later)
    operations.put_insurance(
        loan.id, operations.InsuranceInput("Erie", "Q-2", dt.date(2027, 4, 1)), actor=officer
    )
    assert queries.worklist(queries.WorklistFilters(reason="insurance_lapsed"), later)[1] == 0


def test_the_collateral_and_insurance_api(
    client: Any, token_for: Any, app: Any, users: Any, on_date: Any
) -> None:
    from loanapp.accounts.models import User
    from tests.app.servicing.conftest import fund

    on_date(TODAY)
    with app.test_request_context():
        people = {role: db.session.get(User, user_id) for role, user_id in users.items()}
        fund(people)
        loan_id = make_loan(people).id
        db.session.commit()
    officer = token_for("officer")
    path = f"/api/v1/loans/{loan_id}/collateral"
    bad = client.put(
        path, json={"vin": "1HGCM82633A004353", "title_status": "lien_requested"}, headers=officer
    )
    assert bad.status_code == 422 and "vin" in bad.get_json()["errors"]
    good = client.put(
        path,
        json={"vin": VIN, "title_status": "lien_recorded", "lien_recorded_on": "2026-01-20"},
        headers=officer,
    )
    assert good.status_code == 200 and good.get_json()["vin"] == VIN
    path = f"/api/v1/loans/{loan_id}/insurance"
    wrong = client.put(
        path,
        json={
            "carrier": "Erie",
            "policy_number": "Q-1",
            "covered_from": "2026-06-01",
            "covered_through": "2026-05-01",
        },
        headers=officer,
    )
    assert wrong.status_code == 422 and "covered_through" in wrong.get_json()["errors"]
    made = client.put(
        path,
        json={"carrier": "Erie", "policy_number": "Q-1", "covered_through": "2026-09-01"},
        headers=officer,
    )
    assert made.status_code == 200 and made.get_json()["lapsed"] is False
    assert [p["policy_number"] for p in client.get(path, headers=officer).get_json()] == ["Q-1"]
