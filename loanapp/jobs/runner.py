"""Running a job for a business date: at most once at a time, at most once per date, all or nothing.

* ``job_runs`` has one row per (job, business date) (UNIQUE). A date that succeeded is not run again
  unless forced (a forced rerun replaces the job's own output in one transaction).
* The job's writes and the row's ``succeeded`` commit together; a crash rolls them back and the row
  records ``failed`` with the error, so the database is as before the job and a rerun completes it.
* :func:`run_pending` catches up: every date the job's cron would have fired on since its last
  success, in order, up to now (after downtime, a missed night is aged on its own date).
"""

from __future__ import annotations

import datetime as dt
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from flask import current_app
from sqlalchemy import func, select

from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.jobs import registry
from loanapp.jobs.locks import holder_name, job_lock
from loanapp.jobs.models import JobRun


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ALREADY_DONE = "already_done"
    BUSY = "busy"  # another process is running this job


@dataclass(frozen=True)
class RunResult:
    job: str
    business_date: dt.date
    outcome: Outcome
    counts: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def run_job(
    name: str,
    business_date: dt.date,
    *,
    trigger: str = "manual",
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    job = registry.get(name)
    with job_lock(name) as held:
        if not held:
            return RunResult(name, business_date, Outcome.BUSY)
        run = db.session.scalar(
            select(JobRun).where(JobRun.job == name, JobRun.business_date == business_date)
        )
        if run is not None and run.status == "succeeded" and not force and not job.repeatable:
            db.session.rollback()
            return RunResult(name, business_date, Outcome.ALREADY_DONE, dict(run.counts or {}))
        if run is None:
            run = JobRun(job=name, business_date=business_date, attempts=1)
            db.session.add(run)
        else:
            run.attempts += 1
        run.status, run.trigger, run.host = "running", trigger, holder_name()
        run.started_at, run.finished_at, run.error, run.counts = utcnow(), None, "", {}
        db.session.commit()  # "running" is visible on the history page while the job works
        run_id = run.id
        try:
            counts = job.run(registry.JobContext(business_date, trigger, progress or (lambda _s: None)))
            run = db.session.get(JobRun, run_id)
            assert run is not None
            run.status, run.counts, run.finished_at = "succeeded", _plain(counts), utcnow()
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - any failure is recorded; the job's writes roll back
            db.session.rollback()
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            current_app.logger.exception("job %s for %s failed", name, business_date)
            run = db.session.get(JobRun, run_id)
            assert run is not None
            run.status, run.error, run.finished_at = "failed", error[:4000], utcnow()
            db.session.commit()
            return RunResult(name, business_date, Outcome.FAILED, error=error)
        return RunResult(name, business_date, Outcome.SUCCEEDED, dict(counts))


def _plain(counts: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (value if isinstance(value, int | str | float | bool) else str(value))
        for key, value in counts.items()
    }


def timezone() -> ZoneInfo:
    return ZoneInfo(current_app.config["JOBS_TIMEZONE"])


def trigger_for(name: str) -> CronTrigger:
    cron = current_app.config["JOBS"].get(name)
    if not cron:
        raise KeyError(f"no schedule for job {name!r} in the JOBS setting")
    return CronTrigger.from_crontab(cron, timezone=timezone())


def last_success(name: str) -> dt.date | None:
    return db.session.scalar(
        select(func.max(JobRun.business_date)).where(JobRun.job == name, JobRun.status == "succeeded")
    )


def due_dates(name: str, now: dt.datetime) -> list[dt.date]:
    """The business dates the job's cron fired on, from the day after its last success up to ``now``.

    A job that never succeeded starts with today's firing (if it has come).
    """
    trigger = trigger_for(name)
    zone = timezone()
    now = now.astimezone(zone)
    last = last_success(name)
    first_day = last + dt.timedelta(days=1) if last is not None else now.date()
    moment = dt.datetime.combine(first_day, dt.time(0, 0), tzinfo=zone)
    dates: list[dt.date] = []
    while True:
        fire = trigger.get_next_fire_time(None, moment)
        if fire is None or fire > now:
            return dates
        if not dates or dates[-1] != fire.date():
            dates.append(fire.date())
        moment = fire + dt.timedelta(seconds=1)


def run_pending(
    name: str, now: dt.datetime | None = None, *, progress: Callable[[str], None] | None = None
) -> list[RunResult]:
    """Run every due date in order; stop at the first that fails or is busy."""
    now = now or dt.datetime.now(timezone())
    dates = due_dates(name, now)
    results = []
    for index, day in enumerate(dates):
        trigger = "schedule" if index == len(dates) - 1 else "catch-up"
        result = run_job(name, day, trigger=trigger, progress=progress)
        results.append(result)
        if result.outcome in (Outcome.FAILED, Outcome.BUSY):
            break
    return results
