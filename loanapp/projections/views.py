"""The staff projection page: the latest projection, scenarios side by side, the roll-rate estimate,
concentration by employer, this month against last and the forecast against what happened; the
assumptions form and its versions. Views parse, call ``runs``/``assumptions``, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from loanapp import charts
from loanapp.access import roles
from loanapp.accounts.models import User
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.formatting import money
from loanapp.projections import assumptions, compare, runs, worker
from loanapp.projections.forms import AssumptionsForm, RunForm, add_errors
from loanapp.projections.models import AssumptionSet, ProjectionRun
from loanapp.projections.results import scenario_result
from risk.money import from_cents
from risk.rollrate import State
from risk.scenarios import SCENARIOS

bp = Blueprint("projections", __name__, url_prefix="/reserve/projections")

STATE_LABELS = ("Current", "30-59", "60-89", "90-119", "120+", "Charged off", "Paid off")
SERIES_CLASSES = ("series-1", "series-2", "series-3", "series-4", "series-5")


def _dollars(values: Sequence[int]) -> list[Decimal]:
    return [from_cents(v) for v in values]


def _axis(v: Decimal) -> str:
    return money(v).split(".")[0]


def _month_labels(as_of: dt.date, horizon: int, *, with_now: bool) -> list[str]:
    labels = [compare.month_end_after(as_of, k).strftime("%b %y") for k in range(1, horizon + 1)]
    return ["Now", *labels] if with_now else labels


def fan_chart(document: Mapping[str, Any], scenario: str = "base") -> Any:
    """Reserve available: the P5-P95 band, the median, and today's figure as the starting point."""
    entry = scenario_result(document, scenario)
    if entry is None:
        return None
    today = document["book"]["available_cents"]
    band = entry["available_cents"]
    as_of = dt.date.fromisoformat(document["as_of"])
    horizon = len(band["p50"])
    return charts.render(
        charts.Chart(
            title=f"Reserve available, {entry['title'].lower()}: 5th to 95th percentile and median",
            x_labels=_month_labels(as_of, horizon, with_now=True),
            bands=[
                charts.Band(
                    "5th-95th percentile", _dollars([today, *band["p5"]]), _dollars([today, *band["p95"]])
                )
            ],
            series=[
                charts.Series("Median", _dollars([today, *band["p50"]]), "series-1"),
                charts.Series("Mean", _dollars([today, *entry["mean_available_cents"]]), "series-3"),
            ],
            y_format=_axis,
            notes=(f"Today's available: {money(from_cents(today))}.",),
        )
    )


def claims_chart(document: Mapping[str, Any]) -> Any:
    """Expected claims paid each month: the mean over the simulated paths (the page's one figure)."""
    entry = scenario_result(document, "base")
    if entry is None:
        return None
    cumulative = entry["mean_cumulative_claims_cents"]
    monthly = [b - a for a, b in zip([0, *cumulative], cumulative, strict=False)]
    as_of = dt.date.fromisoformat(document["as_of"])
    return charts.render(
        charts.Chart(
            title="Expected claims paid by month (base case, mean of the simulated paths)",
            x_labels=_month_labels(as_of, len(monthly), with_now=False),
            series=[charts.Series("Expected claims", _dollars(monthly), "series-2")],
            y_format=_axis,
            bars=True,
        )
    )


def margin_note(probability: float | None, paths: int) -> str:
    """The sampling error of a probability, in words for the page."""
    if probability is None:
        return ""
    if probability <= 0:
        return f"no path of {paths:,} ran out"
    if probability >= 1:
        return f"every path of {paths:,} ran out"
    error = compare.margin(probability, paths) or 0.0
    return f"± {error * 100:.1f} points"


def points(change: float | None) -> str:
    """A change in probability, in percentage points (never as a percent of a percent)."""
    if change is None:
        return "—"
    value = round(change * 100, 1)
    if value == 0:
        return "no change"
    return f"{value:+.1f} percentage points".replace("-", "−")


def exhaustion_chart(document: Mapping[str, Any]) -> Any:
    as_of = dt.date.fromisoformat(document["as_of"])
    entries = document["scenarios"]
    horizon = len(entries[0]["exhaustion_probability"])
    return charts.render(
        charts.Chart(
            title="Probability the reserve has run out, by month and scenario",
            x_labels=_month_labels(as_of, horizon, with_now=False),
            series=[
                charts.Series(
                    e["title"],
                    [Decimal(str(round(p * 100, 2))) for p in e["exhaustion_probability"]],
                    SERIES_CLASSES[i % len(SERIES_CLASSES)],
                )
                for i, e in enumerate(entries)
            ],
            y_format=lambda v: f"{v:.0f}%",
        )
    )


