"""Issue #17, item 2: projection requests are bounded by their estimated memory and time (the roll-rate
draws included), a web process runs one projection at a time, and one user's queue is capped."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from loanapp.projections import runs
from loanapp.projections.models import ProjectionRun
from risk.projection import Assumptions
from risk.projection.model import check_work, estimate_cost
from risk.rollrate import ProjectionError
from tests.app.projections.test_api import book, counts, post  # noqa: F401  (book: a fixture)

URL = "/api/v1/projections"
with_book = pytest.mark.usefixtures("book")


def test_the_estimate_grows_with_draws_months_and_paths() -> None:
    base = Assumptions(paths=10_000, horizon_months=36, parameter_draws=20)
    cost = estimate_cost(base, n_groups=173, n_classes=53)
    # Measured (bench/projection_memory.py, 300 loans): 117 MB above the process; the estimate is above.
    assert 117 * 2**20 < cost.bytes < 300 * 2**20
    draws = estimate_cost(Assumptions(paths=10_000, horizon_months=36, parameter_draws=200), 173, 53)
    months = estimate_cost(Assumptions(paths=10_000, horizon_months=120, parameter_draws=20), 173, 53)
    assert draws.bytes > 853 * 2**20  # measured 853 MB
    assert months.bytes > 1312 * 2**20  # measured 1,312 MB
    assert estimate_cost(Assumptions(paths=100_000, parameter_draws=20), 173, 53).seconds > cost.seconds


def test_the_model_refuses_a_run_above_the_memory_ceiling_before_any_work() -> None:
    """The attack: parameter_draws=200 over 120 months, about 9 GB, killed the web process."""
    heavy = Assumptions(paths=10_000, horizon_months=120, parameter_draws=200, max_work=10**12)
    with pytest.raises(ProjectionError) as refused:
        check_work(heavy, n_groups=173, n_classes=53)
    assert refused.value.field == "parameter_draws" and "MB" in refused.value.message
    assert check_work(Assumptions(paths=10_000, parameter_draws=20), 173, 53).bytes < heavy.max_bytes


@with_book
def test_the_api_refuses_a_request_above_the_memory_ceiling_with_422(
    client: Any,
    token_for: Any,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    monkeypatch.setitem(app.config, "PROJECTION_MAX_MEMORY_BYTES", 80 * 2**20)
    before = counts()
    response = post(
        client,
        token_for("staff"),
        {"paths": 300, "horizon_months": 120, "assumptions": {"parameter_draws": 200}},
    )
    assert response.status_code == 422, response.get_json()
    assert "assumptions.parameter_draws" in response.get_json()["errors"]
    assert counts() == before


@with_book
def test_one_users_queue_is_capped(
    client: Any,
    token_for: Any,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    monkeypatch.setitem(app.config, "PROJECTION_INLINE_MAX_WORK", 1)  # everything queues
    monkeypatch.setitem(app.config, "PROJECTION_MAX_QUEUED_PER_USER", 2)
    staff = token_for("staff")
    assert [post(client, staff, {"paths": 300}).status_code for _ in range(2)] == [202, 202]
    third = post(client, staff, {"paths": 300})
    assert third.status_code == 422 and "waiting or running" in third.get_json()["errors"]["paths"][0]
    # Another person still gets in.
    assert post(client, token_for("admin"), {"paths": 300}).status_code == 202


@with_book
def test_a_small_request_is_queued_while_another_projection_runs_in_the_process(
    client: Any,
    token_for: Any,
    app: Flask,  # noqa: F811
) -> None:
    assert runs.HEAVY.acquire(blocking=False)
    try:
        response = post(client, token_for("staff"), {"paths": 300})
    finally:
        runs.HEAVY.release()
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        from loanapp.extensions import db

        run = db.session.get(ProjectionRun, response.get_json()["id"])
        assert run is not None and run.status == "queued"
