"""Database plumbing the ledger needs on both dialects it supports (PostgreSQL, SQLite)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Engine, FromClause, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def upsert_insert(session: Session, table: FromClause) -> Any:
    """``INSERT`` that supports ``ON CONFLICT`` on this session's dialect (PostgreSQL or SQLite)."""
    table = cast(Table, table)
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def configure_sqlite(engine: Engine) -> None:
    """Make a pysqlite engine safe for the ledger: foreign keys on, real SAVEPOINTs, one writer.

    SQLite has no ``SELECT ... FOR UPDATE``. Instead every transaction starts with ``BEGIN IMMEDIATE``,
    which takes the database's single write lock up front, so two writers never interleave the
    read-check-post sequence (the second waits up to the busy timeout). pysqlite's own transaction
    handling is switched off because it breaks SAVEPOINT (SQLAlchemy docs, "Serializable isolation /
    Savepoints / Transactional DDL").
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