def claims_histogram(document: Mapping[str, Any], scenario: str = "base") -> Any:
    entry = scenario_result(document, scenario)
    if entry is None:
        return None
    totals = entry["total_claims"]
    edges = totals["histogram_edges_cents"]
    labels = [_axis(from_cents((lo + hi) // 2)) for lo, hi in zip(edges, edges[1:], strict=False)]
    return charts.render(
        charts.Chart(
            title=f"Total claims over the horizon across {document['paths']:,} paths ({entry['title'].lower()})",
            x_labels=labels,
            series=[charts.Series("Paths", totals["histogram_counts"], "series-4")],
            y_format=lambda v: f"{v:,.0f}",
            bars=True,
        )
    )


def scenario_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for entry in document["scenarios"]:
        figures = compare.headline(document, entry["name"])
        rows.append(
            {"name": entry["name"], "title": entry["title"], "description": entry["description"], **figures}
        )
    return rows


def transition_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    t = document["transitions"]
    return [
        {
            "state": STATE_LABELS[i],
            "cells": list(zip(t["matrix"][i], t["std"][i], strict=True)),
            "observed": t["observed"][i],
            "data_weight": t["data_weight"][i],
        }
        for i in range(len(t["observed"]))
    ]


def _requester_names(items: Sequence[ProjectionRun]) -> dict[int, str]:
    ids = {r.requested_by for r in items if r.requested_by is not None}
    if not ids:
        return {}
    return {
        row.id: row.email for row in db.session.execute(select(User.id, User.email).where(User.id.in_(ids)))
    }


def _run_form(values: Mapping[str, Any]) -> RunForm:
    form = RunForm()
    if request.method == "GET":
        form.paths.data = str(values["paths"])
        form.horizon_months.data = str(values["horizon_months"])
    return form


def _page(form: RunForm | None = None, status: int = 200) -> Any:
    config = current_app.config
    chosen = request.args.get("run", type=int)
    run = runs.get(chosen) if chosen else runs.latest()
    if chosen and run is None:
        abort(404)
    showing = run if run is not None and run.status == "succeeded" else runs.latest()
    document = showing.result if showing is not None else None
    snapshots = runs.snapshots(13)
    changes = (
        compare.month_over_month(snapshots[0].result, snapshots[1].result) if len(snapshots) >= 2 else []
    )
    since = request.args.get("since", type=int)
    baseline = next((s for s in snapshots if s.id == since), None) or (snapshots[-1] if snapshots else None)
    tracked = compare.forecast_vs_actual(baseline.result, business_date()) if baseline is not None else []
    recent = list(db.session.scalars(select(ProjectionRun).order_by(ProjectionRun.id.desc()).limit(10)))
    current_set = assumptions.current_set()
    values = assumptions.values_of(current_set, config)
    context: dict[str, Any] = {
        "run": run,
        "showing": showing,
        "document": document,
        "snapshots": snapshots,
        "changes": changes,
        "baseline": baseline,
        "tracked": tracked,
        "recent": recent,
        "requesters": _requester_names(recent),
        "current_set": current_set,
        "values": values,
        "settings": assumptions.SETTINGS,
        "form": form or _run_form(values),
        "scenarios": SCENARIOS,
        "points": points,
    }
    if document is not None:
        context.update(
            fan=fan_chart(document),
            claims=claims_chart(document),
            exhaustion=exhaustion_chart(document),
            histogram=claims_histogram(document),
            scenario_rows=scenario_rows(document),
            transition_rows=transition_rows(document),
            state_labels=STATE_LABELS,
            charged_off=int(State.CHARGED_OFF),
            base=compare.headline(document),
            grant=document.get("grant_needed"),
            margin_note=lambda p: margin_note(p, int(document["paths"])),
        )
    return render_template("projections/page.html", **context), status


@bp.get("")
@roles("staff", "admin")
def page():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("/runs")
@roles("staff", "admin")
def run_projection():  # type: ignore[no-untyped-def]
    """Ask for a projection with the saved assumptions, this form's size, scenario and seed."""
    form = RunForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    seed_text = (form.seed.data or "").strip()
    if seed_text and not seed_text.isdigit():
        add_errors(form, {"seed": ["Enter a whole number, or leave it empty."]})
        return _page(form, 422)
    request_ = runs.ProjectionRequest(
        scenario=form.scenario.data,
        seed=int(seed_text) if seed_text else None,
        overrides={"paths": form.paths.data, "horizon_months": form.horizon_months.data},
    )
    try:
        run = runs.submit(request_, as_of=business_date(), actor=current_user, source="page")
    except runs.REFUSALS as exc:
        db.session.rollback()
        add_errors(form, runs.refusal_errors(exc))
        return _page(form, 422)
    db.session.commit()
    if run.status == "queued":
        worker.dispatch(run.id)
        flash("The projection is queued; this page shows it when it is done.", "info")
    return redirect(url_for("projections.page", run=run.id))


def _assumptions_page(form: AssumptionsForm, status: int = 200) -> Any:
    versions = list(db.session.scalars(select(AssumptionSet).order_by(AssumptionSet.version.desc())))
    authors = {
        row.id: row.email
        for row in db.session.execute(
            select(User.id, User.email).where(User.id.in_({v.created_by for v in versions} or {0}))
        )
    }
    return (
        render_template(
            "projections/assumptions.html",
            form=form,
            versions=versions,
            authors=authors,
            defaults=assumptions.defaults(current_app.config),
            settings=assumptions.SETTINGS,
        ),
        status,
    )


@bp.get("/assumptions")
@roles("staff", "admin")
def assumptions_form():  # type: ignore[no-untyped-def]
    form = AssumptionsForm()
    values = assumptions.values_of(assumptions.current_set(), current_app.config)
    for setting in assumptions.SETTINGS:
        getattr(form, setting.name).data = str(values[setting.name])
    return _assumptions_page(form)


@bp.post("/assumptions")
@roles("staff")
def save_assumptions():  # type: ignore[no-untyped-def]
    """Save the staff's assumptions as a new version (audited); the next projections use them."""
    form = AssumptionsForm()
    if not form.validate_on_submit():
        return _assumptions_page(form, 422)
    raw = {s.name: getattr(form, s.name).data for s in assumptions.SETTINGS}
    try:
        version, changes = assumptions.save(
            raw, actor=current_user, note=form.note.data or "", config=current_app.config
        )
    except runs.REFUSALS as exc:
        db.session.rollback()
        add_errors(form, runs.refusal_errors(exc))
        return _assumptions_page(form, 422)
    db.session.commit()
    if changes:
        flash(f"Assumptions saved as version {version.version}.", "success")
    else:
        flash("Nothing changed, so no new version was saved.", "info")
    return redirect(url_for("projections.assumptions_form"))
