"""The ``notices`` job: queue the day's reminders, then send everything due.

``flask --app loanapp run-job notices`` runs it by hand; the scheduler runs it every
``NOTICES_INTERVAL_SECONDS``. It runs under the jobs' lock (a PostgreSQL advisory lock), so two
schedulers never send at once, and it commits each message's outcome itself (``repeatable``).
"""

from __future__ import annotations

from typing import Any

from loanapp.jobs.registry import JobContext, job
from loanapp.notices import events, operations


@job("notices", "Send pending email and SMS notices; queue payment reminders", repeatable=True)
def notices_job(run: JobContext) -> dict[str, Any]:
    run.progress("reminders")
    counts: dict[str, Any] = events.queue_reminders(run.business_date)
    from loanapp.extensions import db

    db.session.commit()
    run.progress("sending")
    counts.update(operations.send_pending().as_dict())
    return counts
