"""End-to-end tests: the real app served on 127.0.0.1 in a thread, driven by Playwright in Debian's chromium.

The served app has its own database (the test-session database is rolled back per test and cannot be
shared with a server thread), built by the migrations and seeded with the demo data.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests import databases
from tests.conftest import FAST_HASH

CHROMIUM = "/usr/bin/chromium"
#: The served app of each live server, by its URL: a test may prepare data the demo lacks.
LIVE_APPS: dict[str, Any] = {}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from loanapp import create_app

    server_url = databases.requested_url()
    if databases.is_postgres(server_url):
        url = databases.create_postgres_database(server_url, prefix="loanapp_e2e")  # type: ignore[arg-type]
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("e2e") / "e2e.sqlite")
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "e2e-secret",
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("e2e-uploads")),
        "DEMO_HISTORY_LOANS": 0,  # the journeys need the demo's people, not its two years of history
    }
    databases.migrate(url, PASSWORD_HASH_METHOD=FAST_HASH)
    app = create_app(config)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    LIVE_APPS[base] = app
    try:
        yield base
    finally:
        LIVE_APPS.pop(base, None)
        server.shutdown()
        thread.join(timeout=10)
        from loanapp.extensions import db

        with app.app_context():
            db.engine.dispose()
        if databases.is_postgres(server_url):
            databases.drop_postgres_database(server_url, url)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: scripts/test installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")  # a phone
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
