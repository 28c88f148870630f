"""Demo applications for ``flask seed-demo``: a queue and a program report with something in them.

Every application goes through the real operations (so the audit trail, the underwriting figures and
the reserve commitments are what the app would have produced), each on its own business date: the
seed sets ``BUSINESS_DATE`` while it replays an application's history, then restores it. Idempotent:
each demo application has a fixed submission key and is skipped when it exists. The demo applicants'
accounts (``@applicants.worktrain.org``) get random passwords nobody knows; the demo worker Maria
Lopez (``worker@demo.worktrain.org``) has an approved offer waiting for her answer. Demo data only.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from loanapp.accounts.models import User
from loanapp.accounts.operations import create_user
from loanapp.applications import operations as ops
from loanapp.applications.rules import ApplicationInput, DecisionInput, VerificationInput
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.programs.models import Employer, ReferralPartner, TrainingProgram
from risk.dates import add_months

DEMO_WORKER_EMAIL = "worker@demo.worktrain.org"
DEMO_OFFICER_EMAIL = "officer@demo.coopfed.org"
DEMO_STAFF_EMAIL = "staff@demo.worktrain.org"
RESERVE_KEY = "demo-applications-reserve-deposit"


@dataclass(frozen=True)
class DemoApplication:
    key: str
    first: str
    last: str
    days_ago: int
    outcome: str  # submitted, in_review, needs_documents, approved, counter_offered, declined,
    #               offer_accepted, booked, withdrawn, offer_refused
    status: str = "employed"
    employer: str | None = "PPC"
    program: str | None = None
    partner: str | None = None
    wage: str = "12.50"
    hours: str = "40"
    amount: str = "8000.00"
    term: int = 48
    price: str = "9500.00"
    vehicle: tuple[int, str, str, int] = (2017, "Toyota", "Corolla", 78000)
    debts: str = "250.00"
    reasons: tuple[str, ...] = ()
    email: str | None = None


APPLICATIONS = (
    DemoApplication("demo-01", "Maria", "Lopez", 6, "approved", "job_offer", "Cryomech",
                    partner="Spanish Action League", wage="13.50", amount="7800.00", price="9200.00",
                    vehicle=(2016, "Honda", "Civic", 88000), email=DEMO_WORKER_EMAIL),
    DemoApplication("demo-02", "Ahmed", "Hassan", 170, "booked", "employed", "Midstate Spring",
                    partner="Refugee Assistance Program", wage="14.25", amount="9500.00", price="11000.00"),
    DemoApplication("demo-03", "Keisha", "Brown", 150, "booked", "in_training", None, "Machine Operator Program",
                    partner="Onondaga Community College", wage="13.00", amount="6500.00", price="7400.00",
                    vehicle=(2014, "Ford", "Focus", 112000), term=36),
    DemoApplication("demo-04", "Tom", "Nguyen", 140, "declined", "employed", "Berry Plastics", wage="10.00",
                    hours="24", debts="900.00", amount="14000.00", price="14500.00",
                    reasons=("excessive_obligations", "insufficient_income")),
    DemoApplication("demo-05", "Rosa", "Martinez", 120, "booked", "job_offer", "Falk Precision",
                    partner="Spanish Action League", wage="12.75", amount="8200.00", price="9800.00"),
    DemoApplication("demo-06", "James", "Carter", 110, "counter_offered", "employed", "Byrne Dairy",
                    partner="CNY Works", wage="11.50", amount="12500.00", price="13000.00", term=72,
                    vehicle=(2012, "Chevrolet", "Malibu", 131000)),
    DemoApplication("demo-07", "Amina", "Yusuf", 95, "booked", "in_training", "Tessy Plastics",
                    "Manufacturing Career Readiness Program", partner="JobsPlus!", wage="12.00",
                    amount="7000.00", price="8000.00"),
    DemoApplication("demo-08", "Luis", "Ortiz", 80, "declined", "job_offer", "Dannon Tool", wage="11.00",
                    hours="20", amount="6000.00", price="6200.00", reasons=("unable_to_verify_employment",)),
    DemoApplication("demo-09", "Grace", "Kim", 65, "withdrawn", "employed", "Precision Systems"),
    DemoApplication("demo-10", "Darnell", "Price", 50, "booked", "employed", "Associated Spring",
                    partner="Syracuse Community Connections", wage="15.00", amount="10500.00", price="12000.00"),
    DemoApplication("demo-11", "Fatima", "Ali", 40, "offer_refused", "job_offer", "Cryomech",
                    partner="Refugee Assistance Program", amount="9000.00", price="9900.00"),
    DemoApplication("demo-12", "Kevin", "Walsh", 21, "offer_accepted", "employed", "Darco Manufacturing",
                    partner="SUNY Educational Opportunity Center", wage="13.25", amount="8800.00", price="10400.00"),
    DemoApplication("demo-13", "Sofia", "Ramirez", 12, "needs_documents", "in_training", None,
                    "Machine Operator Program", partner="Spanish Action League", amount="6800.00", price="7500.00"),
    DemoApplication("demo-14", "Omar", "Said", 7, "in_review", "employed", "Advanced Central Services",
                    partner="Jubilee Homes", wage="12.25"),
    DemoApplication("demo-15", "Lena", "Kowalski", 4, "submitted", "job_offer", "PPC", wage="13.00"),
    DemoApplication("demo-16", "Marcus", "Greene", 2, "submitted", "employed", None, partner="CNY Works"),
    DemoApplication("demo-17", "Hana", "Tesfaye", 1, "submitted", "in_training", None,
                    "Manufacturing Career Readiness Program", partner="Refugee Assistance Program"),
)  # fmt: skip


@contextmanager
def _on(day: date) -> Iterator[None]:
    """Replay a step as of ``day`` (the business date every operation reads)."""
    config = current_app.config
    had, previous = "BUSINESS_DATE" in config, config.get("BUSINESS_DATE")
    config["BUSINESS_DATE"] = day
    try:
        yield
    finally:
        if had:
            config["BUSINESS_DATE"] = previous
        else:
            config.pop("BUSINESS_DATE", None)


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), UTC)


def _id(model: Any, name: str | None) -> int | None:
    if name is None:
        return None
    return db.session.scalar(select(model.id).where(model.name == name))


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _answers(demo: DemoApplication, day: date) -> ApplicationInput:
    year, make, model, miles = demo.vehicle
    employed, offer, training = (demo.status == s for s in ("employed", "job_offer", "in_training"))
    wage, hours = Decimal(demo.wage), Decimal(demo.hours)
    employer_id = _id(Employer, demo.employer)
    return ApplicationInput.from_mapping(
        {
            "first_name": demo.first,
            "last_name": demo.last,
            "date_of_birth": date(1988 + int(demo.key[-2:]) % 12, 1 + int(demo.key[-2:]) % 12, 14),
            "ssn_last4": f"{(int(demo.key[-2:]) * 379) % 10000:04d}",
            "phone": f"315-555-01{demo.key[-2:]}",
            "street": f"{100 + int(demo.key[-2:]) * 7} Salina St",
            "city": "Syracuse",
            "state": "NY",
            "postal_code": "13202",
            "household_size": 1 + int(demo.key[-2:]) % 4,
            "employment_status": demo.status,
            "employer_id": employer_id,
            "employer_other": "" if employer_id or not (employed or offer) else "Syracuse Castings",
            "start_date": day - timedelta(days=200)
            if employed
            else (day + timedelta(days=14) if offer else None),
            "offer_date": day - timedelta(days=5) if offer else None,
            "hourly_wage": wage if (employed or offer or employer_id) else None,
            "hours_per_week": hours if (employed or offer or employer_id) else None,
            "pay_frequency": "biweekly" if employed else None,
            "training_program_id": _id(TrainingProgram, demo.program) if training else None,
            "expected_completion": day + timedelta(days=45) if training else None,
            "monthly_income": (wage * hours * 52 / 12).quantize(Decimal("0.01")),
            "monthly_debts": Decimal(demo.debts),
            "requested_amount": Decimal(demo.amount),
            "term_months": demo.term,
            "vehicle_year": year,
            "vehicle_make": make,
            "vehicle_model": model,
            "vehicle_mileage": miles,
            "vehicle_price": Decimal(demo.price),
            "sale_type": "dealer" if int(demo.key[-2:]) % 3 else "private",
            "dealer_name": "Northside Auto" if int(demo.key[-2:]) % 3 else "",
            "down_payment": Decimal("500.00"),
            "referral_partner_id": _id(ReferralPartner, demo.partner),
            "consent": True,
        }
    )


def _ensure_reserve(staff: User, needed: Decimal, on: date) -> None:
    """Enough grant money in the reserve for the demo loans' commitments (once; keyed)."""
    from reserve import operations as reserve_operations
    from reserve.queries import reserve_position

    if reserve_position(db.session, business_date()).available >= needed:
        return
    reserve_operations.record_deposit(
        db.session,
        key=RESERVE_KEY,
        actor_id=staff.id,
        funder="Empire State Development",
        grant="Car Buyer Program (demo)",
        amount="150000.00",
        received_on=on,
        memo="Demo grant deposit for the seeded loans",
    )


