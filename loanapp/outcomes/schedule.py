"""When a loan's check-ins fall due and where each stands on a date (plain Python, no Flask, no database).

A check-in is due ``months`` after the loan's contract (booking) date, the same day of the month
(the last day when the month is shorter), and one more on the day the loan was paid off. It is open
for an answer from its due date for ``window_days``; after ``overdue_days`` unanswered it is overdue
(it heads the staff list), after the window it is *missed*: the worker was not reached.

>>> import datetime as dt
>>> [m.code for m in milestones(dt.date(2026, 1, 31), None, (3, 6))]
['3', '6']
>>> milestones(dt.date(2026, 1, 31), None, (1,))[0].due_on
datetime.date(2026, 2, 28)
>>> state_on(dt.date(2026, 4, 30), dt.date(2026, 5, 20), answered=False, overdue_days=14, window_days=60)
'overdue'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from loanapp.outcomes.vocabulary import PAYOFF, milestone_code
from risk.dates import add_months


@dataclass(frozen=True)
class Milestone:
    code: str  # "3", "6", ... or "payoff"
    months: int | None
    due_on: dt.date


@dataclass(frozen=True)
class OutcomePolicy:
    months: tuple[int, ...] = (3, 6, 12, 24)
    overdue_days: int = 14
    window_days: int = 60
    min_group: int = 5  # groups (and figures) from fewer borrowers are not shown

    @classmethod
    def from_config(cls, config: dict[str, object]) -> OutcomePolicy:
        months = tuple(sorted({int(m) for m in config["OUTCOME_CHECK_IN_MONTHS"]}))  # type: ignore[attr-defined]
        if not months or months[0] < 1 or months[-1] > 240:
            raise ValueError("OUTCOME_CHECK_IN_MONTHS must list months from 1 to 240")
        overdue = int(config["OUTCOME_CHECK_IN_OVERDUE_DAYS"])  # type: ignore[call-overload]
        window = int(config["OUTCOME_CHECK_IN_WINDOW_DAYS"])  # type: ignore[call-overload]
        if not 0 <= overdue < window:
            raise ValueError("OUTCOME_CHECK_IN_OVERDUE_DAYS must be under OUTCOME_CHECK_IN_WINDOW_DAYS")
        return cls(months, overdue, window, int(config["OUTCOME_MIN_GROUP"]))  # type: ignore[call-overload]


def milestones(contract_date: dt.date, paid_off_on: dt.date | None, months: Iterable[int]) -> list[Milestone]:
    """The loan's scheduled check-ins in date order (the payoff one only for a paid-off loan)."""
    found = [Milestone(milestone_code(m), m, add_months(contract_date, m)) for m in sorted(set(months))]
    if paid_off_on is not None:
        found.append(Milestone(PAYOFF, None, paid_off_on))
    return sorted(found, key=lambda m: (m.due_on, m.code == PAYOFF))


def state_on(due_on: dt.date, today: dt.date, *, answered: bool, overdue_days: int, window_days: int) -> str:
    """``upcoming``, ``due``, ``overdue``, ``missed`` or ``answered`` on ``today``."""
    if answered:
        return "answered"
    late = (today - due_on).days
    if late < 0:
        return "upcoming"
    if late < overdue_days:
        return "due"
    if late < window_days:
        return "overdue"
    return "missed"


def state_began(due_on: dt.date, state: str, *, overdue_days: int, window_days: int) -> dt.date:
    """The day an unanswered check-in took ``state`` (for rows written late, e.g. a backfill)."""
    offset = {"upcoming": 0, "due": 0, "overdue": overdue_days, "missed": window_days}[state]
    return due_on + dt.timedelta(days=offset)
