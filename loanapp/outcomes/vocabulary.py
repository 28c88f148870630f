"""The outcome feature's codes (stored, named by CHECK constraints) and the words people read."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

PAYOFF = "payoff"

#: Where a check-in stands. ``upcoming``: not due yet; ``due``: open for an answer; ``overdue``: open,
#: unanswered past the grace days; ``missed``: the window closed unanswered (not reached; an officer
#: may still record a late answer); ``answered``.
STATES = ("upcoming", "due", "overdue", "missed", "answered")
OPEN_STATES = ("due", "overdue")
STATE_NAMES = {
    "upcoming": "Upcoming",
    "due": "Due",
    "overdue": "Overdue",
    "missed": "Not reached",
    "answered": "Answered",
}

SOURCES = ("self_report", "officer_call", "employer_confirmation", "pay_stub")
SOURCE_NAMES = {
    "self_report": "Worker self-report",
    "officer_call": "Officer call",
    "employer_confirmation": "Employer confirmation",
    "pay_stub": "Pay stub",
}
#: Sources an officer records (a worker's own answer is always a self-report).
OFFICER_SOURCES = ("officer_call", "employer_confirmation", "pay_stub")

COMMUTES: dict[str, Any] = {
    "car": _l("The car from this loan"),
    "other_car": _l("Another car"),
    "ride": _l("A ride from someone"),
    "bus": _l("Bus"),
    "walk_bike": _l("Walk or bike"),
    "other": _l("Other"),
}


def milestone_code(months: int | None) -> str:
    """``"3"`` for three months after booking; ``"payoff"`` for the check-in at payoff."""
    return PAYOFF if months is None else str(months)


def milestone_name(code: str) -> str:
    return "At payoff" if code == PAYOFF else f"{code} months"
