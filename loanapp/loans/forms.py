"""The officer's booking form (English)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField

from loanapp.applications.forms import DayField
from loanapp.clock import business_date
from loanapp.loans.operations import default_booking_dates


class BookingForm(FlaskForm):
    version = HiddenField()
    contract_date = DayField("Contract date")
    first_payment_date = DayField("First payment date")


def default_booking_form(application: Any) -> BookingForm:
    """Signed today, first payment a month later: what the officer usually books."""
    dates = default_booking_dates(business_date())
    return BookingForm(
        formdata=None,
        version=application.version,
        contract_date=dates.contract_date,
        first_payment_date=dates.first_payment_date,
    )
