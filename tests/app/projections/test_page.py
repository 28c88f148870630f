"""The staff projection page and the assumptions form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from loanapp.extensions import db
from loanapp.jobs import runner
from loanapp.projections import runs
from loanapp.projections.models import AssumptionSet, ProjectionRun
from tests.app.projections.test_runs import TODAY, book, settings  # noqa: F401 (fixture)

PAGE = "/reserve/projections"


def runs_stored() -> int:
    return int(db.session.scalar(select(func.count()).select_from(ProjectionRun)))


def test_the_page_says_when_there_is_no_projection_yet(client: FlaskClient, auth: Any, on_date: Any) -> None:
    on_date(TODAY)
    auth.login("staff")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert b"No projection has been run" in page.data
    assert b"No monthly snapshot yet" in page.data


@pytest.mark.usefixtures("book")
def test_running_a_projection_from_the_page_shows_its_figures(client: FlaskClient, auth: Any) -> None:
    auth.login("staff")
    answer = client.post(
        f"{PAGE}/runs", data={"scenario": "all", "paths": "200", "horizon_months": "24", "seed": "9"}
    )
    assert answer.status_code == 302
    run = db.session.scalar(select(ProjectionRun))
    assert answer.headers["Location"].endswith(f"{PAGE}?run={run.id}")

    page = client.get(answer.headers["Location"])

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"Projection #{run.id}" in text and "4 loans" in text and "seed 9" in text
    assert text.count("<svg") == 4  # fan, scenarios, expected claims, distribution of claims
    for title in ("Base case", "Largest employer closes", "Roll rates double", "Recovery rate halves"):
        assert title in text
    assert "Cryomech" in text  # concentration by employer
    assert "Loan-months seen" in text
    # The decision figure, the sampling error on each chance, one expected-claims figure.
    assert "Grant needed" in text and "The target and the month are assumptions staff can change" in text
    assert "points" in text or "no path of 200 ran out" in text
    assert "Expected claims over 24 months" in text and "mean of the paths" in text
    assert "average case" in text and "Mean claims" not in text
    assert "Same as the base case: the assumptions already expect no new grant money." in text


@pytest.mark.usefixtures("book")
def test_a_bad_run_form_is_shown_again_with_messages_and_nothing_stored(
    client: FlaskClient, auth: Any
) -> None:
    auth.login("staff")
    for data, message in (
        ({"paths": "0", "horizon_months": "36"}, "Must be at least 1"),
        ({"paths": "1000000000", "horizon_months": "36"}, "more than the limit of 100,000"),
        ({"paths": "100", "horizon_months": "-2"}, "Must be between 1"),
        ({"paths": "100", "horizon_months": "36", "seed": "abc"}, "Enter a whole number"),
    ):
        answer = client.post(f"{PAGE}/runs", data={"scenario": "base", **data})
        assert answer.status_code == 422
        assert message in answer.get_data(as_text=True)
    assert runs_stored() == 0


@pytest.mark.usefixtures("book")
def test_a_queued_run_is_followed_until_it_is_done(
    client: FlaskClient, auth: Any, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PROJECTION_INLINE_MAX_WORK", 10)
    auth.login("staff")
    answer = client.post(f"{PAGE}/runs", data={"scenario": "base", "paths": "100", "horizon_months": "12"})
    run = db.session.scalar(select(ProjectionRun))
    waiting = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "is\n  <strong>queued</strong>" in waiting and 'http-equiv="refresh"' in waiting

    runs.execute(run.id)

    done = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in done and f"Projection #{run.id}" in done


@pytest.mark.usefixtures("ctx")
def test_staff_change_the_assumptions_as_a_new_version(client: FlaskClient, auth: Any, app: Flask) -> None:
    auth.login("staff")
    form = client.get(f"{PAGE}/assumptions")
    assert form.status_code == 200 and b"Recovery rate" in form.data
    data = {k: str(v) for k, v in settings(app, recovery_rate="0.30").items()}

    saved = client.post(f"{PAGE}/assumptions", data={**data, "note": "auction prices fell"})

    assert saved.status_code == 302
    version = db.session.scalar(select(AssumptionSet))
    assert (version.version, version.values["recovery_rate"], version.note) == (
        1,
        "0.30",
        "auction prices fell",
    )
    page = client.get(f"{PAGE}/assumptions").get_data(as_text=True)
    assert "auction prices fell" in page and 'value="0.30"' in page


@pytest.mark.usefixtures("ctx")
def test_bad_assumptions_are_shown_again_with_messages_and_not_saved(
    client: FlaskClient, auth: Any, app: Flask
) -> None:
    auth.login("staff")
    data = {k: str(v) for k, v in settings(app, recovery_rate="1.5", layoff_months="").items()}
    answer = client.post(f"{PAGE}/assumptions", data=data)
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "Must be a probability between 0 and 1" in text and "Enter a value" in text
    assert db.session.scalar(select(func.count()).select_from(AssumptionSet)) == 0


@pytest.mark.parametrize(
    ("role", "read", "write"), [("admin", 200, 403), ("officer", 403, 403), ("worker", 403, 403)]
)
def test_only_staff_change_assumptions_and_officers_and_workers_see_no_projections(
    client: FlaskClient, auth: Any, app: Flask, role: str, read: int, write: int
) -> None:
    auth.login(role)
    assert client.get(PAGE).status_code == read
    assert client.get(f"{PAGE}/assumptions").status_code == read
    data = {k: str(v) for k, v in settings(app).items()}
    assert client.post(f"{PAGE}/assumptions", data=data).status_code == write


@pytest.mark.usefixtures("book")
def test_the_page_compares_snapshots_and_tracks_the_forecast(
    client: FlaskClient, auth: Any, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PROJECTION_ASSUMPTIONS", settings(app, paths=100, horizon_months=12))
    for first_of_month in (dt.date(2026, 3, 1), dt.date(2026, 4, 1)):
        runner.run_job("projection_snapshot", first_of_month)
    auth.login("staff")
    text = client.get(PAGE).get_data(as_text=True)
    assert "Monthly snapshots of 2026-03-31 and 2026-02-28" in text
    assert "Changes in a probability are in percentage points" in text
    assert "percentage points" in text or "no change" in text
    assert "Snapshot of 2026-02-28, base case, against the ledger" in text
    assert text.count("2026-05-31") >= 1  # a tracked month end


def test_an_unknown_run_is_not_found(client: FlaskClient, auth: Any) -> None:
    auth.login("staff")
    assert client.get(f"{PAGE}?run=999999").status_code == 404


def test_a_change_in_probability_is_in_percentage_points_and_each_chance_has_its_sampling_error() -> None:
    from loanapp.projections.views import margin_note, points

    assert points(0.034) == "+3.4 percentage points" and points(-0.1) == "−10.0 percentage points"
    assert points(0.0) == "no change" and points(None) == "—"
    assert margin_note(0.1, 10_000) == "± 0.6 points"  # 1.96 x sqrt(0.09 / 10,000) = 0.59 points
    assert (
        margin_note(0.0, 500) == "no path of 500 ran out"
        and margin_note(1.0, 500) == "every path of 500 ran out"
    )
