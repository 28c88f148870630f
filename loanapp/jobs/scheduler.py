"""``flask --app loanapp scheduler``: APScheduler's BlockingScheduler in a process of its own.

Each job in the ``JOBS`` setting fires on its cron expression in ``JOBS_TIMEZONE`` (nightly aging at
02:00 America/New_York, the delinquency snapshot on the 1st). Every firing, and the start of the
process, runs :func:`loanapp.jobs.runner.run_pending`, which catches up any dates missed while the
scheduler was down. Two schedulers started by mistake do no harm: the job lock lets one run a job and
the other finds it busy or done. Every minute it also runs projections left queued
(``loanapp.projections.runs.drain_queue``; claiming a run is atomic, so two sweeps never run one twice)
and the notices sender (``loanapp.notices.jobs``).
"""

from __future__ import annotations

from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from loanapp.jobs import runner


def fire(app: Flask, name: str) -> list[runner.RunResult]:
    with app.app_context():
        results = runner.run_pending(name)
        for result in results:
            app.logger.info("job %s %s: %s %s", name, result.business_date, result.outcome, result.counts)
        return results


def sweep_projections(app: Flask) -> list[int]:
    """Run projections left queued (the web process that queued them stopped, or runs no worker)."""
    from loanapp.projections.runs import drain_queue

    with app.app_context():
        ran = drain_queue()
        if ran:
            app.logger.info("queued projections run: %s", ran)
        return ran


def send_notices(app: Flask) -> runner.RunResult:
    """The notices job (reminders, then everything due to send), under the jobs' lock."""
    from loanapp.clock import business_date

    with app.app_context():
        result = runner.run_job("notices", business_date(), trigger="schedule")
        if result.counts.get("sent") or result.counts.get("failed") or result.error:
            app.logger.info("notices: %s %s %s", result.outcome, result.counts, result.error)
        return result


def build_scheduler(app: Flask) -> BlockingScheduler:
    with app.app_context():
        zone = runner.timezone()
        triggers: dict[str, Any] = {name: runner.trigger_for(name) for name in app.config["JOBS"]}
    scheduler = BlockingScheduler(timezone=zone)
    for name, trigger in triggers.items():
        scheduler.add_job(
            fire,
            trigger,
            args=[app, name],
            id=name,
            name=name,
            max_instances=1,  # within this process; the database lock covers other processes
            coalesce=True,
            misfire_grace_time=None,  # a late firing still runs; run_pending picks the right dates
        )
    scheduler.add_job(
        sweep_projections,
        "interval",
        args=[app],
        minutes=1,
        id="projection_queue",
        name="projection_queue",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        send_notices,
        "interval",
        args=[app],
        seconds=int(app.config["NOTICES_INTERVAL_SECONDS"]),
        id="notices",
        name="notices",
        max_instances=1,
        coalesce=True,
    )
    return scheduler


def catch_up(app: Flask) -> dict[str, list[runner.RunResult]]:
    return {name: fire(app, name) for name in app.config["JOBS"]}
