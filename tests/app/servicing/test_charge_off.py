"""Charge-off policy, the charge-off queue, the reserve claim it files, and recoveries after it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

import reserve
from loanapp.extensions import db
from loanapp.jobs import runner
from loanapp.servicing import operations
from loanapp.servicing.errors import InvalidInput, LoanClosed, NotChargedOff, NotEligibleForChargeOff
from loanapp.servicing.models import BucketHistory, LoanServicing
from tests.app.servicing.conftest import pay

CAR_SOLD = operations.ChargeOffInput(
    "repossessed_sold", Decimal("3000.00"), Decimal("250.00"), "Car sold at auction"
)


def charge(loan: Any, actor: Any, data: operations.ChargeOffInput = CAR_SOLD) -> Any:
    return operations.charge_off(loan.id, data, actor=actor)


def test_a_loan_under_the_policy_age_cannot_be_charged_off(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 6, 4))  # due Feb 5, never paid: 119 days
    with pytest.raises(NotEligibleForChargeOff) as refused:
        charge(loan, people["officer"])
    assert "119 days" in refused.value.message
    assert loan.status == "active"


def test_the_charge_off_age_is_the_boards_setting(
    loan: Any, people: dict[str, Any], on_date: Any, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "CHARGE_OFF_DAYS", 90)
    on_date(dt.date(2026, 5, 6))  # 90 days
    assert charge(loan, people["officer"]).days_past_due == 90


def test_charging_off_files_the_reserve_claim_and_closes_the_loan(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 6, 5))  # 120 days
    entry = charge(loan, people["officer"])
    db.session.refresh(loan)
    assert loan.status == "charged_off"
    # Interest accrues daily on the unpaid principal from the contract date: 151 days at 7.5% / 365.
    assert entry.principal_balance == Decimal("8500.00")
    assert entry.accrued_interest == Decimal("263.73")
    claim = reserve.get_claim(db.session, entry.claim_id)
    assert claim.status is reserve.ClaimStatus.PENDING and claim.loan_id == loan.id
    assert claim.balance_at_charge_off == Decimal("8763.73")
    assert claim.loss == Decimal("8763.73") + Decimal("250.00") - Decimal("3000.00")
    assert claim.filed_by == people["officer"].id
    history = db.session.scalars(
        select(BucketHistory).where(BucketHistory.loan_id == loan.id).order_by(BucketHistory.opened_on)
    ).all()
    assert [(h.bucket, h.closed_on) for h in history][-2:] == [
        ("90-119", dt.date(2026, 6, 5)),
        ("charged_off", None),
    ]
    with pytest.raises(LoanClosed):
        pay(loan, "100.00", dt.date(2026, 6, 5), people["officer"])
    with pytest.raises(LoanClosed):
        charge(loan, people["officer"])


def test_no_loss_no_claim(loan: Any, people: dict[str, Any], on_date: Any) -> None:
    on_date(dt.date(2026, 6, 5))
    with pytest.raises(InvalidInput) as refused:
        charge(loan, people["officer"], operations.ChargeOffInput("repossessed_sold", Decimal("20000.00")))
    assert "collateral_proceeds" in refused.value.errors
    with pytest.raises(InvalidInput):
        charge(loan, people["officer"], operations.ChargeOffInput("stolen"))


def test_the_queue_lists_loans_at_the_policy_age_after_the_nightly_aging(
    loan: Any, people: dict[str, Any], on_date: Any, client: Any, auth: Any
) -> None:
    on_date(dt.date(2026, 6, 5))
    runner.run_job("aging", dt.date(2026, 6, 5))
    assert db.session.get(LoanServicing, loan.id).days_past_due == 120
    db.session.commit()
    auth.login("officer")
    page = client.get("/servicing/charge-offs").get_data(as_text=True)
    assert f"#{loan.id}" in page and ">120<" in page


def test_recoveries_go_back_to_the_reserve_up_to_what_the_claim_paid(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 6, 5))
    officer, staff = people["officer"], people["staff"]
    with pytest.raises(NotChargedOff):
        operations.record_recovery(loan.id, Decimal("10.00"), dt.date(2026, 6, 5), actor=officer, key="k0")
    entry = charge(loan, officer)
    # Before the claim is decided: recorded, nothing to the reserve yet.
    first = operations.record_recovery(
        loan.id,
        Decimal("100.00"),
        dt.date(2026, 6, 5),
        actor=officer,
        key=operations.scoped_key(officer, "r1"),
    )
    assert first.to_reserve == Decimal("0.00")
    from loanapp.reserve_admin import actions

    actions.decide_claim(staff, "approve-1", entry.claim_id, True, dt.date(2026, 6, 5))
    paid = reserve.get_claim(db.session, entry.claim_id).paid
    assert paid > 0
    second = operations.record_recovery(
        loan.id,
        Decimal("400.00"),
        dt.date(2026, 6, 5),
        actor=officer,
        key=operations.scoped_key(officer, "r2"),
    )
    assert second.to_reserve == Decimal("400.00") and second.reserve_transaction_id is not None
    again = operations.record_recovery(
        loan.id,
        Decimal("400.00"),
        dt.date(2026, 6, 5),
        actor=officer,
        key=operations.scoped_key(officer, "r2"),
    )
    assert again.id == second.id
    with pytest.raises(InvalidInput):
        operations.record_recovery(
            loan.id,
            Decimal("1.00"),
            dt.date(2026, 1, 1),
            actor=officer,
            key=operations.scoped_key(officer, "r3"),
        )
