"""Moving whole columns between the database and numpy, for the set-based nightly work.

PostgreSQL: each column aggregated into one array on the server and its binary form read straight into
numpy (no Python object or call per value), and ``COPY ... FROM STDIN`` into a temporary table. SQLite (development,
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
    """One row back, whatever the size: each column aggregated into one array on the server
    (``array_agg`` over the ordered query keeps its order) and that array's binary form read by
    numpy in one step. COPY would hand the rows over one by one, a Python call per row, which
    at millions of rows (a book's installments) cost seconds."""
    names = [f"c{index}" for index in range(len(kinds))]
    aggregated = (
        "SELECT "
        + ", ".join(f"array_agg({name})" for name in names)
        + f" FROM ({sql}) AS q({', '.join(names)})"
    )
    raw = session.connection().connection.driver_connection
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({aggregated}) TO STDOUT (FORMAT binary)") as copy:  # type: ignore[union-attr]
        for chunk in copy:
            buffer.write(chunk)
    data = memoryview(buffer.getvalue())
    offset = _COPY_HEADER + 2  # the header, then the one row's field count
    columns = []
    for kind in kinds:
        length = int.from_bytes(data[offset : offset + 4], "big", signed=True)
        offset += 4
        if length < 0:  # array_agg of no rows is NULL
            columns.append(np.zeros(0, dtype=np.int64))
            continue
        columns.append(_array_values(data[offset : offset + length], kind))
        offset += length
    return columns


def _array_values(field: memoryview, kind: Kind) -> npt.NDArray[np.int64]:
    """The values of a one-dimensional array in PostgreSQL's binary form (``array_send``): a header
    (dimensions, null flag, element type, then size and lower bound per dimension), then each
    element as its length and its bytes."""
    dimensions, has_nulls = int.from_bytes(field[0:4], "big"), int.from_bytes(field[4:8], "big")
    if dimensions == 0:
        return np.zeros(0, dtype=np.int64)
    if dimensions != 1 or has_nulls:
        raise ValueError("unexpected array layout: NULLs in the result or more than one dimension")
    size = int.from_bytes(field[12:16], "big")
    width = 4 if kind == "date" else 8
    elements = np.frombuffer(field[20:], dtype=np.dtype([("len", ">i4"), ("v", f">i{width}")]), count=size)
    if size and (elements["len"] != width).any():
        raise ValueError("unexpected array layout: a column of another width in the result")
    values = elements["v"].astype(np.int64)
    return values + _PG_EPOCH if kind == "date" else values


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
