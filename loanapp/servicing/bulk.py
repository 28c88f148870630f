"""Moving whole columns between the database and numpy, for the set-based nightly work.

PostgreSQL: ``COPY ... TO STDOUT (FORMAT binary)`` read straight into a numpy structured array (no
Python object per value), and ``COPY ... FROM STDIN`` into a temporary table. SQLite (development,
tests): plain fetches and executemany. Queries here are trusted text built by this package: values
are formatted in only as integers and ISO dates.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

#: Column kinds: "int" (integer or bigint, read as int64) and "date" (read as a day ordinal).
Kind = str

_PG_EPOCH = dt.date(2000, 1, 1).toordinal()
_UNIX_EPOCH = dt.date(1970, 1, 1).toordinal()
_COPY_HEADER = 19


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def sql_date(day: dt.date) -> str:
    """A date literal for both dialects (the value is a ``date``, so its text is only digits and dashes)."""
    assert isinstance(day, dt.date)
    return f"'{day.isoformat()}'"


def fetch_columns(session: Session, sql: str, kinds: Sequence[Kind]) -> list[npt.NDArray[np.int64]]:
    """Run ``sql`` (no NULLs in its result: COALESCE them) and return one int64 array per column.

    Integer columns must be ``BIGINT`` on PostgreSQL (CAST them) and dates ``DATE``.
    """
    if is_postgres(session):
        return _fetch_postgres(session, sql, kinds)
    rows = session.execute(text(sql)).all()
    columns: list[npt.NDArray[np.int64]] = []
    for index, kind in enumerate(kinds):
        values = [row[index] for row in rows]
        if kind == "date":
            days = np.array(values, dtype="datetime64[D]").astype(np.int64) + _UNIX_EPOCH
            columns.append(days.astype(np.int64))
        else:
            columns.append(np.array([int(v) for v in values], dtype=np.int64))
    return columns


def _fetch_postgres(session: Session, sql: str, kinds: Sequence[Kind]) -> list[npt.NDArray[np.int64]]:
    raw = session.connection().connection.driver_connection
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as copy:  # type: ignore[union-attr]
        for chunk in copy:
            buffer.write(chunk)
    data = buffer.getvalue()
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for index, kind in enumerate(kinds):
        fields.append((f"len{index}", ">i4"))
        fields.append((f"c{index}", ">i4" if kind == "date" else ">i8"))
    record = np.dtype(fields)
    body = data[_COPY_HEADER : len(data) - 2]  # header, then the trailer (-1 as int16)
    if len(body) % record.itemsize:
        raise ValueError("unexpected COPY layout: NULLs or a column of another width in the result")
    rows = np.frombuffer(body, dtype=record)
    columns = []
    for index, kind in enumerate(kinds):
        values = rows[f"c{index}"].astype(np.int64)
        columns.append(values + _PG_EPOCH if kind == "date" else values)
    return columns


def load_temp_table(
    session: Session, name: str, columns_sql: str, column_names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """(Re)create a temporary table and fill it: COPY on PostgreSQL, executemany on SQLite."""
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    session.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns_sql})"))
    if is_postgres(session):
        raw = session.connection().connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(  # type: ignore[union-attr]
                f"COPY {name} ({', '.join(column_names)}) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join(f":{c}" for c in column_names)
    batch = [dict(zip(column_names, row, strict=True)) for row in rows]
    if batch:
        session.execute(
            text(f"INSERT INTO {name} ({', '.join(column_names)}) VALUES ({placeholders})"), batch
        )


def drop_temp_table(session: Session, name: str) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
