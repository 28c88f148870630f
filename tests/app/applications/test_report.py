"""The program report: figures by month, employer, status, program and partner; page and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask

from loanapp.reports.program import ApplicationFact, build

DAY = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _fact(**overrides: Any) -> ApplicationFact:
    values: dict[str, Any] = {
        "month": "2026-03",
        "employer": "PPC",
        "employment_status": "Employed",
        "training_program": "—",
        "referral_partner": "CNY Works",
        "decision": None,
        "reasons": (),
        "submitted_at": DAY,
        "decided_at": None,
        "loan_principal": None,
    }
    values.update(overrides)
    return ApplicationFact(**values)


def test_report_counts_decisions_rates_medians_and_amounts() -> None:
    report = build(
        [
            _fact(decision="approve", decided_at=DAY + timedelta(days=1), loan_principal=Decimal("9000.00")),
            _fact(decision="counter_offer", decided_at=DAY + timedelta(days=3), employer="Cryomech"),
            _fact(
                decision="decline",
                decided_at=DAY + timedelta(days=6),
                reasons=("insufficient_income", "excessive_obligations"),
                month="2026-04",
            ),
            _fact(decision="decline", decided_at=DAY + timedelta(days=2), reasons=("insufficient_income",)),
            _fact(),
        ]
    )
    total = report.total
    assert (total.applications, total.approvals, total.counter_offers, total.declines) == (5, 1, 1, 2)
    assert total.approval_rate == Decimal("50.0")  # (1 + 1) of 4 decisions
    assert total.median_days_to_decision == Decimal("2.5")  # of 1, 2, 3, 6 days
    assert total.loans_booked == 1 and total.amount_booked == Decimal("9000.00")
    assert [g.name for g in report.groups["month"]] == ["2026-03", "2026-04"]
    assert report.groups["employer"][0].name == "PPC" and report.groups["employer"][0].applications == 4
    assert report.decline_reasons == [("insufficient_income", 2), ("excessive_obligations", 1)]


def test_a_group_without_decisions_has_no_rate() -> None:
    assert build([_fact()]).total.approval_rate is None


def _seed(app: Flask, users: dict[str, int]) -> None:
    from loanapp.accounts.models import User
    from loanapp.applications.operations import decide
    from loanapp.applications.rules import DecisionInput
    from loanapp.extensions import db
    from tests.app.applications.conftest import approve, submit

    with app.test_request_context():
        officer = db.session.get(User, users["officer"])
        first = submit(db.session.get(User, users["worker"]))
        approve(first, officer)
        second = submit(
            db.session.get(User, users["worker2"]), employer_id=None, employer_other="Syracuse Castings"
        )
        decide(
            second,
            version=second.version,
            data=DecisionInput(kind="decline", reasons=("excessive_obligations",)),
            actor=officer,
        )
        db.session.commit()


def test_report_page_shows_charts_and_tables_without_personal_data(app: Flask, client, auth, users) -> None:  # type: ignore[no-untyped-def]
    _seed(app, users)
    auth.login("staff")
    response = client.get("/reports/program")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<svg" in text and "By employer" in text and "By referral partner" in text
    assert "Excessive obligations in relation to income" in text
    assert "Syracuse Castings (not in the list)" in text
    assert "4821" not in text and "Reyes" not in text and "/documents/" not in text
    assert " style=" not in text and "<script>" not in text


def test_report_csv_has_one_row_per_group(app: Flask, client, auth, users) -> None:  # type: ignore[no-untyped-def]
    _seed(app, users)
    auth.login("staff")
    response = client.get("/reports/program.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["dimension", "group", "applications"]
    total = rows[1]
    assert total[0] == "total" and total[2:6] == ["2", "1", "0", "1"] and total[6] == "50.0"
    dimensions = {row[0] for row in rows[1:]}
    assert dimensions == {
        "total",
        "month",
        "employer",
        "employment_status",
        "training_program",
        "referral_partner",
        "decline_reason",
    }
    assert "4821" not in response.get_data(as_text=True)


def test_report_period_filter(app: Flask, client, auth, users) -> None:  # type: ignore[no-untyped-def]
    _seed(app, users)
    auth.login("staff")
    text = client.get("/reports/program?start=2001-01-01&end=2001-12-31").get_data(as_text=True)
    assert "No applications in this period." in text


def test_workers_cannot_see_the_report(client, auth) -> None:  # type: ignore[no-untyped-def]
    auth.login("worker")
    assert client.get("/reports/program").status_code == 403
    assert client.get("/reports/program.csv").status_code == 403
