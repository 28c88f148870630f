"""The declarative base every app table uses, with one constraint naming convention.

Alembic needs deterministic constraint names to alter or drop them later; the convention below is
shared with the reserve ledger's own metadata (``reserve.schema``) so both read the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from sqlalchemy import DateTime, MetaData, Numeric
from sqlalchemy.orm import DeclarativeBase, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: Iterable[object], nullable: bool = False) -> str:
    """SQL for a CHECK that ``column`` holds one of ``values`` (the states and kinds each table knows)."""
    listed = ", ".join(f"'{v}'" for v in values)
    return f"{column} IS NULL OR {column} IN ({listed})" if nullable else f"{column} IN ({listed})"


def utcnow() -> datetime:
    """Timestamps are stored in UTC; pages convert to America/New_York for display."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # Money is Numeric(12, 2) (exact cents); timestamps carry their time zone.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={Decimal: Numeric(12, 2), datetime: DateTime(timezone=True)},
    )


# Money columns: Numeric(12, 2) so the database keeps exact cents.
Money = Annotated[Decimal, mapped_column(Numeric(12, 2))]


def configure_sqlite(engine: object) -> None:
    """Give SQLite real transactions, savepoints and foreign keys.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; SQLAlchemy's documented
    recipe hands BEGIN to SQLAlchemy instead. Foreign keys are off in SQLite unless asked for.
    Unlike ``reserve.db.configure_sqlite`` (``BEGIN IMMEDIATE``, for the ledger's own tests) the app
    begins deferred, so readers never wait for a writer (with IMMEDIATE every read waits behind any
    open transaction; the test suite deadlocks on it). PostgreSQL is the production database.
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN")
