"""``flask --app loanapp project``: table, CSV and JSON output, ``--save``, and refusals as usage errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select

from loanapp.audit.models import AuditEvent
from loanapp.extensions import db
from loanapp.projections import assumptions
from loanapp.projections.commands import CSV_COLUMNS
from loanapp.projections.models import ProjectionRun
from tests.app.servicing.conftest import fund, make_loan, pay

SMALL = ["--paths", "200", "--horizon", "12", "--seed", "5"]


@pytest.fixture
def book(people: dict[str, Any], on_date: Any) -> None:
    """$8,000 of grant money, three loans (one never paid), today 2026-05-10; no pipeline."""
    fund(people, "8000.00")
    loans = [make_loan(people, amount=amount) for amount in ("8500.00", "6000.00", "4000.00")]
    for loan in loans[:2]:
        for month in (2, 3, 4, 5):
            pay(loan, str(loan.payment_amount), dt.date(2026, month, 5), people["officer"])
    on_date(dt.date(2026, 5, 10))
    values = {**current_app.config["PROJECTION_ASSUMPTIONS"], "originations_per_month": 0}
    assumptions.save(values, actor=people["staff"], note="test book", config=current_app.config)
    db.session.commit()


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(ProjectionRun)),
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
    )


def project(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["project", *args])


def test_json_is_the_run_document_with_exact_money_and_nothing_is_stored(book: None, runner: Any) -> None:
    before = counts()
    result = project(runner, *SMALL, "--format", "json")

    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout, parse_float=Decimal)
    assert run["id"] is None and run["links"] is None and run["source"] == "cli"
    assert run["status"] == "succeeded" and run["kind"] == "request"
    assert run["paths"] == 200 and run["horizon_months"] == 12 and run["seed"] == "5"
    assert run["as_of"] == "2026-05-10" and run["assumption_set_version"] == 1
    assert run["overrides"] == {"paths": 200, "horizon_months": 12}
    document = run["result"]
    assert document["book"]["available"] == "5225.00"
    base = document["scenarios"][0]
    assert base["name"] == "base" and len(base["available"]["p50"]) == 12
    assert all(
        isinstance(v, str) and Decimal(v) == Decimal(v).quantize(Decimal("0.01"))
        for v in base["available"]["p5"]
    )
    assert counts() == before


def test_the_cli_and_the_api_give_the_same_document_for_the_same_seed(
    book: None, runner: Any, client: Any, token_for: Any
) -> None:
    printed = json.loads(project(runner, *SMALL, "--format", "json").stdout, parse_float=Decimal)
    answered = client.post(
        "/api/v1/projections",
        json={"paths": 200, "horizon_months": 12, "seed": 5},
        headers=token_for("staff"),
    ).get_json()
    assert printed["result"] == answered["result"]
    assert set(printed) == set(answered)


def test_csv_has_one_row_per_scenario_and_month(book: None, runner: Any) -> None:
    result = project(runner, *SMALL, "--scenario", "all", "--format", "csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 5 * 12
    assert [r["scenario"] for r in rows[::12]] == [
        "base",
        "largest_employer_closes",
        "roll_rates_x2",
        "no_new_grant_money",
        "recovery_rate_halves",
    ]
    first, last = rows[0], rows[11]
    assert (first["month"], first["month_end"]) == ("1", "2026-06-30")
    assert (last["month"], last["month_end"]) == ("12", "2027-05-31")
    for row in rows:
        for band in ("available", "cumulative_claims"):
            p5, p50, p95 = (Decimal(row[f"{band}_{p}"]) for p in ("p5", "p50", "p95"))
            assert p5 <= p50 <= p95
        assert 0 <= float(row["exhaustion_probability"]) <= 1
        assert Decimal(row["expected_claims"]) == Decimal(row["expected_claims"]).quantize(Decimal("0.01"))
    # Expected claims are each scenario's own mean over its paths: its months add up to its total's mean.
    document = json.loads(project(runner, *SMALL, "--scenario", "all", "--format", "json").stdout)
    for entry in document["result"]["scenarios"]:
        months = [r for r in rows if r["scenario"] == entry["name"]]
        assert sum(Decimal(r["expected_claims"]) for r in months) == Decimal(entry["total_claims"]["mean"])


def test_the_table_summarises_each_scenario(book: None, runner: Any) -> None:
    result = project(
        runner, "--paths", "200", "--horizon", "30", "--seed", "5", "--scenario", "roll_rates_x2"
    )

    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Projection of the reserve from 2026-05-10: 200 paths, 30 months, seed 5" in text
    assert "Book: 3 loans" in text and "$5,225.00 available" in text
    assert "Base case (base)" in text and "Roll rates double (roll_rates_x2)" in text
    assert text.count("P(reserve exhausted) by month 30: ") == 2
    assert text.count("P50 available: month 12 $") == 2 and "month 24 $" in text and "month 30 $" in text
    assert "month 36" not in text
    assert text.count("Total claims over 30 months: expected (mean) $") == 2 and ", P95 $" in text
    assert "Grant needed by 2026-08-31 to keep P(exhausted) at or under 5.0%: " in text


def test_save_keeps_the_run_for_the_page_and_the_api(
    book: None, runner: Any, client: Any, token_for: Any
) -> None:
    before = counts()
    result = project(runner, *SMALL, "--set", "recovery_rate=0.2", "--save", "--format", "json")

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout, parse_float=Decimal)
    assert printed["id"] is not None and f"saved as projection run {printed['id']}" in result.stderr
    assert counts() == (before[0] + 1, before[1] + 1)
    run = db.session.get(ProjectionRun, printed["id"])
    assert run.source == "cli" and run.requested_by is None and run.status == "succeeded"
    assert run.overrides == {"paths": 200, "horizon_months": 12, "recovery_rate": "0.2"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "projection.requested"))
    assert event.entity_id == str(run.id) and event.details["source"] == "cli"
    read = client.get(f"/api/v1/projections/{run.id}", headers=token_for("staff")).get_json()
    assert read == printed


def test_output_goes_to_a_file(book: None, runner: Any, tmp_path: Path) -> None:
    target = tmp_path / "bands.csv"
    result = project(runner, *SMALL, "--format", "csv", "--output", str(target))

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS) and len(lines) == 1 + 12


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--paths", "0"], "--paths"),
        (["--paths", "1000000000"], "--paths"),  # over PROJECTION_MAX_PATHS
        (["--paths", "many"], "--paths"),
        (["--horizon", "-3"], "--horizon"),
        (["--horizon", "121"], "--horizon"),
        (["--seed", "-1"], "--seed"),
        (["--set", "recovery_rate=1.5"], "recovery_rate"),
        (["--set", "origination_rate=20"], "--set origination_rate"),
        (["--set", "no_such_setting=1"], "no_such_setting"),
        (["--set", "recovery_rate"], "--set"),
        (["--set", "paths=10"], "--paths"),
        (["--scenario", "meteor"], "--scenario"),
        (["--as-of", "2026-13-01"], "--as-of"),
        (["--format", "xml"], "--format"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_option(
    app: Flask, runner: Any, users: dict[str, int], args: list[str], named: str
) -> None:
    with app.app_context():
        before = counts()
    result = project(runner, *args, "--save")

    assert result.exit_code == 2, result.output
    assert named in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert counts() == before


def test_several_bad_settings_are_each_named(app: Flask, runner: Any) -> None:
    result = project(runner, "--paths", "0", "--set", "layoff_probability=2")
    assert result.exit_code == 2
    assert "--paths: " in result.output and "--set layoff_probability: " in result.output
