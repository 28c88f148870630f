"""Browser journey: an officer opens the worklist, calls a late borrower, logs a promise, the promise
is kept by a payment; a second borrower gets a one-month deferral and is current again with the
preview's exact figures; that borrower's phone shows the plan in Spanish.

Set ``COLLECTIONS_SHOTS=/some/dir`` to keep screenshots of the pages on the way.
"""

from __future__ import annotations

import datetime as dt
import os
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

FIRST = ("promise.worker@example.org", "promise-pass-123")
SECOND = ("deferral.worker@example.org", "deferral-pass-123")
OFFICER = ("officer@demo.coopfed.org", "officer-demo-pass")


def _two_late_loans(app: Any) -> dict[str, Any]:
    from loanapp.accounts.models import User
    from loanapp.accounts.operations import create_user
    from loanapp.clock import business_date
    from loanapp.extensions import db
    from risk.dates import add_months
    from tests.app.collections.conftest import book
    from tests.app.servicing.conftest import fund, pay

    with app.test_request_context():
        today = business_date()
        people = {
            role: db.session.scalar(db.select(User).where(User.role == role).limit(1))
            for role in ("officer", "staff")
        }
        people["first"] = create_user(FIRST[0], FIRST[1], "worker", "Rosa Delgado")
        people["second"] = create_user(SECOND[0], SECOND[1], "worker", "José Hernández")
        fund(people, "50000.00")
        booked_on = add_months(today, -2) - dt.timedelta(days=10)
        loans = {}
        for who, first, last, phone in (
            ("first", "Rosa", "Delgado", "(315) 555-0161"),
            ("second", "José", "Hernández", "(315) 555-0172"),
        ):
            loan = book(
                people, worker=who, booked_on=booked_on, first_name=first, last_name=last, phone=phone
            )
            pay(loan, str(loan.payment_amount), loan.first_payment_date, people["officer"])
            loans[who] = (loan.id, f"{Decimal(loan.payment_amount):.2f}")
        db.session.commit()
        return {"loans": loans, "today": today}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from loanapp import create_app

    server_url = databases.requested_url()
    if databases.is_postgres(server_url):
        url = databases.create_postgres_database(server_url, prefix="loanapp_e2e_collections")  # type: ignore[arg-type]
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("e2e-collections") / "e2e.sqlite")
    databases.migrate(url, PASSWORD_HASH_METHOD=FAST_HASH)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "e2e-collections-secret",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("e2e-collections-uploads")),
            "DEMO_HISTORY_LOANS": 0,
        }
    )
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    data = _two_late_loans(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{server.server_port}", **data}
    finally:
        server.shutdown()
        thread.join(timeout=10)
        from loanapp.extensions import db

        with app.app_context():
            db.engine.dispose()
        if databases.is_postgres(server_url):
            databases.drop_postgres_database(server_url, url)  # type: ignore[arg-type]


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("COLLECTIONS_SHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"collections-{name}.png"), full_page=True)


def test_worklist_call_promise_kept_and_a_one_month_deferral(browser: Any, served: dict[str, Any]) -> None:
    base, today = served["base"], served["today"]
    (first_id, first_payment), (second_id, _) = served["loans"]["first"], served["loans"]["second"]
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    try:
        officer = desk.new_page()
        officer.set_default_timeout(15_000)
        sign_in(officer, base, *OFFICER)
        officer.goto(f"{base}/collections/")
        row = officer.locator("tr", has_text="Rosa Delgado")
        assert "Past due" in row.inner_text()
        assert row.get_by_role("link", name="(315) 555-0161").get_attribute("href") == "tel:+13155550161"
        officer.get_by_label("Name, loan number or phone").fill("hernandez")
        officer.get_by_role("button", name="Show").click()
        officer.wait_for_url(re.compile(r"q=hernandez"))
        assert (
            officer.locator("tbody tr").count() == 1
            and "José Hernández" in officer.locator("tbody").inner_text()
        )
        _shot(officer, "worklist")

        # The call: logged, with a promise for the amount to catch up, due today.
        officer.goto(f"{base}/collections/loans/{first_id}")
        officer.get_by_text("Log a contact").click()
        officer.get_by_label("Outcome").select_option("promised")
        officer.get_by_label("Note").first.fill("Hours were cut; pays today after work")
        officer.get_by_role("button", name="Save to the log").click()
        officer.wait_for_url(re.compile(rf"/collections/loans/{first_id}#contacts$"))
        assert "Promised to pay" in officer.locator("#contacts").inner_text()
        officer.get_by_text("Record a promise").click()
        officer.get_by_label("Amount ($)").fill(first_payment)
        officer.get_by_label("Promised to pay by").fill(today.isoformat())
        officer.get_by_role("button", name="Record promise").click()
        officer.wait_for_url(re.compile(r"#promises$"))
        assert "Open" in officer.locator("#promises tbody").inner_text()
        _shot(officer, "loan")

        # The payment arrives: the promise is kept.
        officer.goto(f"{base}/servicing/loans/{first_id}")
        assert "(315) 555-0161" in officer.locator(".borrower-contact").inner_text()
        officer.get_by_label("Amount ($)").fill(first_payment)
        officer.get_by_role("button", name="Record payment").click()
        officer.wait_for_url(re.compile(rf"/servicing/loans/{first_id}$"))
        officer.goto(f"{base}/collections/loans/{first_id}")
        assert "Kept" in officer.locator("#promises tbody").inner_text()

        # The second borrower: a one-month deferral, previewed then confirmed.
        officer.goto(f"{base}/collections/loans/{second_id}")
        officer.get_by_text("Offer hardship help").click()
        officer.get_by_label("Kind of help").select_option("deferral")
        officer.get_by_label("Installments to move to the end (deferral)").fill("1")
        officer.get_by_label("Reason (the borrower's hardship)").fill("Plant on short weeks for a month")
        officer.get_by_role("button", name="See before and after").click()
        officer.wait_for_url(re.compile(r"/plans/preview$"))
        compare = officer.locator("table.compare")
        cells = {
            r.locator("th").inner_text(): [c.inner_text() for c in r.locator("td").all()]
            for r in compare.locator("tbody tr").all()
        }
        days = next(v for k, v in cells.items() if k.startswith("Days past due"))
        assert int(days[0]) > 0 and days[1] == "0"
        next_due, payment = cells["Next payment due"][1], cells["Monthly payment"][1]
        _shot(officer, "plan-preview")
        officer.get_by_role("button", name="Confirm the plan").click()
        officer.wait_for_url(re.compile(rf"/collections/loans/{second_id}#plans$"))
        assert "Payment deferral" in officer.locator("#plans tbody").inner_text()
        officer.goto(f"{base}/servicing/loans/{second_id}")
        figures = officer.locator("dl.figures").inner_text()
        assert re.search(r"Days past due\s+0", figures), figures
        assert f"{payment} on {next_due}" in figures, figures

        worker = phone.new_page()
        worker.set_default_timeout(15_000)
        sign_in(worker, base, *SECOND)
        worker.goto(f"{base}/language/es")
        worker.goto(f"{base}/my/loans/{second_id}")
        summary = worker.locator(".plan-summary").inner_text()
        assert "Su nuevo plan de pagos" in summary and "1 pago pasó al final de su préstamo" in summary
        assert worker.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        _shot(worker, "worker-plan-es")
    finally:
        desk.close()
        phone.close()