def seed_demo_applications() -> int:
    """Create the demo applications that are missing; returns how many were added."""
    officer, staff = _user(DEMO_OFFICER_EMAIL), _user(DEMO_STAFF_EMAIL)
    if officer is None or staff is None:
        return 0
    today = business_date()
    oldest = max(a.days_ago for a in APPLICATIONS)
    _ensure_reserve(staff, Decimal("50000.00"), today - timedelta(days=oldest + 10))
    added = 0
    for demo in APPLICATIONS:
        if ops.find_by_submission_key(demo.key) is not None:
            continue
        _replay(demo, officer, today)
        added += 1
    return added


def _replay(demo: DemoApplication, officer: User, today: date) -> None:
    from loanapp.loans.operations import book_loan, default_booking_dates

    day = today - timedelta(days=demo.days_ago)
    email = demo.email or f"{demo.first.lower()}.{demo.last.lower()}@applicants.worktrain.org"
    worker = _user(email) or create_user(
        email, secrets.token_urlsafe(18), "worker", f"{demo.first} {demo.last}"
    )
    outcome = demo.outcome
    with _on(day):
        application = ops.submit_application(
            _answers(demo, day),
            applicant=worker,
            new_account=None,
            submission_key=demo.key,
            now=_moment(day, 14),
        ).application
    step = day + timedelta(days=1)
    if outcome == "withdrawn":
        with _on(step):
            ops.withdraw(application, version=application.version, actor=worker)
        return
    if outcome == "submitted":
        return
    with _on(step):
        ops.start_review(application, version=application.version, actor=officer)
    if outcome == "in_review":
        return
    if outcome == "needs_documents":
        with _on(step):
            ops.request_documents(
                application,
                version=application.version,
                kinds=["training_letter"],
                note="A letter from your training program confirming your enrolment, please.",
                actor=officer,
            )
        return
    verified = outcome != "declined" or "unable_to_verify_employment" not in demo.reasons
    with _on(step):
        ops.record_verification(
            application,
            version=application.version,
            data=VerificationInput(
                method={"employed": "employer_call", "job_offer": "offer_letter"}.get(
                    demo.status, "training_confirmation"
                ),
                outcome="verified" if verified else "unable",
                verified_on=step,
                employer_id=application.employer_id if verified else None,
                start_date=application.start_date if verified else None,
                hourly_wage=application.hourly_wage if verified else None,
                hours_per_week=application.hours_per_week if verified else None,
                notes=""
                if verified
                else "No answer from HR after three calls; the offer letter was not signed.",
            ),
            actor=officer,
        )
    decided_on = day + timedelta(days=2 + int(demo.key[-2:]) % 4)
    if outcome == "declined":
        data = DecisionInput(kind="decline", reasons=demo.reasons)
    elif outcome == "counter_offered":
        data = DecisionInput(
            kind="counter_offer", amount=Decimal("9500.00"), annual_rate=Decimal("8.99"), term_months=60
        )
    else:
        data = DecisionInput(
            kind="approve",
            amount=application.requested_amount,
            annual_rate=Decimal("7.49"),
            term_months=application.requested_term_months,
        )
    with _on(decided_on):
        ops.decide(
            application, version=application.version, data=data, actor=officer, now=_moment(decided_on, 16)
        )
    if outcome in ("declined", "approved", "counter_offered"):
        return
    with _on(decided_on):
        ops.respond_to_offer(
            application, version=application.version, accept=outcome != "offer_refused", actor=worker
        )
    if outcome != "booked":
        return
    contract = decided_on + timedelta(days=3)
    with _on(contract):
        dates = default_booking_dates(contract)
        book_loan(application, version=application.version, data=dates, actor=officer)
    assert add_months(contract, 1) == dates.first_payment_date
