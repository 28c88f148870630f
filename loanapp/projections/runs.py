"""Asking for a projection, running it, and the monthly snapshot: the only writes of projection runs.

A request is checked completely before anything is written (bad input raises and changes nothing).
Small requests run at once in the caller's transaction; bigger ones are stored ``queued`` and run
by :func:`execute`, from the web process's worker thread (``loanapp.projections.worker``) or the
scheduler's queue sweep, whichever claims the run first (an UPDATE ... WHERE status = 'queued' that
only one of them can win).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update

from loanapp.audit.trail import record
from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.projections.assumptions import (
    AssumptionErrors,
    current_set,
    parse,
    stored,
    values_of,
)
from loanapp.projections.book import ProjectionInputs, projection_inputs
from loanapp.projections.models import AssumptionSet, ProjectionRun
from loanapp.projections.results import ALL, ProjectionSpec, check, cost_of, matrix_of, project, work_of
from risk.rollrate import ProjectionError

#: Seeds are drawn below this (they are stored as signed 64-bit integers).
SEED_LIMIT = 2**63
#: A run left ``running`` this long by a process that died is queued again by the sweep.
STALE_AFTER = dt.timedelta(hours=2)
_PROGRESS_EVERY_SECONDS = 1.0
#: At most one projection runs at a time in a process (the web process's request threads and its
#: worker thread alike): each may take up to PROJECTION_MAX_MEMORY_BYTES.
HEAVY = threading.BoundedSemaphore(1)


@dataclass(frozen=True)
class ProjectionRequest:
    """What a user asks for: the scenario, a seed (None draws one), assumption overrides (raw values,
    checked here: ``paths``, ``horizon_months`` and any setting of ``assumptions.SETTINGS``) and
    optional 7 x 7 matrices."""

    scenario: str = "base"
    seed: int | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    transition_matrix: Sequence[Sequence[Any]] | None = None
    stressed_matrix: Sequence[Sequence[Any]] | None = None


#: What ``prepare``/``submit`` and ``assumptions.save`` raise for input they cannot use.
REFUSALS = (AssumptionErrors, ProjectionError)


def refusal_errors(exc: Exception) -> dict[str, list[str]]:
    """The field-level messages of a refusal (``REFUSALS``), for a form or a 422 body."""
    if isinstance(exc, AssumptionErrors):
        return exc.errors
    if isinstance(exc, ProjectionError):
        return {exc.field: [exc.message]}
    raise TypeError(f"not a refusal: {exc!r}")


def _history_months(values: Mapping[str, Any]) -> int | None:
    months = int(values["history_months"])
    return months or None


def _spec(
    request: ProjectionRequest, assumption_set: AssumptionSet | None, seed: int, config: Mapping[str, Any]
) -> ProjectionSpec:
    values = values_of(assumption_set, config)
    values.update(parse(request.overrides))
    return ProjectionSpec(
        values=values,
        scenario=request.scenario,
        seed=seed,
        transition_matrix=None
        if request.transition_matrix is None
        else matrix_of(request.transition_matrix, "transition_matrix"),
        stressed_matrix=None
        if request.stressed_matrix is None
        else matrix_of(request.stressed_matrix, "stressed_matrix"),
    )


def prepare(
    request: ProjectionRequest, as_of: dt.date, config: Mapping[str, Any]
) -> tuple[ProjectionSpec, ProjectionInputs, AssumptionSet | None]:
    """The checked spec and the book it runs on. Raises :class:`AssumptionErrors` (per setting) or
    :class:`ProjectionError` (one field) for anything unusable."""
    if request.seed is not None and (
        isinstance(request.seed, bool)
        or not isinstance(request.seed, int)
        or not 0 <= request.seed < SEED_LIMIT
    ):
        raise ProjectionError("seed", f"must be a whole number from 0 to {SEED_LIMIT - 1}")
    assumption_set = current_set()
    seed = request.seed if request.seed is not None else secrets.randbelow(SEED_LIMIT)
    spec = _spec(request, assumption_set, seed, config)
    inputs = projection_inputs(as_of, config, history_months=_history_months(spec.values))
    check(spec, inputs, config)
    return spec, inputs, assumption_set


def _overrides_stored(request: ProjectionRequest) -> dict[str, Any]:
    out: dict[str, Any] = dict(stored(parse(request.overrides)))
    if request.transition_matrix is not None:
        out["transition_matrix"] = [
            list(r) for r in matrix_of(request.transition_matrix, "transition_matrix")
        ]
    if request.stressed_matrix is not None:
        out["stressed_matrix"] = [list(r) for r in matrix_of(request.stressed_matrix, "stressed_matrix")]
    return out


def submit(request: ProjectionRequest, *, as_of: dt.date, actor: Any | None, source: str) -> ProjectionRun:
    """Store the request; run it now when it is small (``PROJECTION_INLINE_MAX_WORK``), else queue it.

    The caller commits; after the commit a queued run should be handed to
    ``loanapp.projections.worker.dispatch``.
    """
    config = current_app.config
    spec, inputs, assumption_set = prepare(request, as_of, config)
    cost = cost_of(spec, inputs, config)
    inline = work_of(spec, inputs) <= int(config["PROJECTION_INLINE_MAX_WORK"]) and cost.bytes <= int(
        config["PROJECTION_INLINE_MAX_BYTES"]
    )
    if not inline:
        _refuse_a_long_queue(actor, config)
    run = _new_run(
        spec,
        kind="request",
        as_of=as_of,
        assumption_set=assumption_set,
        overrides=_overrides_stored(request),
        source=source,
        actor=actor,
    )
    store(run, actor=actor)
    # One projection at a time in a web process: a small request runs at once only when no other
    # projection is running here; otherwise it waits in the queue like a big one.
    if inline and HEAVY.acquire(blocking=False):
        try:
            run.status, run.started_at = "running", utcnow()
            run.result = project(spec, inputs, config)
            run.status, run.progress, run.finished_at = "succeeded", 100, utcnow()
        finally:
            HEAVY.release()
    return run


def _refuse_a_long_queue(actor: Any | None, config: Mapping[str, Any]) -> None:
    """One person's queued and running requests are capped: thirty maximum-size runs from one token
    were once all accepted (an hour and a half of the worker)."""
    if actor is None or getattr(actor, "id", None) is None:
        return
    limit = int(config["PROJECTION_MAX_QUEUED_PER_USER"])
    waiting = db.session.scalar(
        select(func.count())
        .select_from(ProjectionRun)
        .where(
            ProjectionRun.requested_by == actor.id,
            ProjectionRun.kind == "request",
            ProjectionRun.status.in_(("queued", "running")),
        )
    )
    if waiting is not None and waiting >= limit:
        raise ProjectionError(
            "paths",
            f"you already have {waiting} projections waiting or running (at most {limit}); "
            "ask again when one has finished",
        )


def finished_run(
    spec: ProjectionSpec,
    result: dict[str, Any],
    *,
    kind: str,
    as_of: dt.date,
    assumption_set: AssumptionSet | None,
    overrides: Mapping[str, Any],
    source: str,
    started: dt.datetime,
) -> ProjectionRun:
    """A projection computed by the caller (CLI, snapshot job), as a run; :func:`store` keeps it."""
    run = _new_run(
        spec, kind=kind, as_of=as_of, assumption_set=assumption_set, overrides=overrides, source=source
    )
    run.status, run.result, run.progress = "succeeded", result, 100
    run.requested_at, run.started_at, run.finished_at = started, started, utcnow()
    return run


def _new_run(
    spec: ProjectionSpec,
    *,
    kind: str,
    as_of: dt.date,
    assumption_set: AssumptionSet | None,
    overrides: Mapping[str, Any],
    source: str,
    actor: Any | None = None,
) -> ProjectionRun:
    return ProjectionRun(
        kind=kind,
        status="queued",
        as_of=as_of,
        scenario=spec.scenario,
        paths=int(spec.values["paths"]),
        horizon_months=int(spec.values["horizon_months"]),
        seed=spec.seed,
        assumption_set_id=None if assumption_set is None else assumption_set.id,
        overrides=dict(overrides),
        source=source,
        requested_by=getattr(actor, "id", None),
        progress=0,
        error="",
    )


def store(
    run: ProjectionRun, *, action: str = "projection.requested", actor: Any | None = None
) -> ProjectionRun:
    """Add a finished run and its audit event to the unit of work (the caller commits)."""
    db.session.add(run)
    db.session.flush()
    record(
        action,
        "projection_run",
        run.id,
        actor=actor,
        details={
            "as_of": run.as_of,
            "scenario": run.scenario,
            "paths": run.paths,
            "horizon_months": run.horizon_months,
            "seed": str(run.seed),
            "overrides": run.overrides,
            "source": run.source,
        },
    )
    return run


def request_of(run: ProjectionRun) -> ProjectionRequest:
    """The stored run as the request that reproduces it (same seed, same overrides)."""
    overrides = dict(run.overrides or {})
    transition = overrides.pop("transition_matrix", None)
    stressed = overrides.pop("stressed_matrix", None)
    return ProjectionRequest(
        scenario=run.scenario,
        seed=run.seed,
        overrides=overrides,
        transition_matrix=transition,
        stressed_matrix=stressed,
    )


def _claim(run_id: int) -> bool:
    claimed = db.session.execute(
        update(ProjectionRun)
        .where(ProjectionRun.id == run_id, ProjectionRun.status == "queued")
        .values(status="running", started_at=utcnow(), progress=0)
    )
    db.session.commit()
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def execute(run_id: int) -> ProjectionRun | None:
    """Run a queued projection (commits). Returns None when another process claimed it first.

    Waits for any other projection of this process to finish first (:data:`HEAVY`)."""
    with HEAVY:
        return _execute(run_id)


def _execute(run_id: int) -> ProjectionRun | None:
    if not _claim(run_id):
        return None
    run = db.session.get(ProjectionRun, run_id)
    assert run is not None
    config = current_app.config
    last = time.monotonic()

    def progress(done: float) -> None:
        nonlocal last
        if time.monotonic() - last >= _PROGRESS_EVERY_SECONDS:
            last = time.monotonic()
            db.session.execute(
                update(ProjectionRun)
                .where(ProjectionRun.id == run_id)
                .values(progress=min(99, int(done * 100)))
            )
            db.session.commit()

    try:
        assumption_set = (
            None if run.assumption_set_id is None else db.session.get(AssumptionSet, run.assumption_set_id)
        )
        spec = _spec(request_of(run), assumption_set, run.seed, config)
        inputs = projection_inputs(run.as_of, config, history_months=_history_months(spec.values))
        result = project(spec, inputs, config, progress)
    except Exception as exc:  # noqa: BLE001 - recorded on the run; nothing else was written
        db.session.rollback()
        current_app.logger.exception("projection run %s failed", run_id)
        failed = db.session.get(ProjectionRun, run_id)
        assert failed is not None
        failed.status, failed.finished_at = "failed", utcnow()
        failed.error = (f"{exc.field}: {exc.message}" if isinstance(exc, ProjectionError) else repr(exc))[
            :4000
        ]
        db.session.commit()
        return failed
    run = db.session.get(ProjectionRun, run_id)
    assert run is not None
    run.result, run.status, run.progress, run.finished_at = result, "succeeded", 100, utcnow()
    db.session.commit()
    return run


def requeue_stale(now: dt.datetime | None = None) -> int:
    """Queue again the runs a dead process left ``running``."""
    cutoff = (now or utcnow()) - STALE_AFTER
    result = db.session.execute(
        update(ProjectionRun)
        .where(ProjectionRun.status == "running", ProjectionRun.started_at < cutoff)
        .values(status="queued", progress=0)
    )
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def drain_queue(limit: int = 20) -> list[int]:
    """Run queued projections, oldest first; returns the ids this process ran."""
    requeue_stale()
    ids = list(
        db.session.scalars(
            select(ProjectionRun.id)
            .where(ProjectionRun.status == "queued")
            .order_by(ProjectionRun.requested_at, ProjectionRun.id)
            .limit(limit)
        )
    )
    db.session.rollback()
    return [run_id for run_id in ids if execute(run_id) is not None]


def get(run_id: int) -> ProjectionRun | None:
    return db.session.get(ProjectionRun, run_id)


def latest(kind: str | None = None) -> ProjectionRun | None:
    """The newest finished projection (of a kind, or any): what the page and the API show first."""
    query = select(ProjectionRun).where(ProjectionRun.status == "succeeded")
    if kind is not None:
        query = query.where(ProjectionRun.kind == kind)
    return db.session.scalar(
        query.order_by(ProjectionRun.finished_at.desc(), ProjectionRun.id.desc()).limit(1)
    )


def snapshots(limit: int = 24) -> list[ProjectionRun]:
    """Monthly snapshots, newest first."""
    return list(
        db.session.scalars(
            select(ProjectionRun)
            .where(ProjectionRun.kind == "snapshot", ProjectionRun.status == "succeeded")
            .order_by(ProjectionRun.as_of.desc())
            .limit(limit)
        )
    )


def snapshot_seed(as_of: dt.date) -> int:
    """A snapshot's seed follows from its date, so a forced rerun reproduces it."""
    return as_of.toordinal()


