"""Booking: an accepted offer becomes a loan, with its disclosure, schedule and reserve commitment.

One unit of work: the loan row, its disclosed schedule, the application's move to ``booked``, the
audit events and the reserve commitment (``reserve.operations.commit_reserve``, which posts inside
our transaction and never commits) all land together or not at all. A short reserve refuses the
booking and leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from loanapp.accounts.models import User
from loanapp.applications import states
from loanapp.applications.errors import (
    InvalidApplication,
    LoanAlreadyBooked,
    ReserveShort,
    VerificationExpired,
    VerificationMissing,
)
from loanapp.applications.models import Application
from loanapp.applications.operations import expect_version, mark_booked, savepoint
from loanapp.applications.states import Status
from loanapp.audit.trail import record
from loanapp.clock import business_date
from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.loans.models import Loan, LoanInstallment
from loanapp.reserve_admin.policy import reserve_policy
from reserve import operations as reserve_operations
from reserve.domain import AccountKind
from reserve.errors import CommitmentExists, InsufficientReserve, MonthClosed
from risk.dates import add_months
from risk.disclosure import truth_in_lending
from risk.errors import InvalidTerms

#: How far from today a contract date may be (a typo guard; the reserve refuses closed months).
CONTRACT_DATE_WINDOW_DAYS = 31


@dataclass(frozen=True)
class BookingInput:
    contract_date: date | None
    first_payment_date: date | None


def default_booking_dates(today: date) -> BookingInput:
    return BookingInput(today, add_months(today, 1))


def loan_of_application(application_id: int) -> Loan | None:
    return db.session.scalar(select(Loan).where(Loan.application_id == application_id))


def check_verification_current(application: Application, today: date, valid_days: int) -> None:
    """Booking needs a verification that found the job (verified, or verified with a discrepancy)
    and is at most ``valid_days`` old on the booking day."""
    latest = application.latest_verification
    if latest is None or latest.outcome not in ("verified", "discrepancy"):
        raise VerificationMissing()
    age = (today - latest.verified_on).days
    if age > valid_days:
        raise VerificationExpired(age, valid_days)


def book_loan(application: Application, *, version: int | None, data: BookingInput, actor: User) -> Loan:
    """Book the accepted offer as a loan and commit its share of the loan-loss reserve."""
    existing = loan_of_application(application.id)
    if existing is not None or application.status == Status.BOOKED:
        raise LoanAlreadyBooked(existing.id if existing else None)
    expect_version(application, version)
    states.check_transition(application.status, Status.BOOKED)
    today = business_date()
    check_verification_current(application, today, int(current_app.config["VERIFICATION_VALID_DAYS"]))
    decision = application.decision
    assert decision is not None and decision.amount is not None
    assert decision.annual_rate is not None and decision.term_months is not None

    errors: dict[str, list[str]] = {}
    if data.contract_date is None:
        errors["contract_date"] = ["Enter the contract date."]
    elif abs((data.contract_date - today).days) > CONTRACT_DATE_WINDOW_DAYS:
        errors["contract_date"] = [
            f"The contract date must be within {CONTRACT_DATE_WINDOW_DAYS} days of today."
        ]
    if data.first_payment_date is None:
        errors["first_payment_date"] = ["Enter the first payment date."]
    if errors:
        raise InvalidApplication(errors, "Check the booking dates.")
    assert data.contract_date is not None and data.first_payment_date is not None
    try:
        tila = truth_in_lending(
            decision.amount,
            decision.annual_rate,
            decision.term_months,
            data.contract_date,
            data.first_payment_date,
        )
    except InvalidTerms as exc:
        raise InvalidApplication(
            {exc.field: [exc.message.capitalize() + "."]}, "Check the booking dates."
        ) from exc

    rows = tila.schedule
    try:
        with savepoint():
            loan = Loan(
                application_id=application.id,
                borrower_id=application.worker_id,
                employer_id=_employer_of(application),
                principal=tila.principal,
                annual_rate=tila.note_rate,
                term_months=len(rows),
                contract_date=data.contract_date,
                first_payment_date=data.first_payment_date,
                maturity_date=rows[-1].due_date,
                payment_amount=rows[0].payment,
                final_payment_amount=rows[-1].payment,
                amount_financed=tila.amount_financed,
                prepaid_finance_charge=tila.prepaid_finance_charge,
                finance_charge=tila.finance_charge,
                total_of_payments=tila.total_of_payments,
                apr=tila.annual_percentage_rate,
                payment_summary=tila.payment_summary[:300],
                reserve_commitment=reserve_policy(current_app.config).commitment_for(tila.principal),
                reserve_transaction_id=0,  # set below, once the ledger has posted
                booked_by=actor.id,
                booked_at=utcnow(),
                updated_at=utcnow(),
            )
            db.session.add(loan)
            db.session.flush()
            db.session.add_all(
                LoanInstallment(
                    loan_id=loan.id,
                    number=row.number,
                    due_date=row.due_date,
                    payment=row.payment,
                    interest=row.interest,
                    principal=row.principal,
                    balance=row.balance,
                )
                for row in rows
            )
            commitment = reserve_operations.commit_reserve(
                db.session,
                key=f"loan-{loan.id}-commitment",
                actor_id=actor.id,
                loan_id=loan.id,
                principal=loan.principal,
                effective_date=data.contract_date,
                policy=reserve_policy(current_app.config),
                memo=f"Loan {loan.id} booked (application {application.id})",
            )
            loan.reserve_transaction_id = commitment.id
            loan.reserve_commitment = commitment.amount_for(AccountKind.COMMITTED)
            mark_booked(application, loan_id=loan.id, actor=actor)
            # The collections workbench's search keys for the borrower (name folded, phone digits).
            from loanapp.collections.operations import open_case

            open_case(loan, application)
            record(
                "loan.booked",
                "loan",
                loan.id,
                actor=actor,
                details={
                    "application_id": application.id,
                    "principal": loan.principal,
                    "annual_rate": loan.annual_rate,
                    "term_months": loan.term_months,
                    "contract_date": loan.contract_date,
                    "first_payment_date": loan.first_payment_date,
                    "apr": loan.apr,
                    "finance_charge": loan.finance_charge,
                    "reserve_commitment": loan.reserve_commitment,
                    "reserve_transaction_id": commitment.id,
                },
            )
    except InsufficientReserve as exc:
        raise ReserveShort(str(exc)) from exc
    except MonthClosed as exc:
        raise InvalidApplication(
            {"contract_date": [f"The reserve's books are closed for that month: {exc}"]},
            "Check the booking dates.",
        ) from exc
    except (CommitmentExists, IntegrityError) as exc:
        twin = loan_of_application(application.id)
        if twin is None and isinstance(exc, IntegrityError):
            raise
        raise LoanAlreadyBooked(twin.id if twin else None) from exc
    return loan


def _employer_of(application: Application) -> int | None:
    """The verified employer when there is one, else the stated one."""
    latest = application.latest_verification
    if latest is not None and latest.employer_id is not None:
        return latest.employer_id
    return application.employer_id


def booking_window(today: date) -> tuple[date, date]:
    return today - timedelta(days=CONTRACT_DATE_WINDOW_DAYS), today + timedelta(
        days=CONTRACT_DATE_WINDOW_DAYS
    )
