from __future__ import annotations

import pytest

from loanapp.commands import DEMO_USERS
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

HEADINGS = {
    "worker": "Hello, Maria Lopez",
    "officer": "Credit-union officer",
    "staff": "Work Train staff",
    "admin": "Administrator",
}


def test_each_role_signs_in_and_sees_its_own_landing_page(live_server, page) -> None:  # type: ignore[no-untyped-def]
    for email, _name, role, password in DEMO_USERS:
        sign_in(page, live_server, email, password)
        page.wait_for_url(f"{live_server}/home")
        assert HEADINGS[role] in page.locator("h1").inner_text()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{live_server}/")


def test_wrong_password_shows_the_generic_message(live_server, page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, "officer@demo.coopfed.org", "wrong-password")
    assert page.get_by_role("alert").inner_text().strip() == "Email or password is not right."


def test_worker_reads_the_home_page_in_spanish(live_server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/")
    page.get_by_role("link", name="Español").click()
    assert page.locator("h1").inner_text() == "Un préstamo de auto para llegar a su trabajo"