def take_snapshot(as_of: dt.date, *, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Project every scenario from the month end ``as_of`` with the current assumptions and store it.

    Runs inside the job runner's transaction (never commits); a forced rerun replaces the snapshot.
    """
    config = current_app.config
    say = progress or (lambda _step: None)
    paths = config.get("PROJECTION_SNAPSHOT_PATHS")
    request = ProjectionRequest(
        scenario=ALL, seed=snapshot_seed(as_of), overrides={"paths": int(paths)} if paths else {}
    )
    try:
        spec, inputs, assumption_set = prepare(request, as_of, config)
    except AssumptionErrors as exc:  # the saved assumptions no longer fit the programme's limits
        raise RuntimeError(f"the saved projection assumptions cannot be used: {exc}") from exc
    say("book loaded")
    db.session.execute(
        delete(ProjectionRun).where(ProjectionRun.kind == "snapshot", ProjectionRun.as_of == as_of)
    )
    started = utcnow()
    document = project(spec, inputs, config, lambda done: say(f"{int(done * 100)}%"))
    run = finished_run(
        spec,
        document,
        kind="snapshot",
        as_of=as_of,
        assumption_set=assumption_set,
        overrides={},
        source="job",
        started=started,
    )
    store(run, action="projection.snapshot_taken")
    base = document["scenarios"][0]
    return {
        "as_of": as_of.isoformat(),
        "loans": document["book"]["loans"],
        "scenarios": len(document["scenarios"]),
        "exhaustion_probability": base["exhaustion_probability"][-1],
    }
