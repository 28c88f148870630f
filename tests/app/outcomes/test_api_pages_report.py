"""The check-in API, the worker's page in Spanish, the staff pages, and the outcome report (figures,
small groups hidden, CSV, JSON) with the headline the funder pack reads."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from loanapp.accounts.models import User
from loanapp.extensions import db
from loanapp.outcomes.models import CheckIn
from tests.app.outcomes.conftest import answer, refresh
from tests.app.servicing.conftest import fund, make_loan

TODAY = dt.date(2026, 4, 10)


def book(app: Flask, users: dict[str, int], count: int) -> Any:
    """``count`` loans booked 2026-01-05 (the first for ``worker``), check-ins scheduled; today April 10."""
    with app.test_request_context():
        people = {role: db.session.get(User, user_id) for role, user_id in users.items()}
        fund(people)
        loans = [make_loan(people, worker="worker" if n == 0 else "worker2") for n in range(count)]
        refresh(TODAY)
        db.session.commit()
        return SimpleNamespace(ids=[loan.id for loan in loans], people={r: u.id for r, u in people.items()})


@pytest.fixture
def booked(app: Flask, users: dict[str, int], on_date: Any) -> Any:
    on_date(TODAY)
    return book(app, users, 2)


@pytest.fixture
def five(app: Flask, users: dict[str, int], on_date: Any) -> Any:
    on_date(TODAY)
    return book(app, users, 5)


def checkins(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CheckIn)) or 0


BODY = {
    "employed": True,
    "employer_other": "Syracuse Castings",
    "hourly_wage": "16.25",
    "hours_per_week": 40,
    "commute": "car",
    "car_running": True,
    "started_job": True,
    "started_on": "2026-01-20",
}


def post(client: Any, headers: dict[str, str], loan_id: int, key: str = "k-1", **body: Any) -> Any:
    return client.post(
        f"/api/v1/loans/{loan_id}/check-ins",
        json={**BODY, **body},
        headers={**headers, "Idempotency-Key": key},
    )


def test_the_worker_answers_through_the_api_once(
    app: Flask, client: Any, token_for: Any, booked: Any
) -> None:
    worker = token_for("worker")
    first = post(client, worker, booked.ids[0])
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["milestone"] == "3" and body["source"] == "self_report" and body["hourly_wage"] == "16.25"
    assert post(client, worker, booked.ids[0]).get_json()["id"] == body["id"]  # a retry
    twice = post(client, worker, booked.ids[0], key="k-2", milestone="3")
    assert twice.status_code == 409 and "already answered" in twice.get_json()["message"]
    listed = client.get(f"/api/v1/loans/{booked.ids[0]}/check-ins", headers=worker).get_json()
    states = {c["milestone"]: c["state"] for c in listed["check_ins"]}
    assert states == {"3": "answered", "6": "upcoming", "12": "upcoming", "24": "upcoming"}
    assert listed["check_ins"][0]["answer"]["id"] == body["id"] and checkins(app) == 1


def test_bad_api_input_is_422_by_field_and_writes_nothing(
    app: Flask, client: Any, token_for: Any, booked: Any
) -> None:
    worker = token_for("worker")
    for number, (body, field) in enumerate(
        [
            ({"hourly_wage": "250.00"}, "hourly_wage"),
            ({"hours_per_week": 90}, "hours_per_week"),
            ({"checked_on": "2027-01-01"}, "checked_on"),
            ({"checked_on": "2025-12-31"}, "checked_on"),
            ({"employed": "yes"}, "employed"),
        ]
    ):
        response = post(client, worker, booked.ids[0], key=f"bad-{number}", **body)
        assert response.status_code == 422 and field in response.get_json()["errors"], body
    assert checkins(app) == 0


def test_who_may_answer_through_the_api(app: Flask, client: Any, token_for: Any, booked: Any) -> None:
    assert post(client, token_for("worker"), booked.ids[1]).status_code == 404  # someone else's loan
    assert post(client, token_for("staff"), booked.ids[0]).status_code == 403
    officer = post(client, token_for("officer"), booked.ids[1], source="officer_call")
    assert officer.status_code == 201 and officer.get_json()["source"] == "officer_call"
    missing = client.post(f"/api/v1/loans/{booked.ids[0]}/check-ins", json=BODY, headers=token_for("worker"))
    assert missing.status_code == 400 and "Idempotency-Key" in missing.get_json()["errors"]


def test_the_worker_answers_on_the_page_in_spanish(app: Flask, client: Any, auth: Any, booked: Any) -> None:
    auth.login("worker")
    client.get("/language/es")
    loan_page = client.get(f"/my/loans/{booked.ids[0]}").get_data(as_text=True)
    assert "Contestar el seguimiento" in loan_page
    page = client.get(f"/my/loans/{booked.ids[0]}/check-in").get_data(as_text=True)
    assert "¿Está trabajando ahora?" in page and "3 meses con su auto" in page
    key = page.split('name="key" value="')[1].split('"')[0]
    form = {"key": key, "milestone": "3", "employed": "yes", "employer_id": "other",
            "employer_other": "Syracuse Castings", "hourly_wage": "250", "hours_per_week": "40",
            "started_job": "yes", "started_on": "2026-01-20", "commute": "car", "car_running": "yes"}  # fmt: skip
    bad = client.post(f"/my/loans/{booked.ids[0]}/check-in", data=form)
    assert bad.status_code == 422 and "de $0 a $200" in bad.get_data(as_text=True) and checkins(app) == 0
    good = client.post(f"/my/loans/{booked.ids[0]}/check-in", data={**form, "hourly_wage": "15.50"})
    assert good.status_code == 302 and checkins(app) == 1
    again = client.post(
        f"/my/loans/{booked.ids[0]}/check-in", data={**form, "key": "other"}, follow_redirects=True
    )
    assert "Ya contestó este seguimiento" in again.get_data(as_text=True) and checkins(app) == 1
    assert client.get(f"/my/loans/{booked.ids[1]}/check-in").status_code == 404


def test_officers_see_the_due_list_and_record_a_call(app: Flask, client: Any, auth: Any, booked: Any) -> None:
    auth.login("officer")
    listing = client.get("/outcomes/check-ins").get_data(as_text=True)
    assert listing.count("/outcomes/loans/") == 2 and "3 months" in listing
    page = client.get(f"/outcomes/loans/{booked.ids[1]}").get_data(as_text=True)
    key = page.split('name="key" value="')[1].split('"')[0]
    form = {"key": key, "milestone": "3", "source": "employer_confirmation", "checked_on": "2026-04-09",
            "employed": "no", "started_job": "no", "car_running": "yes", "comment": "HR: left in March"}  # fmt: skip
    done = client.post(f"/outcomes/loans/{booked.ids[1]}/check-ins", data=form)
    assert done.status_code == 302 and checkins(app) == 1
    refused = client.post(
        f"/outcomes/loans/{booked.ids[0]}/check-ins", data={**form, "key": "x", "checked_on": "2030-01-01"}
    )
    assert refused.status_code == 422 and "cannot be in the future" in refused.get_data(as_text=True)
    assert client.get("/outcomes/check-ins").get_data(as_text=True).count("/outcomes/loans/") == 1


def _answer_all(app: Flask, booked: Any, wages: list[str]) -> None:
    from loanapp.outcomes import operations

    with app.test_request_context():
        officer = db.session.get(User, booked.people["officer"])
        for loan_id, wage in zip(booked.ids, wages, strict=False):
            operations.record_check_in(
                loan_id,
                answer(source="officer_call", hourly_wage=wage),
                actor=officer,
                key=operations.scoped_key(officer, secrets.token_hex(6)),
            )
        db.session.commit()


def test_the_report_hides_groups_under_five_and_shows_them_from_five(
    app: Flask, client: Any, auth: Any, token_for: Any, five: Any
) -> None:
    _answer_all(app, five, ["14.50"] * 4)
    staff = token_for("staff")
    small = client.get("/api/v1/reports/outcomes", headers=staff).get_json()
    three = small["total"]["milestones"][0]
    assert three["reached"] == 4 and three["not_reached"] == 0 and three["awaiting"] == 1
    assert three["suppressed"] and three["share_employed"] is None and three["median_wage"] is None
    _answer_all(app, SimpleNamespace(ids=five.ids[4:], people=five.people), ["16.00"])
    report = client.get("/api/v1/reports/outcomes", headers=staff).get_json()
    three = report["total"]["milestones"][0]
    assert three["reached"] == 5 and three["share_employed"] == "100.0"
    # Wage at application: the verified $13.50; now the median of 14.50 x4 and 16 = 14.50.
    assert three["median_wage_at_application"] == "13.50" and three["median_wage"] == "14.50"
    assert three["median_wage_change"] == "1.00"
    assert report["total"]["started_job"] == {"applicants": 5, "answered": 5, "started": 5, "share": "100.0"}
    assert report["headline"]["loans_made"] == 5 and report["headline"]["median_wage_change"] == "1.00"
    assert report["headline"]["employed_12_months"] is None  # nobody at 12 months yet
    groups = report["groups"]["cohort"]
    assert groups == [report["groups"]["cohort"][0]] and groups[0]["name"] == "2026-Q1"
    assert report["groups"]["referral_partner"][0]["borrowers"] == 5
    assert client.get("/api/v1/reports/outcomes", headers=token_for("worker")).status_code == 403

    auth.login("staff")
    page = client.get("/reports/outcomes").get_data(as_text=True)
    assert "Workers still employed at 12 months" in page and "fewer than 5 reached" in page
    csv_text = client.get("/reports/outcomes.csv").get_data(as_text=True)
    assert "total,All loans,5,3,5,0,0,5,100.0" in csv_text

    # The funder pack's summary of the same figures, for April.
    from loanapp.outcomes.summary import outcome_summary

    with app.app_context():
        summary = outcome_summary(db.session, (dt.date(2026, 4, 1), dt.date(2026, 4, 30)))
    assert summary.loans_made == 5 and summary.loans_made_in_period == 0
    assert summary.check_ins_answered_in_period == 5
    assert summary.median_wage_change == Decimal("1.00") and summary.reserve_used == Decimal("0.00")
    assert summary.employed_12 is None and summary.reserve_used_per_employed_worker is None


def test_a_small_group_is_not_shown() -> None:
    from loanapp.outcomes import report as rpt

    fact = rpt.LoanFact("2026-Q1", "PPC", "(none)", "(none)", "Employed", False, None, None, None, "current")
    other = rpt.LoanFact("2026-Q2", "PPC", "(none)", "(none)", "Employed", False, None, None, None, "current")
    report = rpt.build([fact] * 4 + [other] * 5, (3,), Decimal("0"))
    cohorts = {g.name: g for g in report.groups["cohort"]}
    assert cohorts["2026-Q1"].suppressed and cohorts["2026-Q1"].milestones == ()
    assert not cohorts["2026-Q2"].suppressed and cohorts["2026-Q2"].borrowers == 5
