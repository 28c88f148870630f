"""Collections fixtures: the servicing fixtures (loans booked on chosen dates, payments, business date)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tests.app.applications.conftest import accept, approve, submit, verify
from tests.app.servicing.conftest import (  # noqa: F401  (fixtures)
    BOOKED,
    _reference_lists,
    ctx,
    funded,
    loan,
    on_date,
    people,
)


def book(
    people: dict[str, Any],  # noqa: F811  (the fixture's value)
    *,
    worker: str = "worker",
    booked_on: dt.date = BOOKED,
    amount: str = "8500.00",
    term: int = 48,
    **names: Any,
) -> Any:
    """Book a loan like ``make_loan``, with the applicant's name and phone chosen (``first_name``...)."""
    from flask import current_app

    from loanapp.loans.operations import BookingInput, book_loan
    from risk.dates import add_months

    saved = current_app.config.get("BUSINESS_DATE")
    current_app.config["BUSINESS_DATE"] = booked_on
    try:
        application = submit(
            people[worker],
            offer_date=booked_on - dt.timedelta(days=3),
            start_date=booked_on + dt.timedelta(days=14),
            requested_amount=Decimal(amount),
            term_months=term,
            **names,
        )
        verify(application, people["officer"], start_date=booked_on + dt.timedelta(days=14))
        approve(application, people["officer"], "7.50")
        accept(application, people[worker])
        return book_loan(
            application,
            version=application.version,
            data=BookingInput(booked_on, add_months(booked_on, 1)),
            actor=people["officer"],
        )
    finally:
        current_app.config["BUSINESS_DATE"] = saved
