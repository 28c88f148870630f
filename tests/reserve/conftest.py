"""Fixtures for the reserve ledger's tests (database chosen by ``TEST_DATABASE_URL``, see reserve_support)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.reserve.reserve_support import ON_POSTGRES, postgres_schema, sqlite_engine


@pytest.fixture(scope="session")
def reserve_engine() -> Iterator[Engine]:
    """One database for the run: a private PostgreSQL schema, or a SQLite file.

    The SQLite file lives in a directory of our own, not pytest's ``tmp_path``: pytest prunes old
    temporary directories whenever any other pytest run starts on this machine.
    """
    if ON_POSTGRES:
        with postgres_schema() as (engine, _):
            yield engine
    else:
        with tempfile.TemporaryDirectory(prefix="reserve-test-") as folder:
            engine = sqlite_engine(os.path.join(folder, "reserve.sqlite"))
            yield engine
            engine.dispose()


@pytest.fixture
def session(reserve_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test (operations never commit)."""
    connection = reserve_engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def postgres_database() -> Callable[..., AbstractContextManager[tuple[Engine, str]]]:
    """Factory of fresh PostgreSQL schemas for tests that need committed data and many connections."""
    if not ON_POSTGRES:
        pytest.skip("needs TEST_DATABASE_URL=postgresql+psycopg://...")
    return postgres_schema
