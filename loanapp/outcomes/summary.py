"""The outcome headline for a period, for other features (the funder pack) to print beside their own
figures. Plain function over a session; needs the app's configuration only for the policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from loanapp.outcomes import queries
from loanapp.outcomes.schedule import OutcomePolicy


@dataclass(frozen=True)
class OutcomeSummary:
    """Loans booked through ``end``, as the outcome report shows them; ``None`` where the figure rests
    on fewer than ``min_group`` workers (not shown, so nobody can be picked out)."""

    start: dt.date
    end: dt.date
    loans_made: int  # loans booked through ``end``
    loans_made_in_period: int
    check_ins_answered_in_period: int  # first answers dated in the period (corrections not counted)
    reached_12: int
    employed_12: int | None
    share_employed_12: Decimal | None  # percent, one decimal
    median_wage_change: Decimal | None  # dollars per hour, application to latest answer
    reserve_used: Decimal  # claims paid less recoveries, through ``end``
    reserve_used_per_employed_worker: Decimal | None


def outcome_summary(
    session: Session, period: tuple[dt.date, dt.date], policy: OutcomePolicy | None = None
) -> OutcomeSummary:
    """The headline for ``period`` = (first day, last day), e.g. a month of the funder pack.

    The check-in states are those last written by the daily ``check_ins`` job (or an answer).
    """
    start, end = period
    if end < start:
        raise ValueError("the period ends before it starts")
    if policy is None:
        from flask import current_app

        policy = OutcomePolicy.from_config(current_app.config)
    report = queries.build_report(session, end, policy.months, policy.min_group, booked_to=end)
    in_period = len(queries.facts(session, start, end))
    head = report.headline
    return OutcomeSummary(
        start=start,
        end=end,
        loans_made=head.loans_made,
        loans_made_in_period=in_period,
        check_ins_answered_in_period=queries.answered_between(session, start, end),
        reached_12=head.reached_12,
        employed_12=head.employed_12,
        share_employed_12=head.share_employed_12,
        median_wage_change=head.median_wage_change,
        reserve_used=head.reserve_used,
        reserve_used_per_employed_worker=head.reserve_used_per_employed_worker,
    )
