"""Fixtures for servicing: loans booked on chosen dates, payments, and a business date set per test.

Loans are booked through the real operations (application, verification, decision, acceptance,
booking with the reserve commitment), with the business date moved to the booking day.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from tests.app.applications.conftest import accept, approve, submit, verify

BOOKED = dt.date(2026, 1, 5)  # first payment 2026-02-05, then the 5th of each month


@pytest.fixture(autouse=True)
def _reference_lists(app: Flask, _rollback_each_test: None) -> None:
    """The partnership's employers, programs and partners, inside the test's rolled-back transaction."""
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


@pytest.fixture
def on_date(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the business date: ``on_date(dt.date(2026, 3, 17))``."""

    def move(day: dt.date) -> dt.date:
        monkeypatch.setitem(app.config, "BUSINESS_DATE", day)
        return day

    return move


def fund(people: dict[str, Any], amount: str = "500000.00") -> None:
    """A grant deposit into the reserve, dated before any test loan is booked."""
    from loanapp.extensions import db
    from reserve.operations import record_deposit

    record_deposit(
        db.session,
        key=f"test-deposit-{secrets.token_hex(4)}",
        actor_id=people["staff"].id,
        funder="Empire State Development",
        grant="Work Train 2026",
        amount=amount,
        received_on=dt.date(2025, 12, 1),
    )


@pytest.fixture
def funded(people: dict[str, Any]) -> None:
    fund(people)


def make_loan(
    people: dict[str, Any],
    *,
    booked_on: dt.date = BOOKED,
    amount: str = "8500.00",
    rate: str = "7.50",
    term: int = 48,
    worker: str = "worker",
    first_payment: dt.date | None = None,
    **application: Any,
) -> Any:
    """Book a loan on ``booked_on`` (first payment a month later unless given)."""
    from flask import current_app

    from loanapp.loans.operations import BookingInput, book_loan
    from risk.dates import add_months

    saved = current_app.config.get("BUSINESS_DATE")
    current_app.config["BUSINESS_DATE"] = booked_on
    try:
        application = submit(
            people[worker],
            offer_date=booked_on - dt.timedelta(days=3),
            start_date=booked_on + dt.timedelta(days=14),
            requested_amount=Decimal(amount),
            term_months=term,
            **application,
        )
        verify(application, people["officer"], start_date=booked_on + dt.timedelta(days=14))
        approve(application, people["officer"], rate)
        accept(application, people[worker])
        return book_loan(
            application,
            version=application.version,
            data=BookingInput(booked_on, first_payment or add_months(booked_on, 1)),
            actor=people["officer"],
        )
    finally:
        current_app.config["BUSINESS_DATE"] = saved


@pytest.fixture
def loan(people: dict[str, Any], funded: None) -> Any:
    """$8,500 at 7.50% for 48 months, booked 2026-01-05 (payments due the 5th), for ``worker``."""
    return make_loan(people)


def pay(
    loan: Any,
    amount: str,
    on: dt.date,
    actor: Any,
    *,
    key: str | None = None,
    reference: str = "",
    allow_excess: bool = False,
) -> Any:
    from loanapp.servicing.operations import PaymentInput, record_payment, scoped_key

    return record_payment(
        loan.id,
        PaymentInput(Decimal(amount), on, "ach", reference, allow_excess),
        actor=actor,
        key=scoped_key(actor, key or secrets.token_hex(8)),
        source="api",
    ).payment


@pytest.fixture
def committed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on its own database where commits are real (jobs, locks, crashes): SQLite file or a
    fresh PostgreSQL database, built by the migrations, dropped afterwards."""
    from loanapp import create_app
    from tests import databases
    from tests.conftest import app_config

    server = databases.requested_url()
    if databases.is_postgres(server):
        url = databases.create_postgres_database(server, prefix="loanapp_jobs")  # type: ignore[arg-type]
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("jobs") / "jobs.sqlite")
    databases.migrate(url)
    app = create_app(app_config(url, UPLOAD_FOLDER=str(tmp_path_factory.mktemp("uploads"))))
    try:
        yield app
    finally:
        from loanapp.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if databases.is_postgres(server):
            databases.drop_postgres_database(server, url)  # type: ignore[arg-type]
