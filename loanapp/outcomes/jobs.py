"""The outcome feature's scheduled job (registered with ``loanapp.jobs``)."""

from __future__ import annotations

from typing import Any

from loanapp.jobs.registry import JobContext, job
from loanapp.outcomes import operations


@job(
    "check_ins",
    "Check-in schedule of every booked loan; due, overdue and not-reached check-ins; a message to each "
    "worker whose check-in came due.",
)
def check_ins_job(run: JobContext) -> dict[str, Any]:
    counts = operations.refresh_all(run.business_date)
    counts["reminders_queued"] = operations.queue_reminders(run.business_date)
    return counts
