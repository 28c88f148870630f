"""Database plumbing shared by the reserve tests and the subprocess they kill (not a test module).

``TEST_DATABASE_URL`` picks the database: unset (or not PostgreSQL) means a SQLite file. On PostgreSQL
every test run works in schemas of its own (``reserve_test_<pid>_<n>``) reached through
``search_path``, so other suites using the same database are never touched; the schema is dropped
afterwards.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, text

from reserve.db import configure_sqlite
from reserve.schema import metadata
from tests import databases

TEST_DATABASE_URL = databases.requested_url() or ""
ON_POSTGRES = databases.is_postgres(TEST_DATABASE_URL)
_counter = itertools.count()


def schema_engine(url: str, schema: str, **kwargs: Any) -> Engine:
    """An engine whose connections see only ``schema`` (PostgreSQL)."""
    return create_engine(url, connect_args={"options": f"-csearch_path={schema}"}, **kwargs)


@contextmanager
def postgres_schema(url: str = TEST_DATABASE_URL, **kwargs: Any) -> Iterator[tuple[Engine, str]]:
    """A fresh schema with the reserve tables (and triggers); dropped on exit."""
    schema = f"reserve_test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = schema_engine(url, schema, **kwargs)
    try:
        metadata.create_all(engine)
        yield engine, schema
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def sqlite_engine(path: str) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    configure_sqlite(engine)
    metadata.create_all(engine)
    return engine
