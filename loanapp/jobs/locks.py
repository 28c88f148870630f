"""One run of a job at a time, whatever the number of scheduler processes started by mistake.

PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection of its own, held for the
whole run; if the process dies the connection closes and the lock goes with it.

SQLite (one machine, development): a row in ``job_locks`` inserted in its own committed transaction;
a second process's INSERT fails on the primary key. A row older than ``JOB_LOCK_SECONDS`` belongs to
a run that crashed and is taken over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import delete, text, update
from sqlalchemy.exc import IntegrityError

from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.jobs.models import JobLock


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def advisory_key(job: str) -> int:
    """A stable signed 64-bit key per job name."""
    digest = hashlib.sha256(f"loanapp-job:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def job_lock(job: str) -> Iterator[bool]:
    """Yields True while this process holds the job's lock, False when another process has it."""
    if db.engine.dialect.name == "postgresql":
        with _advisory(job) as held:
            yield held
    else:
        with _lock_row(job) as held:
            yield held


@contextmanager
def _advisory(job: str) -> Iterator[bool]:
    key = advisory_key(job)
    connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        connection.close()


@contextmanager
def _lock_row(job: str) -> Iterator[bool]:
    holder = f"{holder_name()}:{uuid.uuid4().hex[:8]}"
    now = utcnow()
    expires = now + dt.timedelta(seconds=int(current_app.config["JOB_LOCK_SECONDS"]))
    held = True
    try:
        with db.session.begin_nested():
            db.session.add(JobLock(job=job, holder=holder, acquired_at=now, expires_at=expires))
    except IntegrityError:
        taken = db.session.execute(
            update(JobLock)
            .where(JobLock.job == job, JobLock.expires_at < now)
            .values(holder=holder, acquired_at=now, expires_at=expires)
        )
        held = bool(taken.rowcount)  # type: ignore[attr-defined]
    db.session.commit()
    try:
        yield held
    finally:
        if held:
            db.session.rollback()
            db.session.execute(delete(JobLock).where(JobLock.job == job, JobLock.holder == holder))
            db.session.commit()
