"""Importing the core system's payment export: check everything first, post all or nothing, never twice."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from loanapp.extensions import db
from loanapp.servicing.models import Payment
from tests.app.servicing.conftest import make_loan


@pytest.fixture
def two_loans(people: dict[str, Any], funded: None, on_date: Any) -> tuple[Any, Any]:
    on_date(dt.date(2026, 4, 20))
    first = make_loan(people)
    second = make_loan(people, amount="5000.00")
    db.session.commit()
    return first, second


def csv_text(rows: list[str]) -> str:
    return "\n".join(["loan_id,amount,received_on,method,reference", *rows]) + "\n"


def payments() -> int:
    return db.session.scalar(select(func.count()).select_from(Payment))  # type: ignore[return-value]


def write(tmp_path: Any, text: str, name: str = "payments.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_file_with_bad_rows_posts_nothing_and_names_every_bad_row(
    app: Flask, two_loans: tuple[Any, Any], tmp_path: Any
) -> None:
    first, second = two_loans
    text = csv_text(
        [
            f"{first.id},205.52,2026-02-05,ach,CORE-1",
            f"{first.id},0,2026-03-05,ach,CORE-2",
            f"{second.id},120.005,2026-02-05,ach,CORE-3",
            "999999,10.00,2026-02-05,ach,CORE-4",
            f"{second.id},10.00,2099-01-01,ach,CORE-5",
            f"{second.id},10.00,2026-02-30,ach,CORE-6",
            f"{second.id},10.00,2026-02-05,wire,CORE-7",
            f"{second.id},10.00,2026-02-05,ach,",
            f"{second.id},120.00,2026-02-05,check,CORE-1",
            f"{second.id},120.00,2026-02-05,check,CORE-9",
        ]
    )
    result = app.test_cli_runner().invoke(
        args=["import-payments", write(tmp_path, text), "--as", "officer@example.org"]
    )
    assert result.exit_code == 1
    output = result.output
    for line, words in [
        (3, "amount: Must be more than zero"),
        (4, "amount: Use dollars and cents"),
        (5, "there is no loan 999999"),
        (6, "received_on: The received date cannot be after"),
        (7, "received_on '2026-02-30' is not a date"),
        (8, "method: Choose one of"),
        (9, "reference is empty"),
        (10, "reference 'CORE-1' is also on line 2"),
    ]:
        assert f"line {line}: " in output and words in output, (line, output)
    assert "line 2:" not in output and "line 11:" not in output
    assert "nothing posted" in output
    assert payments() == 0


def test_skip_bad_posts_the_good_rows_and_a_second_import_posts_nothing_twice(
    app: Flask, two_loans: tuple[Any, Any], tmp_path: Any
) -> None:
    first, second = two_loans
    text = csv_text(
        [
            f"{first.id},205.52,2026-03-05,ach,CORE-11",
            f"{first.id},205.52,2026-02-05,ach,CORE-10",  # out of order in the file: posted in date order
            f"{second.id},-5.00,2026-02-05,ach,CORE-12",
            f"{second.id},120.90,2026-02-05,check,CORE-13",
        ]
    )
    path = write(tmp_path, text)
    cli = app.test_cli_runner()
    result = cli.invoke(args=["import-payments", path, "--as", "officer@example.org", "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "line 4:" in result.output and "3 posted" in result.output
    assert payments() == 3
    again = cli.invoke(args=["import-payments", path, "--as", "officer@example.org", "--skip-bad"])
    assert "0 posted, 3 already posted" in again.output
    assert payments() == 3
    # The same reference with other details is an error, not a second payment.
    changed = write(tmp_path, csv_text([f"{first.id},999.00,2026-02-05,ach,CORE-10"]), "changed.csv")
    refused = cli.invoke(args=["import-payments", changed, "--as", "officer@example.org"])
    assert refused.exit_code == 1 and "imported before with other details" in refused.output
    assert payments() == 3


def test_the_importer_must_be_an_officer_and_the_header_must_be_right(
    app: Flask, two_loans: tuple[Any, Any], tmp_path: Any
) -> None:
    cli = app.test_cli_runner()
    path = write(tmp_path, csv_text([]))
    assert cli.invoke(args=["import-payments", path, "--as", "worker@example.org"]).exit_code != 0
    bad = write(tmp_path, "loan,amount\n1,2\n", "bad.csv")
    result = cli.invoke(args=["import-payments", bad, "--as", "officer@example.org"])
    assert result.exit_code == 1 and "line 1: The header row must name the columns" in result.output


def test_the_upload_page_reports_bad_rows_and_posts_nothing(
    client: Any, auth: Any, two_loans: tuple[Any, Any]
) -> None:
    first, _ = two_loans
    auth.login("officer")
    text = csv_text([f"{first.id},205.52,2026-02-05,ach,WEB-1", f"{first.id},abc,2026-03-05,ach,WEB-2"])
    response = client.post(
        "/servicing/payments/import",
        data={"file": (io.BytesIO(text.encode()), "export.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert (
        response.status_code == 422
        and "Nothing was posted" in page
        and "amount &#39;abc&#39; is not an amount" in page
    )
    assert payments() == 0
    response = client.post(
        "/servicing/payments/import",
        data={"file": (io.BytesIO(text.encode()), "export.csv"), "skip_bad": "y"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "1 posted" in response.get_data(as_text=True)
    assert payments() == 1
    assert client.post("/servicing/payments/import", data={}).status_code == 422


def test_a_dry_run_on_the_page_says_what_would_post_and_posts_nothing(
    client: Any, auth: Any, two_loans: tuple[Any, Any]
) -> None:
    first, second = two_loans
    auth.login("officer")
    text = csv_text([f"{first.id},205.52,2026-02-05,ach,DRY-1", f"{second.id},100.00,2026-02-06,cash,DRY-2"])
    response = client.post(
        "/servicing/payments/import",
        data={"file": (io.BytesIO(text.encode()), "export.csv"), "action": "check"},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Checked: nothing was posted" in page and "would post 2" in page
    assert payments() == 0
    template = client.get("/servicing/payments/import-template.csv")
    lines = template.get_data(as_text=True).splitlines()
    assert template.mimetype == "text/csv" and lines[0] == "loan_id,amount,received_on,method,reference"
    assert len(lines[1].split(",")) == 5
