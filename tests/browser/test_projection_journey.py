"""Browser journey: staff ask for a projection too big to answer at once; the web process's worker
thread runs it and the page, which follows the queued run, shows the fan chart and the scenarios."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_staff_queue_a_projection_and_the_page_shows_it_when_done(live_server, page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, "staff@demo.worktrain.org", "staff-demo-pass")
    page.goto(f"{live_server}/reserve/projections")
    page.get_by_label("Scenario").select_option("all")
    page.get_by_label("Monte Carlo paths").fill("3000")  # x 36 months x 5 scenarios: over the inline limit
    page.get_by_label("Horizon (months)").fill("36")
    page.get_by_label("Seed").fill("2026")
    page.get_by_role("button", name="Run").click()

    page.wait_for_url(re.compile(r"/reserve/projections\?run=\d+"))
    run_id = page.url.rsplit("=", 1)[1]
    # Queued, then run by the worker thread; the page refreshes itself every 5 seconds until then.
    page.get_by_text(f"Projection #{run_id} from the book on").wait_for(timeout=90_000)
    assert page.get_by_role("img", name=re.compile("Reserve available, base case")).count() == 1
    table = page.get_by_role("table").filter(has_text="Largest employer closes")
    assert table.count() == 1
    assert "seed 2026" in page.locator("main").inner_text() or "seed 2026" in page.content()


def test_a_projection_size_over_the_limit_is_refused_on_the_form(live_server, page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, "staff@demo.worktrain.org", "staff-demo-pass")
    page.goto(f"{live_server}/reserve/projections")
    page.get_by_label("Monte Carlo paths").fill("1000000000")
    page.get_by_role("button", name="Run").click()
    assert "more than the limit of 100,000" in page.locator("#paths-error").inner_text()
