"""The web process's worker thread for queued projections (``PROJECTION_WORKER = "thread"``).

One thread, so a burst of big requests cannot take every core from the pages. It runs
:func:`loanapp.projections.runs.execute` in an app context of its own (its own database session);
the scheduler's sweep picks up anything left queued if this process stops.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from flask import Flask, current_app

from loanapp.projections import runs

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="projection")
        return _executor


def _run(app: Flask, run_id: int) -> None:
    with app.app_context():
        try:
            runs.execute(run_id)
        except Exception:  # noqa: BLE001 - logged; the sweep retries a run left queued or running
            app.logger.exception("projection worker failed on run %s", run_id)


def dispatch(run_id: int) -> Future[None] | None:
    """Hand a committed, queued run to the worker thread (None when the worker is off)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["PROJECTION_WORKER"] != "thread":
        return None
    return _pool().submit(_run, app, run_id)
