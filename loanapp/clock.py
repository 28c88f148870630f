"""The business date: today in Syracuse, or a fixed date set in configuration (tests, backfills, demos)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app


def business_date() -> dt.date:
    """``BUSINESS_DATE`` (ISO date) when configured, else today where the credit union is."""
    fixed = current_app.config.get("BUSINESS_DATE")
    if fixed:
        return fixed if isinstance(fixed, dt.date) else dt.date.fromisoformat(str(fixed))
    return dt.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()
