"""The servicing feature's scheduled jobs (registered with ``loanapp.jobs``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from loanapp.jobs.registry import JobContext, job
from loanapp.servicing import aging, reports


@job("aging", "Days past due and bucket of every active loan; bucket history; late fees if enabled.")
def aging_job(run: JobContext) -> dict[str, Any]:
    counts = aging.age_portfolio(run.business_date, progress=run.progress)
    # Loans under a hardship plan are held to the plan's schedule (loanapp.collections).
    from loanapp.collections.operations import age_planned_loans

    counts["loans_with_plans"] = age_planned_loans(run.business_date)
    return counts


@job("delinquency_snapshot", "Month-end delinquency per bucket, for the chart of delinquency over time.")
def delinquency_snapshot_job(run: JobContext) -> dict[str, Any]:
    """Runs on the 1st: the snapshot is of the day before, the month's last day."""
    as_of = run.business_date - dt.timedelta(days=1)
    return reports.take_snapshot(as_of, progress=run.progress)
