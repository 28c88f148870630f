"""The projections' scheduled job (registered with ``loanapp.jobs``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from loanapp.jobs.registry import JobContext, job
from loanapp.projections import runs


@job("projection_snapshot", "Monthly projection of the reserve from the month end, every scenario, kept.")
def projection_snapshot_job(run: JobContext) -> dict[str, Any]:
    """Runs on the 1st: projects from the day before, the month's last day."""
    return runs.take_snapshot(run.business_date - dt.timedelta(days=1), progress=run.progress)
