"""Booking an accepted offer: the loan, its disclosure, and the reserve commitment in one transaction."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from loanapp.applications.errors import (
    LoanAlreadyBooked,
    ReserveShort,
    VerificationExpired,
    VerificationMissing,
)
from loanapp.applications.states import IllegalTransition
from loanapp.audit.models import AuditEvent
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.loans.models import Loan, LoanInstallment
from loanapp.loans.operations import BookingInput, book_loan, default_booking_dates
from reserve.schema import TransactionRow
from risk.disclosure import truth_in_lending
from tests.app.applications.conftest import accept, approve, fund_reserve, submit, verify


def _book(application: Any, officer: Any) -> Loan:
    return book_loan(
        application, version=application.version, data=default_booking_dates(business_date()), actor=officer
    )


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))  # type: ignore[no-any-return]


def test_booking_stores_the_disclosure_schedule_and_the_reserve_commitment(
    people: dict[str, Any], accepted: Any
) -> None:
    fund_reserve(people["staff"].id)
    loan = _book(accepted, people["officer"])
    dates = default_booking_dates(business_date())
    tila = truth_in_lending(
        Decimal("8500.00"), Decimal("7.50"), 48, dates.contract_date, dates.first_payment_date
    )
    assert (loan.principal, loan.apr, loan.finance_charge, loan.total_of_payments, loan.amount_financed) == (
        tila.principal,
        tila.annual_percentage_rate,
        tila.finance_charge,
        tila.total_of_payments,
        tila.amount_financed,
    )
    assert loan.status == "active" and loan.borrower_id == people["worker"].id
    assert loan.payment_amount == tila.schedule[0].payment
    assert [row.payment for row in loan.installments] == [row.payment for row in tila.schedule]
    assert loan.installments[-1].balance == Decimal("0.00")
    assert accepted.status == "booked"
    # 15% of the principal set aside in the reserve, posted in the same unit of work.
    assert loan.reserve_commitment == Decimal("1275.00")
    commitment = db.session.get(TransactionRow, loan.reserve_transaction_id)
    assert commitment is not None and commitment.loan_id == loan.id
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"loan.booked", "application.status_changed"} <= actions


def test_a_loan_cannot_be_booked_twice(people: dict[str, Any], accepted: Any) -> None:
    fund_reserve(people["staff"].id)
    _book(accepted, people["officer"])
    with pytest.raises(LoanAlreadyBooked):
        _book(accepted, people["officer"])
    assert _count(Loan) == 1


def test_short_reserve_refuses_the_booking_and_writes_nothing(people: dict[str, Any], accepted: Any) -> None:
    fund_reserve(people["staff"].id, amount="100.00")  # 15% of 8,500 is 1,275
    version = accepted.version
    with pytest.raises(ReserveShort):
        _book(accepted, people["officer"])
    assert _count(Loan) == 0 and _count(LoanInstallment) == 0
    assert db.session.scalar(select(func.count()).select_from(TransactionRow)) == 1  # the deposit only
    db.session.refresh(accepted)
    assert accepted.status == "offer_accepted" and accepted.version == version
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "loan.booked")) == 0


def test_booking_needs_an_accepted_offer(people: dict[str, Any]) -> None:
    fund_reserve(people["staff"].id)
    application = submit(people["worker"])
    verify(application, people["officer"])
    approve(application, people["officer"])
    with pytest.raises(IllegalTransition):
        _book(application, people["officer"])


def test_booking_needs_a_verified_job(people: dict[str, Any]) -> None:
    fund_reserve(people["staff"].id)
    application = submit(people["worker"])
    approve(application, people["officer"])
    accept(application, people["worker"])
    with pytest.raises(VerificationMissing):
        _book(application, people["officer"])
    verify(application, people["officer"], outcome="unable", notes="No answer at HR", employer_id=None)
    with pytest.raises(VerificationMissing):
        _book(application, people["officer"])


def test_an_expired_verification_must_be_redone_before_booking(
    app: Flask, monkeypatch: pytest.MonkeyPatch, people: dict[str, Any], accepted: Any
) -> None:
    fund_reserve(people["staff"].id)
    later = business_date() + timedelta(days=31)
    monkeypatch.setitem(app.config, "BUSINESS_DATE", later)
    with pytest.raises(VerificationExpired) as refused:
        _book(accepted, people["officer"])
    assert "31 days old" in refused.value.message
    verify(accepted, people["officer"], verified_on=later)
    assert _book(accepted, people["officer"]).status == "active"


def test_verification_validity_is_configurable(
    app: Flask, monkeypatch: pytest.MonkeyPatch, people: dict[str, Any], accepted: Any
) -> None:
    fund_reserve(people["staff"].id)
    monkeypatch.setitem(app.config, "VERIFICATION_VALID_DAYS", 5)
    monkeypatch.setitem(app.config, "BUSINESS_DATE", business_date() + timedelta(days=6))
    with pytest.raises(VerificationExpired):
        _book(accepted, people["officer"])


def test_booking_dates_are_checked(people: dict[str, Any], accepted: Any) -> None:
    from loanapp.applications.errors import InvalidApplication

    fund_reserve(people["staff"].id)
    today = business_date()
    for dates, field in (
        (BookingInput(today, today), "first_payment_date"),
        (BookingInput(today + timedelta(days=60), today + timedelta(days=90)), "contract_date"),
        (BookingInput(None, today), "contract_date"),
    ):
        with pytest.raises(InvalidApplication) as refused:
            book_loan(accepted, version=accepted.version, data=dates, actor=people["officer"])
        assert field in refused.value.errors
    assert _count(Loan) == 0
