"""Real races on PostgreSQL: two officers deciding, or booking, the same application at the same instant.

Each test gets its own database (committed data seen by several connections), built by the
migrations and dropped afterwards; each thread works in its own app context, so its own session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from tests import databases
from tests.conftest import FAST_HASH

pytestmark = pytest.mark.postgres


@pytest.fixture
def live_app(tmp_path: Any) -> Iterator[Flask]:
    from loanapp import create_app
    from loanapp.extensions import db

    server = databases.requested_url()
    url = databases.create_postgres_database(server, prefix="loanapp_race")  # type: ignore[arg-type]
    try:
        databases.migrate(url)
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "TESTING": True,
                "PASSWORD_HASH_METHOD": FAST_HASH,
                "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                "SERVER_NAME": "localhost",
            }
        )
        yield app
        with app.app_context():
            db.engine.dispose()
    finally:
        databases.drop_postgres_database(server, url)  # type: ignore[arg-type]


def _prepare(app: Flask, accepted: bool) -> tuple[int, int, list[int]]:
    """A worker's application, verified (and approved and accepted when asked), two officers; committed."""
    from loanapp.accounts.operations import create_user
    from loanapp.extensions import db
    from loanapp.programs.reference import seed_reference_lists
    from tests.app.applications.conftest import accept, approve, fund_reserve, submit, verify

    with app.test_request_context():
        seed_reference_lists()
        worker = create_user("racer@example.org", "worker-pass-123", "worker", "Race Worker")
        officers = [create_user(f"officer{i}@example.org", "officer-pass-123", "officer") for i in (1, 2)]
        staff = create_user("staff@example.org", "staff-pass-123", "staff")
        application = submit(worker)
        verify(application, officers[0])
        if accepted:
            approve(application, officers[0])
            accept(application, worker)
        fund_reserve(staff.id)
        db.session.commit()
        return application.id, application.version, [o.id for o in officers]


def _at_once(app: Flask, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        from loanapp.extensions import db

        with app.test_request_context():
            barrier.wait()
            try:
                results[i] = work(i)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the test looks at what each officer got
                db.session.rollback()
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_officers_deciding_at_the_same_instant_one_wins_the_other_gets_a_conflict(
    live_app: Flask,
) -> None:
    from loanapp.accounts.models import User
    from loanapp.applications.errors import StaleApplication
    from loanapp.applications.models import Application, ApplicationDecision
    from loanapp.applications.operations import decide
    from loanapp.applications.rules import DecisionInput
    from loanapp.extensions import db

    application_id, version, officer_ids = _prepare(live_app, accepted=False)
    choices = (
        DecisionInput(kind="approve", amount=Decimal("8500.00"), annual_rate=Decimal("7.50"), term_months=48),
        DecisionInput(kind="decline", reasons=("insufficient_income",)),
    )

    def work(i: int) -> str:
        application = db.session.get(Application, application_id)
        officer = db.session.get(User, officer_ids[i])
        return decide(application, version=version, data=choices[i], actor=officer).kind  # type: ignore[arg-type]

    results = _at_once(live_app, work)
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if isinstance(r, StaleApplication)]
    assert len(winners) == 1 and len(losers) == 1, results
    with live_app.app_context():
        decisions = db.session.query(ApplicationDecision).filter_by(application_id=application_id).all()
        assert [d.kind for d in decisions] == winners


def test_two_officers_booking_at_the_same_instant_book_one_loan(live_app: Flask) -> None:
    from loanapp.accounts.models import User
    from loanapp.applications.errors import LoanAlreadyBooked, StaleApplication
    from loanapp.applications.models import Application
    from loanapp.clock import business_date
    from loanapp.extensions import db
    from loanapp.loans.models import Loan
    from loanapp.loans.operations import book_loan, default_booking_dates
    from reserve.schema import TransactionRow

    application_id, version, officer_ids = _prepare(live_app, accepted=True)

    def work(i: int) -> int:
        application = db.session.get(Application, application_id)
        officer = db.session.get(User, officer_ids[i])
        loan = book_loan(
            application,  # type: ignore[arg-type]
            version=version,
            data=default_booking_dates(business_date()),
            actor=officer,  # type: ignore[arg-type]
        )
        return loan.id

    results = _at_once(live_app, work)
    booked = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, LoanAlreadyBooked | StaleApplication)]
    assert len(booked) == 1 and len(refused) == 1, results
    with live_app.app_context():
        assert db.session.query(Loan).count() == 1
        commitments = db.session.query(TransactionRow).filter(TransactionRow.kind == "commitment").count()
        assert commitments == 1
