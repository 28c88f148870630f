"""The scheduled jobs the app knows. Adding a job is one registration::

    @job("aging", "Days past due and buckets of every active loan, bucket history")
    def aging(run: JobContext) -> dict[str, Any]:
        ...

in a module listed in :data:`JOB_MODULES`, and a cron expression in the ``JOBS`` setting.

A job does its work in the caller's transaction and never commits: the runner commits the job's
writes together with its run record, or rolls both back (``loanapp.jobs.runner``).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Modules whose import registers jobs.
JOB_MODULES = (
    "loanapp.servicing.jobs",
    "loanapp.projections.jobs",
    "loanapp.notices.jobs",
    "loanapp.outcomes.jobs",
    "loanapp.reserve_admin.jobs",
)


@dataclass(frozen=True)
class JobContext:
    business_date: dt.date
    trigger: str
    progress: Callable[[str], None] = field(default=lambda _step: None)


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: Callable[[JobContext], dict[str, Any]]
    #: Runs whenever called (not once per business date) and commits its own progress, e.g. the
    #: notices sender, whose every delivered message must stay recorded whatever happens next.
    repeatable: bool = False


_JOBS: dict[str, Job] = {}


def job(
    name: str, description: str, *, repeatable: bool = False
) -> Callable[[Callable[[JobContext], dict[str, Any]]], Any]:
    def register(run: Callable[[JobContext], dict[str, Any]]) -> Callable[[JobContext], dict[str, Any]]:
        if name in _JOBS and _JOBS[name].run is not run:
            raise ValueError(f"job {name!r} is registered twice")
        _JOBS[name] = Job(name, description, run, repeatable)
        return run

    return register


def jobs() -> dict[str, Job]:
    for module in JOB_MODULES:
        importlib.import_module(module)
    return dict(_JOBS)


def get(name: str) -> Job:
    known = jobs()
    if name not in known:
        raise KeyError(f"no job {name!r}; known: {', '.join(sorted(known))}")
    return known[name]
