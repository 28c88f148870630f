"""Browser journey: a worker answers a check-in on a phone in Spanish; staff see it in the outcome report.

The server is the real app on 127.0.0.1 with a database of its own: the demo data (with its demo
check-ins), plus a worker with a known password whose loan's three-month check-in is due.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests import databases
from tests.browser.conftest import sign_in
from tests.conftest import FAST_HASH

pytestmark = pytest.mark.browser

WORKER = ("checkin.worker@example.org", "checkin-pass-123")
STAFF = ("staff@demo.worktrain.org", "staff-demo-pass")
SHOTS = "/work/notes/shots"


def _due_loan(app: Any) -> int:
    """A loan booked three months and three days ago for a new worker, its check-ins scheduled."""
    from loanapp.accounts.models import User
    from loanapp.accounts.operations import create_user
    from loanapp.clock import business_date
    from loanapp.extensions import db
    from loanapp.outcomes.operations import refresh_all
    from risk.dates import add_months
    from tests.app.servicing.conftest import fund, make_loan

    with app.test_request_context():
        today = business_date()
        worker = create_user(WORKER[0], WORKER[1], "worker", "Check-in Worker")
        people = {
            role: db.session.scalar(db.select(User).where(User.role == role).limit(1))
            for role in ("officer", "staff")
        }
        people["worker"] = worker
        fund(people, "50000.00")
        loan = make_loan(people, booked_on=add_months(today, -3) - dt.timedelta(days=3))
        refresh_all(today)
        db.session.commit()
        return int(loan.id)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    from loanapp import create_app

    server_url = databases.requested_url()
    if databases.is_postgres(server_url):
        url = databases.create_postgres_database(server_url, prefix="loanapp_e2e_outcomes")  # type: ignore[arg-type]
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("e2e-outcomes") / "e2e.sqlite")
    databases.migrate(url, PASSWORD_HASH_METHOD=FAST_HASH)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "e2e-outcomes-secret",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("e2e-outcomes-uploads")),
            "DEMO_HISTORY_LOANS": 0,
        }
    )
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    loan_id = _due_loan(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", loan_id
    finally:
        server.shutdown()
        thread.join(timeout=10)
        from loanapp.extensions import db

        with app.app_context():
            db.engine.dispose()
        if databases.is_postgres(server_url):
            databases.drop_postgres_database(server_url, url)  # type: ignore[arg-type]


def _shot(page: Any, name: str) -> None:
    if os.path.isdir(SHOTS):
        page.screenshot(path=f"{SHOTS}/outcomes-{name}.png", full_page=True)


def _reached_at_3_months(page: Any) -> int:
    row = page.locator("#total-table tbody tr").first.inner_text()
    assert row.startswith("3 months"), row
    return int(row.split()[2])


def test_a_worker_answers_a_check_in_in_spanish_and_staff_see_it_in_the_report(
    browser: Any, served: tuple[str, int]
) -> None:
    base, loan_id = served
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-ES")
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        staff = desk.new_page()
        staff.set_default_timeout(15_000)
        sign_in(staff, base, *STAFF)
        staff.goto(f"{base}/reports/outcomes")
        before = _reached_at_3_months(staff)

        worker = phone.new_page()
        worker.set_default_timeout(15_000)
        worker.goto(f"{base}/login")
        worker.locator("#email").fill(WORKER[0])
        worker.locator("#password").fill(WORKER[1])
        worker.locator("form button[type=submit]").last.click()
        worker.goto(f"{base}/my/loans/{loan_id}")
        worker.get_by_role("link", name="Contestar el seguimiento").click()
        worker.wait_for_url(re.compile(rf"/my/loans/{loan_id}/check-in$"))
        _shot(worker, "worker-check-in-es")
        wide = worker.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth)"
            ".map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
        )
        assert worker.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide
        worker.get_by_role("radio", name="Sí").first.check()
        worker.get_by_label("Pago por hora ($)").fill("250")
        worker.get_by_label("Horas en una semana normal").fill("40")
        worker.locator("input[name=started_job][value=yes]").check()
        worker.get_by_label("Si contestó sí: el día en que empezó").fill(
            worker.locator("#started_on").get_attribute("max") or ""
        )
        worker.get_by_role("radio", name="El auto de este préstamo").check()
        worker.locator("input[name=car_running][value=yes]").check()
        worker.get_by_role("button", name="Enviar mis respuestas").click()
        assert "de $0 a $200" in worker.locator("#hourly_wage-error").inner_text()
        _shot(worker, "worker-check-in-es-error")
        worker.get_by_label("Pago por hora ($)").fill("15.75")
        worker.get_by_role("button", name="Enviar mis respuestas").click()
        worker.wait_for_url(re.compile(rf"/my/loans/{loan_id}$"))
        assert "¡Gracias!" in worker.locator(".flash").first.inner_text()
        assert worker.get_by_role("link", name="Contestar el seguimiento").count() == 0

        staff.reload()
        assert _reached_at_3_months(staff) == before + 1
        _shot(staff, "staff-report")
        staff.goto(f"{base}/outcomes/check-ins")
        _shot(staff, "staff-due-list")
    finally:
        phone.close()
        desk.close()
