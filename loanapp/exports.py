"""The one CSV writer of every export (journal, statement, program report, delinquency, projections).

Spreadsheet formula injection: a cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is run as a formula by Excel and LibreOffice (``=HYPERLINK(...)`` typed as an
employer's name became a live link in ``program.csv``). Such text is written with a leading
apostrophe, which the spreadsheet shows as text (OWASP's advice). Numbers stay numbers: a cell that
is a plain decimal number ("-12.50") is left alone, since it cannot be a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value: Any) -> Any:
    """The cell as a spreadsheet will read it as text, never as a formula."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, out: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(header: Sequence[str], rows: Iterable[Iterable[Any]], **kwargs: Any) -> str:
    out = io.StringIO()
    writer = SafeWriter(out, **kwargs)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def dict_csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], **kwargs: Any) -> str:
    return csv_text(columns, ([row.get(c, "") for c in columns] for row in rows), **kwargs)


def csv_response(text: str, filename: str) -> Response:
    """An attachment download, kept out of caches (it holds loans and people's employers)."""
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
