"""The reserve's nightly check (registered with ``loanapp.jobs``): ``reserve-check`` as a scheduled job.

A failure is recorded on the job's run (the jobs page) and shown on the reserve's dashboard, so
staff see that the ledger's invariants broke the morning after, not at the next audit.
"""

from __future__ import annotations

from typing import Any

import reserve
from loanapp.extensions import db
from loanapp.jobs.registry import JobContext, job
from loanapp.reserve_admin.commands import live_loan_ids


class ReserveCheckFailed(RuntimeError):
    """The ledger's invariants do not hold; the message lists the problems."""


@job("reserve_check", "Every invariant of the reserve ledger (balanced, totals, never negative, claims).")
def reserve_check_job(run: JobContext) -> dict[str, Any]:
    problems = reserve.verify(db.session, live_loan_ids())
    if problems:
        listed = "; ".join(f"{p.code}: {p.message}" for p in problems[:20])
        raise ReserveCheckFailed(f"{len(problems)} problem(s): {listed}")
    return {"problems": 0}
