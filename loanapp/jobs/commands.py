"""``flask --app loanapp scheduler`` and ``flask --app loanapp run-job JOB --date YYYY-MM-DD``."""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from tqdm import tqdm

from loanapp.clock import business_date
from loanapp.jobs import registry, runner


def date_option(_ctx: Any, _param: Any, value: str | None) -> dt.date | None:
    """A click callback for a YYYY-MM-DD option (shared by the commands that take a date)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("write the date as YYYY-MM-DD") from None


@click.command("run-job")
@with_appcontext
@click.argument("job")
@click.option("--date", "day", callback=date_option, help="Business date to run for (default: today).")
@click.option(
    "--through", callback=date_option, help="Run every date from --date through this one (a backfill)."
)
@click.option("--force", is_flag=True, help="Run again for a date that already succeeded.")
def run_job_command(job: str, day: dt.date | None, through: dt.date | None, force: bool) -> None:
    """Run one job by hand for a date or a range of dates (backfills), with a progress bar."""
    try:
        registry.get(job)
    except KeyError as exc:
        raise click.UsageError(str(exc)) from None
    first = day or business_date()
    last = through or first
    if last < first:
        raise click.UsageError("--through must not be before --date")
    dates = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
    failed = False
    with tqdm(total=len(dates), unit="day", desc=job, file=sys.stderr, disable=None) as bar:
        for current in dates:
            bar.set_postfix_str(current.isoformat())
            result = runner.run_job(
                job,
                current,
                trigger="manual",
                force=force,
                progress=lambda step, day=current: bar.set_postfix_str(f"{day} {step}"),
            )
            bar.update(1)
            counts = ", ".join(f"{k}={v}" for k, v in result.counts.items())
            tqdm.write(
                f"{job} {current}: {result.outcome}"
                + (f" ({counts})" if counts else "")
                + (f" {result.error}" if result.error else ""),
                file=sys.stdout,
            )
            if result.outcome in (runner.Outcome.FAILED, runner.Outcome.BUSY):
                failed = True
                break
    if failed:
        sys.exit(1)


@click.command("scheduler")
@with_appcontext
@click.option("--no-catch-up", is_flag=True, help="Do not run missed dates at start.")
def scheduler_command(no_catch_up: bool) -> None:
    """Run the scheduled jobs (JOBS setting) until stopped; catches up missed dates first."""
    from loanapp.jobs.scheduler import build_scheduler, catch_up

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app)
    if not no_catch_up:
        for name, results in catch_up(app).items():
            for result in results:
                click.echo(f"{name} {result.business_date}: {result.outcome}")
    for job in scheduler.get_jobs():
        click.echo(f"scheduled {job.id}: {job.trigger}")

    def stop(_signum: int, _frame: Any) -> None:
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
