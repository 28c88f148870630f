"""End to end in chromium: a worker applies in Spanish with SMS consent, the officer asks for a document,
the worker gets the Spanish email (a real SMTP server) and SMS (a local provider speaking the Messages
API), resets a forgotten password by SMS code, and signs in on an English browser to Spanish pages."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests import databases
from tests.browser.conftest import sign_in
from tests.conftest import FAST_HASH

pytestmark = pytest.mark.browser

OFFICER = ("officer@demo.coopfed.org", "officer-demo-pass")
EMAIL = "lucia.journey@example.org"


@pytest.fixture(scope="module")
def notices_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app served with live notices: email to aiosmtpd, SMS to the local provider."""
    from aiosmtpd.controller import Controller

    from loanapp import create_app
    from tests.app.notices.conftest import ACCOUNT, FROM, TOKEN, MailHandler, SmsProvider, _handler, free_port

    server_url = databases.requested_url()
    if databases.is_postgres(server_url):
        url = databases.create_postgres_database(server_url, prefix="loanapp_e2e_notices")  # type: ignore[arg-type]
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("e2e-notices") / "e2e.sqlite")
    mail = MailHandler()
    mail_port = free_port()
    controller = Controller(mail, hostname="127.0.0.1", port=mail_port)
    controller.start()
    provider = SmsProvider()
    sms = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    threading.Thread(target=sms.serve_forever, daemon=True).start()
    databases.migrate(url, PASSWORD_HASH_METHOD=FAST_HASH)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "e2e-secret",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("e2e-notices-uploads")),
            "DEMO_HISTORY_LOANS": 0,
            "NOTICES_TRANSPORT": "live",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": mail_port,
            "SMS_API_URL": f"http://127.0.0.1:{sms.server_address[1]}",
            "SMS_ACCOUNT_SID": ACCOUNT,
            "SMS_AUTH_TOKEN": TOKEN,
            "SMS_FROM": FROM,
            "SMS_QUIET_HOURS": ["00:00", "00:00", "America/New_York"],
        }
    )
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{server.server_port}", "app": app, "mail": mail, "sms": provider}
    finally:
        server.shutdown()
        thread.join(timeout=10)
        controller.stop()
        sms.shutdown()
        sms.server_close()
        from loanapp.extensions import db

        with app.app_context():
            db.engine.dispose()
        if databases.is_postgres(server_url):
            databases.drop_postgres_database(server_url, url)  # type: ignore[arg-type]


def _send(app: Any) -> dict[str, Any]:
    """What the scheduler does every minute: ``flask --app loanapp run-job notices``."""
    result = app.test_cli_runner().invoke(args=["run-job", "notices"])
    assert result.exit_code == 0, result.output
    return {"output": result.output}


def _fill(page: Any) -> None:
    values = {
        "first_name": "Lucía",
        "last_name": "Martínez",
        "date_of_birth": "1990-03-02",
        "ssn_last4": "5512",
        "phone": "315-555-0177",
        "street": "120 Gifford St",
        "city": "Syracuse",
        "postal_code": "13202",
        "household_size": "2",
        "offer_date": "2026-01-05",
        "start_date": "2026-02-02",
        "hourly_wage": "14.00",
        "hours_per_week": "40",
        "monthly_income": "2400",
        "monthly_debts": "100",
        "vehicle_year": "2016",
        "vehicle_make": "Toyota",
        "vehicle_model": "Corolla",
        "vehicle_mileage": "90000",
        "vehicle_price": "8500",
        "dealer_name": "Westside Auto",
        "requested_amount": "7000",
        "down_payment": "1500",
        "email": EMAIL,
        "password": "una-clave-larga-1",
    }
    page.locator("input[name=employment_status][value=job_offer]").check()
    page.locator("select[name=employer_id]").select_option(label="Cryomech")
    page.locator("input[name=sale_type][value=dealer]").check()
    for name, value in values.items():
        page.locator(f"[name={name}]").fill(value)
    page.locator("input[name=notify_by][value=both]").check()
    page.locator("input[name=sms_consent]").check()
    page.locator("input[name=consent]").check()


def test_spanish_worker_gets_sms_and_email_resets_by_code_and_keeps_spanish(
    notices_server: dict[str, Any], browser: Any
) -> None:
    base, app = notices_server["base"], notices_server["app"]
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-US")
    page = phone.new_page()
    page.set_default_timeout(15_000)

    # The worker applies in Spanish, choosing email and texts, and agrees to texts.
    page.goto(f"{base}/language/es?next=/apply")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_text("Cómo nos comunicamos con usted").is_visible()
    assert page.locator("input[name=language][value=es]").is_checked()
    _fill(page)
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_url(re.compile(r".*/my-application/\d+$"))
    application_id = int(page.url.rsplit("/", 1)[1])
    assert "Llamar al (315) 476-1500" in page.content()  # the credit union's tap-to-call
    phone.close()

    # The officer asks for a pay stub, writing in the worker's language (shown on the page).
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    officer = desk.new_page()
    officer.set_default_timeout(15_000)
    sign_in(officer, base, *OFFICER)
    officer.goto(f"{base}/applications/{application_id}")
    assert "Español" in officer.content()
    officer.get_by_label("Pay stub").check()
    officer.get_by_label("Message to the worker").fill("Envíe por favor su talón de pago más reciente.")
    officer.get_by_role("button", name="Request documents").click()
    officer.wait_for_url(re.compile(rf".*/applications/{application_id}$"))
    desk.close()

    _send(app)
    mail = notices_server["mail"].messages
    subjects = [m["Subject"] for m in mail]
    assert "Recibimos su solicitud de préstamo de auto" in subjects
    assert "Necesitamos un documento para continuar con su solicitud" in subjects
    request = next(m for m in mail if m["Subject"].startswith("Necesitamos"))
    assert "Envíe por favor su talón de pago más reciente." in request.get_content()
    texts = [m["Body"] for m in notices_server["sms"].received if m["To"] == "+13155550177"]
    assert any("necesitamos: Talón de pago" in t for t in texts), texts

    # On an English browser, the worker has forgotten the password and resets it by SMS code.
    english = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = english.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Your email or mobile number").fill("(315) 555-0177")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r".*/password/code.*"))
    _send(app)
    code_text = notices_server["sms"].received[-1]["Body"]
    assert "su código para restablecer la contraseña es" in code_text
    code = re.search(r"\b(\d{6})\b", code_text).group(1)  # type: ignore[union-attr]
    page.get_by_label("The 6-digit code we texted you").fill(code)
    page.get_by_label("New password", exact=True).fill("nueva-clave-2026")
    page.get_by_label("The new password again").fill("nueva-clave-2026")
    page.get_by_role("button", name="Save my new password").click()
    page.wait_for_url(f"{base}/login")
    sign_in(page, base, EMAIL, "nueva-clave-2026")
    page.wait_for_url(f"{base}/home")
    page.goto(f"{base}/my/messages")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Lo que le enviamos").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    english.close()
