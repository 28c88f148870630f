"""Test databases: a SQLite file, or a fresh PostgreSQL database per test session, built by the migrations."""

from __future__ import annotations

import os
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from loanapp.config import sqlalchemy_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def requested_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return sqlalchemy_url(url) if url else None


def is_postgres(url: str | None) -> bool:
    return bool(url) and make_url(url).get_backend_name() == "postgresql"


def postgres_reachable(url: str) -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect is reported as is
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()
    return None


def create_postgres_database(server_url: str, prefix: str = "loanapp_test") -> str:
    """CREATE DATABASE with a unique name on the server of ``server_url``; returns its URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # A throwaway database need not wait for the disk on every commit: the suite's PostgreSQL run is
        # dominated by fsync otherwise. Durability is not what these tests check.
        connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate(url: str, **extra: Any) -> None:
    """Build the schema the way production does: ``flask db upgrade``."""
    from flask_migrate import upgrade

    from loanapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, **extra})
    with app.app_context():
        upgrade()
        from loanapp.extensions import db

        db.engine.dispose()
