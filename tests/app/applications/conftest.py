"""Fixtures for the application feature: valid answers, applications in each state, a funded reserve."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def employer_id(name: str = "Cryomech") -> int:
    from sqlalchemy import select

    from loanapp.extensions import db
    from loanapp.programs.models import Employer

    return db.session.scalar(select(Employer.id).where(Employer.name == name))  # type: ignore[return-value]


def training_program_id(name: str = "Machine Operator Program") -> int:
    from sqlalchemy import select

    from loanapp.extensions import db
    from loanapp.programs.models import TrainingProgram

    return db.session.scalar(select(TrainingProgram.id).where(TrainingProgram.name == name))  # type: ignore[return-value]


def answers(**overrides: Any) -> dict[str, Any]:
    """A complete, valid application as typed values (what a form or schema hands the operation)."""
    from loanapp.clock import business_date

    today = business_date()
    data: dict[str, Any] = {
        "first_name": "Ana",
        "last_name": "Reyes",
        "date_of_birth": date(1994, 5, 17),
        "ssn_last4": "4821",
        "phone": "(315) 555-0142",
        "street": "412 Butternut St",
        "city": "Syracuse",
        "state": "NY",
        "postal_code": "13208",
        "household_size": 3,
        "employment_status": "job_offer",
        "employer_id": employer_id(),
        "employer_other": "",
        "start_date": today + timedelta(days=14),
        "offer_date": today - timedelta(days=3),
        "hourly_wage": Decimal("13.50"),
        "hours_per_week": Decimal("40"),
        "pay_frequency": None,
        "training_program_id": None,
        "expected_completion": None,
        "monthly_income": Decimal("2340.00"),
        "monthly_debts": Decimal("120.00"),
        "requested_amount": Decimal("8500.00"),
        "term_months": 48,
        "vehicle_year": today.year - 7,
        "vehicle_make": "Honda",
        "vehicle_model": "Civic",
        "vehicle_mileage": 84000,
        "vehicle_price": Decimal("9500.00"),
        "sale_type": "dealer",
        "dealer_name": "Northside Auto",
        "down_payment": Decimal("1000.00"),
        "referral_partner_id": None,
        "consent": True,
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _reference_lists(request: pytest.FixtureRequest) -> None:
    """The partnership's employers, programs and partners (seeded on every install), inside the test's
    rolled-back transaction (opened by the root conftest for every test that uses ``app``). Tests with a
    database of their own (``live_app``) seed it themselves."""
    if "app" not in request.fixturenames or "live_app" in request.fixturenames:
        return  # no database, or one of its own
    app: Flask = request.getfixturevalue("app")
    from loanapp.extensions import db
    from loanapp.programs.reference import seed_reference_lists

    with app.app_context():
        seed_reference_lists()
        db.session.commit()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


@pytest.fixture
def people(app: Flask, users: dict[str, int], ctx: None) -> dict[str, Any]:
    """The test users as objects (inside the request context)."""
    from loanapp.accounts.models import User
    from loanapp.extensions import db

    return {role: db.session.get(User, user_id) for role, user_id in users.items()}


def submit(worker: Any, **overrides: Any) -> Any:
    from loanapp.applications.operations import submit_application
    from loanapp.applications.rules import ApplicationInput

    result = submit_application(
        ApplicationInput.from_mapping(answers(**overrides)),
        applicant=worker,
        new_account=None,
        submission_key=secrets.token_urlsafe(16),
    )
    return result.application


def verify(application: Any, officer: Any, **overrides: Any) -> Any:
    from loanapp.applications.operations import record_verification
    from loanapp.applications.rules import VerificationInput
    from loanapp.clock import business_date

    fields: dict[str, Any] = {
        "method": "offer_letter",
        "outcome": "verified",
        "verified_on": business_date(),
        "employer_id": employer_id(),
        "start_date": business_date() + timedelta(days=14),
        "hourly_wage": Decimal("13.50"),
        "hours_per_week": Decimal("40"),
    }
    fields.update(overrides)
    return record_verification(
        application, version=application.version, data=VerificationInput(**fields), actor=officer
    )


def approve(application: Any, officer: Any, rate: str = "7.50") -> Any:
    from loanapp.applications.operations import decide
    from loanapp.applications.rules import DecisionInput

    return decide(
        application,
        version=application.version,
        data=DecisionInput(
            kind="approve",
            amount=application.requested_amount,
            annual_rate=Decimal(rate),
            term_months=application.requested_term_months,
        ),
        actor=officer,
    )


def accept(application: Any, worker: Any) -> None:
    from loanapp.applications.operations import respond_to_offer

    respond_to_offer(application, version=application.version, accept=True, actor=worker)


def fund_reserve(actor_id: int, amount: str = "100000.00", key: str | None = None) -> None:
    from loanapp.clock import business_date
    from loanapp.extensions import db
    from reserve.operations import record_deposit

    record_deposit(
        db.session,
        key=key or f"test-deposit-{secrets.token_hex(4)}",
        actor_id=actor_id,
        funder="Empire State Development",
        grant="Work Train 2026",
        amount=amount,
        received_on=business_date() - timedelta(days=1),
    )


@pytest.fixture
def accepted(people: dict[str, Any]) -> Any:
    """An application with a verified job, approved, and the offer accepted: ready to book."""
    application = submit(people["worker"])
    verify(application, people["officer"])
    approve(application, people["officer"])
    accept(application, people["worker"])
    return application


@pytest.fixture
def form_data(app: Flask) -> Any:
    """``form_data(**overrides)``: the application form as a browser posts it (text), valid unless overridden."""

    def make(**overrides: Any) -> dict[str, Any]:
        with app.app_context():
            return _form_text(answers(), overrides)

    return make


def _form_text(values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    text = {
        name: ("" if value is None else ("y" if value is True else str(value)))
        for name, value in values.items()
        if value is not False
    }
    text.update(
        {
            "email": "ana.reyes@example.org",
            "password": "a-long-password",
            "action": "submit",
            "submission_key": secrets.token_urlsafe(16),
            "document_kind": "offer_letter",
        }
    )
    text.update({k: v for k, v in overrides.items() if v is not None})
    for name in [k for k, v in overrides.items() if v is None]:
        text.pop(name, None)
    return text
