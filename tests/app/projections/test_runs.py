"""Asking for projections, running queued ones, the monthly snapshot, versioned assumptions, and the
comparisons of snapshots with each other and with the ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

import reserve
from loanapp.audit.models import AuditEvent
from loanapp.extensions import db
from loanapp.jobs import runner
from loanapp.projections import assumptions, compare, results, runs
from loanapp.projections.models import AssumptionSet, ProjectionRun
from risk.rollrate import DEFAULT_PRIOR, ProjectionError
from tests.app.servicing.conftest import make_loan, pay

TODAY = dt.date(2026, 6, 10)


@pytest.fixture
def book(people: dict[str, Any], funded: None, on_date: Any) -> list[Any]:
    """Four loans booked in January: two paying, one a month behind, one never paying."""
    on_date(TODAY)
    officer = people["officer"]
    loans = [make_loan(people, amount=amount) for amount in ("9000.00", "7000.00", "6000.00", "5000.00")]
    for day in (dt.date(2026, m, 5) for m in (2, 3, 4, 5, 6)):
        for loan in loans[:2]:
            pay(loan, str(loan.payment_amount), day, officer)
    for day in (dt.date(2026, m, 5) for m in (2, 3, 4, 5)):
        pay(loans[2], str(loans[2].payment_amount), day, officer)
    return loans


def small(**overrides: Any) -> runs.ProjectionRequest:
    values = {"paths": 300, "horizon_months": 24, **overrides.pop("overrides", {})}
    return runs.ProjectionRequest(overrides=values, **overrides)


def submit(request: runs.ProjectionRequest, people: dict[str, Any]) -> ProjectionRun:
    run = runs.submit(request, as_of=TODAY, actor=people["staff"], source="api")
    db.session.commit()
    return run


def count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


# --- requests ----------------------------------------------------------------------------------------


def test_a_small_request_runs_at_once_with_its_result_and_an_audit_event(
    book: list[Any], people: dict[str, Any]
) -> None:
    run = submit(small(seed=3), people)

    assert (run.status, run.progress, run.kind, run.seed) == ("succeeded", 100, "request", 3)
    document = run.result
    assert document["book"]["loans"] == 4
    assert document["book"]["available_cents"] == int(
        reserve.reserve_position(db.session, TODAY).available * 100
    )
    base = results.scenario_result(document, "base")
    assert base is not None and len(base["exhaustion_probability"]) == 24
    for p5, p50, p95 in zip(*base["available_cents"].values(), strict=True):
        assert p5 <= p50 <= p95
    probabilities = base["exhaustion_probability"]
    assert probabilities == sorted(probabilities)
    assert document["transitions"]["prior_source"] == DEFAULT_PRIOR.source
    assert sum(document["transitions"]["observed"]) > 0  # the book's own months are in the estimate
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "projection.requested"))
    assert event is not None and event.actor_id == people["staff"].id and event.entity_id == str(run.id)


def test_the_same_seed_gives_the_same_figures_and_another_seed_others(
    book: list[Any], people: dict[str, Any]
) -> None:
    first = submit(small(seed=11), people).result
    again = submit(small(seed=11), people).result
    other = submit(small(seed=12), people).result
    assert first == again
    assert first["scenarios"] != other["scenarios"]


def test_a_seed_is_drawn_and_kept_when_none_is_given(book: list[Any], people: dict[str, Any]) -> None:
    run = submit(small(), people)
    assert 0 <= run.seed < runs.SEED_LIMIT
    assert run.result["seed"] == run.seed


def test_one_scenario_runs_beside_the_base_case_and_all_runs_every_scenario(
    book: list[Any], people: dict[str, Any]
) -> None:
    one = submit(small(scenario="roll_rates_x2", seed=1), people).result
    assert [s["name"] for s in one["scenarios"]] == ["base", "roll_rates_x2"]
    base, doubled = one["scenarios"]
    assert doubled["total_claims"]["mean_cents"] > base["total_claims"]["mean_cents"]
    every = submit(small(scenario="all", seed=1, overrides={"paths": 100}), people).result
    assert [s["name"] for s in every["scenarios"]] == [
        "base",
        "largest_employer_closes",
        "roll_rates_x2",
        "no_new_grant_money",
        "recovery_rate_halves",
    ]


def test_a_big_request_is_queued_and_execute_runs_it_once(
    book: list[Any], people: dict[str, Any], app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PROJECTION_INLINE_MAX_WORK", 1000)
    run = submit(small(seed=5), people)
    assert (run.status, run.result) == ("queued", None)

    done = runs.execute(run.id)

    assert done is not None and done.status == "succeeded" and done.progress == 100
    assert runs.execute(run.id) is None  # already claimed: a second worker does nothing
    monkeypatch.setitem(app.config, "PROJECTION_INLINE_MAX_WORK", 10**9)
    assert done.result == submit(small(seed=5), people).result


def test_the_sweep_runs_what_is_queued_and_requeues_what_a_dead_process_left_running(
    book: list[Any], people: dict[str, Any], app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PROJECTION_INLINE_MAX_WORK", 1000)
    queued = submit(small(seed=5), people)
    stuck = submit(small(seed=6), people)
    stuck.status, stuck.started_at = "running", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    db.session.commit()

    assert runs.drain_queue() == [queued.id, stuck.id]
    assert {r.status for r in db.session.scalars(select(ProjectionRun))} == {"succeeded"}


def test_a_queued_run_that_fails_records_why_and_keeps_nothing_else(
    book: list[Any], people: dict[str, Any], app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PROJECTION_INLINE_MAX_WORK", 1000)
    run = submit(small(seed=5), people)

    def broken(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise ProjectionError("paths", "too many for today")

    monkeypatch.setattr(runs, "project", broken)
    failed = runs.execute(run.id)
    assert failed is not None
    assert (failed.status, failed.result, failed.error) == ("failed", None, "paths: too many for today")


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (small(overrides={"paths": 0}), "paths"),
        (small(overrides={"paths": -5}), "paths"),
        (small(overrides={"paths": 10**9}), "paths"),
        (small(overrides={"horizon_months": -3}), "horizon_months"),
        (small(overrides={"horizon_months": 121}), "horizon_months"),
        (small(overrides={"recovery_rate": "1.5"}), "recovery_rate"),
        (small(overrides={"layoff_probability": "-0.1"}), "layoff_probability"),
        (small(overrides={"recovery_rate": 0.5}), "recovery_rate"),  # a float: not exact
        (small(overrides={"bogus": 1}), "bogus"),
        (small(scenario="meteor_strike"), "scenario"),
        (small(seed=-1), "seed"),
        (small(transition_matrix=[[1, 0, 0, 0, 0, 0, 0]] * 7), "transition_matrix"),
        (
            small(
                transition_matrix=[[0.9, 0.2, 0, 0, 0, 0, 0]]
                + [[0, 0, 0, 0, 0, 1, 0]] * 4
                + [[0] * 5 + [1, 0], [0] * 6 + [1]]
            ),
            "transition_matrix",
        ),
        (small(stressed_matrix=[[1.5, -0.5, 0, 0, 0, 0, 0]] * 7), "stressed_matrix"),
        (small(transition_matrix="not a matrix"), "transition_matrix"),
    ],
)
def test_a_request_the_models_cannot_use_is_refused_naming_the_field_and_writes_nothing(
    book: list[Any], people: dict[str, Any], request_: runs.ProjectionRequest, field: str
) -> None:
    before = (count(ProjectionRun), count(AuditEvent))
    with pytest.raises((assumptions.AssumptionErrors, ProjectionError)) as refused:
        runs.submit(request_, as_of=TODAY, actor=people["staff"], source="api")
    error = refused.value
    fields = error.errors if isinstance(error, assumptions.AssumptionErrors) else {error.field: error.message}
    assert field in fields
    assert (count(ProjectionRun), count(AuditEvent)) == before


def test_an_empty_book_still_projects_the_pipeline_and_skips_the_largest_employer(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    on_date(TODAY)
    document = submit(small(scenario="all", seed=2, overrides={"paths": 100}), people).result
    assert document["book"]["loans"] == 0
    assert "largest_employer_closes" not in [s["name"] for s in document["scenarios"]]
    with pytest.raises(ProjectionError) as refused:
        runs.submit(small(scenario="largest_employer_closes"), as_of=TODAY, actor=None, source="api")
    assert refused.value.field == "scenario"


# --- assumptions --------------------------------------------------------------------------------------


def settings(app: Flask, **changes: Any) -> dict[str, Any]:
    values = dict(app.config["PROJECTION_ASSUMPTIONS"])
    values.update(changes)
    return values


def test_saving_assumptions_makes_an_audited_version_and_unchanged_values_save_nothing(
    app: Flask, people: dict[str, Any]
) -> None:
    staff = people["staff"]
    first, changes = assumptions.save(
        settings(app, recovery_rate="0.25"), actor=staff, note="auction prices", config=app.config
    )
    db.session.commit()
    assert first.version == 1 and changes == {
        "recovery_rate": (assumptions.defaults(app.config)["recovery_rate"], first_value("0.25"))
    }
    same, nothing = assumptions.save(
        settings(app, recovery_rate="0.25"), actor=staff, note="", config=app.config
    )
    assert same.id == first.id and nothing == {}
    second, _ = assumptions.save(
        settings(app, recovery_rate="0.25", originations_per_month=6), actor=staff, note="", config=app.config
    )
    db.session.commit()
    assert second.version == 2
    assert assumptions.values_of(assumptions.current_set(), app.config)["originations_per_month"] == 6
    events = list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "projection.assumptions_saved"))
    )
    assert [e.details["version"] for e in events] == [1, 2]
    assert events[0].details["changes"] == {"recovery_rate": {"from": "0.35", "to": "0.25"}}
    assert events[0].actor_id == staff.id


def first_value(text: str) -> Any:
    return assumptions.parse_value(assumptions.BY_NAME["recovery_rate"], text)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"recovery_rate": "2"}, "recovery_rate"),
        ({"paths": "lots"}, "paths"),
        ({"origination_amount": "12000.001"}, "origination_amount"),
        ({"paths": 10**9}, "paths"),  # within the setting's range, over the model's limit
        ({"layoff_months": "2.5"}, "layoff_months"),
    ],
)
def test_assumptions_that_cannot_run_are_not_saved(
    app: Flask, people: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    with pytest.raises((assumptions.AssumptionErrors, ProjectionError)) as refused:
        assumptions.save(settings(app, **changes), actor=people["staff"], note="", config=app.config)
    error = refused.value
    fields = error.errors if isinstance(error, assumptions.AssumptionErrors) else {error.field: error.message}
    assert field in fields
    assert count(AssumptionSet) == 0


def test_a_missing_setting_is_refused_when_saving(app: Flask, people: dict[str, Any]) -> None:
    values = settings(app)
    del values["recovery_rate"]
    with pytest.raises(assumptions.AssumptionErrors) as refused:
        assumptions.save(values, actor=people["staff"], note="", config=app.config)
    assert "recovery_rate" in refused.value.errors


def test_a_run_uses_and_names_the_saved_version(app: Flask, book: list[Any], people: dict[str, Any]) -> None:
    version, _ = assumptions.save(
        settings(app, recovery_rate="0.10"), actor=people["staff"], note="", config=app.config
    )
    run = submit(small(seed=4), people)
    assert run.assumption_set_id == version.id
    assert run.result["assumptions"]["recovery_rate"] == "0.10"
    overridden = submit(small(seed=4, overrides={"recovery_rate": "0.60"}), people)
    assert overridden.result["assumptions"]["recovery_rate"] == "0.60"
    assert overridden.overrides["recovery_rate"] == "0.60"
    loss = lambda r: r.result["expected"]["total_loss_cents"]  # noqa: E731
    assert loss(overridden) < loss(run)


# --- the monthly snapshot -----------------------------------------------------------------------------


def test_the_snapshot_job_projects_every_scenario_from_the_month_end_and_a_forced_rerun_replaces_it(
    app: Flask, book: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PROJECTION_ASSUMPTIONS", settings(app, paths=200))
    result = runner.run_job("projection_snapshot", dt.date(2026, 6, 1))
    assert result.outcome == runner.Outcome.SUCCEEDED, result.error
    assert result.counts["as_of"] == "2026-05-31"
    (snapshot,) = runs.snapshots()
    assert (snapshot.kind, snapshot.as_of, snapshot.scenario, snapshot.seed) == (
        "snapshot",
        dt.date(2026, 5, 31),
        "all",
        dt.date(2026, 5, 31).toordinal(),
    )
    assert len(snapshot.result["scenarios"]) == 5
    first = snapshot.result
    assert runner.run_job("projection_snapshot", dt.date(2026, 6, 1)).outcome == runner.Outcome.ALREADY_DONE

    again = runner.run_job("projection_snapshot", dt.date(2026, 6, 1), force=True)

    assert again.outcome == runner.Outcome.SUCCEEDED
    (replaced,) = runs.snapshots()
    assert replaced.result == first


def test_snapshots_compare_month_over_month_and_against_the_ledger(
    app: Flask, book: list[Any], people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PROJECTION_ASSUMPTIONS", settings(app, paths=200, horizon_months=12))
    for first_of_month in (dt.date(2026, 3, 1), dt.date(2026, 4, 1)):
        runner.run_job("projection_snapshot", first_of_month)
    latest, previous = runs.snapshots()
    assert (latest.as_of, previous.as_of) == (dt.date(2026, 3, 31), dt.date(2026, 2, 28))

    changes = {c.label: c for c in compare.month_over_month(latest.result, previous.result)}
    loans = changes["Loans in the book"]
    assert (loans.current, loans.previous, loans.change) == (4, 4, 0)
    outstanding = changes["Outstanding principal"]
    assert outstanding.current < outstanding.previous  # a month of payments

    tracked = compare.forecast_vs_actual(previous.result, TODAY)
    assert [m.month_end for m in tracked] == [
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 30),
        dt.date(2026, 5, 31),
    ]
    for month in tracked:
        position = reserve.reserve_position(db.session, month.month_end)
        assert month.actual_available == int(position.available * 100)
        assert month.actual_claims == 0
        assert month.available_p5 <= month.available_p50 <= month.available_p95
    assert compare.forecast_vs_actual(latest.result, dt.date(2026, 4, 29)) == []


def test_month_ends_follow_the_calendar() -> None:
    assert compare.month_end_after(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert compare.month_end_after(dt.date(2026, 12, 31), 2) == dt.date(2027, 2, 28)
    assert compare.month_end_after(dt.date(2027, 12, 31), 2) == dt.date(2028, 2, 29)
