"""Browser journey: an officer records a late payment; the worker's loan page (on a phone) shows it.

The server is the real app on 127.0.0.1 with a database of its own: the demo data, plus a worker with
a known password whose loan is a payment behind.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests import databases
from tests.browser.conftest import sign_in
from tests.conftest import FAST_HASH

pytestmark = pytest.mark.browser

WORKER = ("journey.worker@example.org", "journey-pass-123")
OFFICER = ("officer@demo.coopfed.org", "officer-demo-pass")


def _late_loan(app: Any) -> tuple[int, str]:
    """Book a loan two months and ten days ago for a new worker, with only its first payment made."""
    from loanapp.accounts.models import User
    from loanapp.accounts.operations import create_user
    from loanapp.clock import business_date
    from loanapp.extensions import db
    from risk.dates import add_months
    from tests.app.servicing.conftest import fund, make_loan, pay

    with app.test_request_context():
        today = business_date()
        worker = create_user(WORKER[0], WORKER[1], "worker", "Journey Worker")
        people = {
            role: db.session.scalar(db.select(User).where(User.role == role).limit(1))
            for role in ("officer", "staff")
        }
        people["worker"] = worker
        fund(people, "50000.00")
        booked_on = add_months(today, -2) - dt.timedelta(days=10)
        loan = make_loan(people, booked_on=booked_on)
        pay(loan, str(loan.payment_amount), loan.first_payment_date, people["officer"])
        db.session.commit()
        return loan.id, f"{Decimal(loan.payment_amount):.2f}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, str]]:
    from loanapp import create_app

    server_url = databases.requested_url()
    if databases.is_postgres(server_url):
        url = databases.create_postgres_database(server_url, prefix="loanapp_e2e_servicing")  # type: ignore[arg-type]
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("e2e-servicing") / "e2e.sqlite")
    databases.migrate(url, PASSWORD_HASH_METHOD=FAST_HASH)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "e2e-servicing-secret",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("e2e-servicing-uploads")),
            "DEMO_HISTORY_LOANS": 0,
        }
    )
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    loan_id, installment = _late_loan(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", loan_id, installment
    finally:
        server.shutdown()
        thread.join(timeout=10)
        from loanapp.extensions import db

        with app.app_context():
            db.engine.dispose()
        if databases.is_postgres(server_url):
            databases.drop_postgres_database(server_url, url)  # type: ignore[arg-type]


def test_an_officer_records_a_late_payment_and_the_workers_page_shows_it(
    browser: Any, served: tuple[str, int, str]
) -> None:
    base, loan_id, installment = served
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        worker = phone.new_page()
        worker.set_default_timeout(15_000)
        sign_in(worker, base, *WORKER)
        worker.goto(f"{base}/my/loans/{loan_id}")
        standing = worker.locator(".standing").first
        late_text = standing.inner_text()
        assert re.search(r"You are \d+ days? late\.", late_text), late_text
        assert f"Pay ${installment} to catch up." in late_text

        officer = desk.new_page()
        officer.set_default_timeout(15_000)
        sign_in(officer, base, *OFFICER)
        officer.goto(f"{base}/servicing/loans/{loan_id}")
        officer.get_by_label("Amount ($)").fill(installment)
        officer.get_by_label("Method").select_option("check")
        officer.get_by_label("Reference (check number, core system id)").fill("CHK 2231")
        officer.get_by_role("button", name="Record payment").click()
        officer.wait_for_url(re.compile(rf"/servicing/loans/{loan_id}$"))
        assert f"Payment of ${installment}" in officer.locator(".flash").first.inner_text()
        assert "CHK 2231" in officer.locator("#payments").inner_text()

        worker.reload()
        now = worker.locator(".standing").first.inner_text()
        assert "You are up to date." in now, now
        assert worker.locator(".payment-list li").count() == 2
        worker.locator("summary", has_text="Every payment").click()
        assert worker.get_by_text("✓ Paid").count() == 2
    finally:
        phone.close()
        desk.close()
