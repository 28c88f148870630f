"""Fixtures for outcomes: loans booked through the real operations (servicing's helpers), the business
date moved per test, and the daily check-in job run on a chosen date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.app.servicing import conftest as servicing
from tests.app.servicing.conftest import make_loan

# servicing's fixtures, used here as they are there
_reference_lists = servicing._reference_lists
ctx = servicing.ctx
people = servicing.people
on_date = servicing.on_date
funded = servicing.funded

THREE_MONTHS = dt.date(2026, 4, 5)  # BOOKED + 3 months


def refresh(day: dt.date) -> dict[str, int]:
    """The daily job's work on ``day`` (the job itself runs in its own transaction; tests roll back)."""
    from flask import current_app

    from loanapp.outcomes.operations import refresh_all

    current_app.config["BUSINESS_DATE"] = day
    return refresh_all(day)


def answer(**overrides: Any) -> Any:
    """A complete answer as the API or a page hands it to the operation."""
    from loanapp.outcomes.operations import CheckInInput

    fields: dict[str, Any] = {
        "employed": True,
        "car_running": True,
        "employer_id": None,
        "employer_other": "Syracuse Castings",
        "hourly_wage": "16.25",
        "hours_per_week": "40",
        "commute": "car",
        "started_job": True,
        "started_on": "2026-01-19",
    }
    fields.update(overrides)
    return CheckInInput(**fields)


@pytest.fixture
def loan(people: dict[str, Any], funded: None, on_date: Any) -> Any:
    """The worker's job-offer loan booked 2026-01-05, with its check-ins scheduled; today is April 10."""
    booked = make_loan(people)
    on_date(dt.date(2026, 4, 10))
    refresh(dt.date(2026, 4, 10))
    return booked
