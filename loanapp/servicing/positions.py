"""Every live loan's position on a date (days past due, credits, principal), read the cheapest true way.

Three sources, tried in order, give the same figures (tests/app/servicing/test_positions.py holds
them equal):

1. ``aging``: the date the nightly aging last ran for every active loan, with no payment received
   after it: the servicing rows themselves (one query).
2. ``month_end``: a month end whose delinquency snapshot stored a position per live loan
   (``loan_month_end_positions``), kept current by every later payment change dated on or before it
   (``operations.replay``); used only when every loan live that day has its row (one query).
3. ``computed``: any other date, from the credits received by then and the disclosed schedules
   (``aging.compute``).

The month-end rows are written here, by :func:`store_month_end` (the monthly snapshot's job) and
:func:`refresh_loan_month_ends` (inside a payment's transaction, called by ``operations``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, insert, select, text

from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.servicing import aging, bulk, queries
from loanapp.servicing.models import ChargeOff, DelinquencySnapshot, LoanServicing, MonthEndPosition
from loanapp.servicing.policy import ServicingPolicy
from risk import delinquency
from risk.hardship import in_force
from risk.money import money

IntArray = npt.NDArray[np.int64]

AGING = "aging"
MONTH_END = "month_end"
COMPUTED = "computed"


@dataclass(frozen=True)
class Positions:
    """Per live loan on ``as_of``, sorted by loan id; ``source`` says which of the three gave them."""

    as_of: dt.date
    source: str
    loan_ids: IntArray
    days_past_due: IntArray
    credited_cents: IntArray
    balance_cents: IntArray
    employer_ids: IntArray  # 0: none on file
    program_ids: IntArray  # 0: no training program

    def __len__(self) -> int:
        return len(self.loan_ids)


_COLUMNS = (
    "CAST(COALESCE(l.employer_id, 0) AS BIGINT), CAST(COALESCE(ap.training_program_id, 0) AS BIGINT) "
    "FROM loans l JOIN applications ap ON ap.id = l.application_id "
)


def _aged(as_of: dt.date) -> Positions | None:
    """The servicing rows, if every loan live on ``as_of`` was aged on exactly that date."""
    day = bulk.sql_date(as_of)
    session = db.session
    stale = session.execute(
        text(
            "SELECT COUNT(*) FROM loans l LEFT JOIN loan_servicing s ON s.loan_id = l.id "
            f"WHERE l.status = 'active' AND l.contract_date <= {day} AND (s.loan_id IS NULL "
            f"OR s.aged_on IS NULL OR s.aged_on <> {day} OR s.last_payment_on > {day})"
        )
    ).scalar_one()
    if stale:
        return None
    later_ends = session.execute(
        text(
            "SELECT (SELECT COUNT(*) FROM loans l JOIN loan_servicing s ON s.loan_id = l.id "
            f"WHERE l.status = 'paid_off' AND s.paid_off_on > {day}) + "
            f"(SELECT COUNT(*) FROM loan_charge_offs WHERE charged_off_on > {day})"
        )
    ).scalar_one()
    if later_ends:
        return None
    ids, days, credited, balance, employer, program = bulk.fetch_columns(
        session,
        "SELECT CAST(l.id AS BIGINT), CAST(s.days_past_due AS BIGINT), "
        "CAST(ROUND((s.total_to_fees + s.total_to_interest + s.total_to_principal) * 100) AS BIGINT), "
        "CAST(ROUND(s.principal_balance * 100) AS BIGINT), "
        + _COLUMNS
        + f"JOIN loan_servicing s ON s.loan_id = l.id WHERE l.status = 'active' AND l.contract_date <= {day} "
        "ORDER BY l.id",
        ["int"] * 6,
    )
    return Positions(as_of, AGING, ids, days, credited, balance, employer, program)


def _month_end(as_of: dt.date) -> Positions | None:
    """The stored month-end rows, if every loan live on ``as_of`` has one."""
    day = bulk.sql_date(as_of)
    session = db.session
    live = aging.live_selection(as_of)
    total, stored = session.execute(
        text(
            "SELECT COUNT(*), COUNT(m.loan_id) FROM loans l LEFT JOIN loan_servicing s ON s.loan_id = l.id "
            f"LEFT JOIN loan_month_end_positions m ON m.loan_id = l.id AND m.as_of = {day} WHERE {live}"
        )
    ).one()
    if not total or total != stored:
        return None
    ids, days, credited, balance, employer, program = bulk.fetch_columns(
        session,
        "SELECT CAST(l.id AS BIGINT), CAST(m.days_past_due AS BIGINT), CAST(ROUND(m.credited * 100) AS BIGINT), "
        "CAST(ROUND(m.principal_balance * 100) AS BIGINT), "
        + _COLUMNS
        + "LEFT JOIN loan_servicing s ON s.loan_id = l.id "
        f"JOIN loan_month_end_positions m ON m.loan_id = l.id AND m.as_of = {day} WHERE {live} ORDER BY l.id",
        ["int"] * 6,
    )
    return Positions(as_of, MONTH_END, ids, days, credited, balance, employer, program)


def computed(
    as_of: dt.date, policy: ServicingPolicy | None = None, progress: Callable[[str], None] | None = None
) -> Positions:
    """From the credits received by ``as_of`` and the schedules: right for any date, and the slowest."""
    live = aging.compute(as_of, which=aging.LIVE, policy=policy, progress=progress)
    return Positions(
        as_of,
        COMPUTED,
        live.loan_ids,
        live.days_past_due,
        live.credited_cents,
        live.balance_cents,
        live.employer_ids,
        live.program_ids,
    )


def positions_on(
    as_of: dt.date, *, policy: ServicingPolicy | None = None, progress: Callable[[str], None] | None = None
) -> Positions:
    """Every live loan's position on ``as_of``, from the first source that holds it (module docstring)."""
    return _aged(as_of) or _month_end(as_of) or computed(as_of, policy, progress)


# --- the month-end rows ---------------------------------------------------------------------------------


def store_month_end(positions: Positions) -> int:
    """Replace the stored positions of ``positions.as_of`` with these (the caller commits)."""
    session = db.session
    as_of = positions.as_of
    session.execute(delete(MonthEndPosition).where(MonthEndPosition.as_of == as_of))
    if not len(positions):
        return 0
    bulk.load_temp_table(
        session,
        "month_end_tmp",
        "loan_id BIGINT PRIMARY KEY, days_past_due INTEGER NOT NULL, credited BIGINT NOT NULL, "
        "balance BIGINT NOT NULL",
        ["loan_id", "days_past_due", "credited", "balance"],
        zip(
            positions.loan_ids.tolist(),
            positions.days_past_due.tolist(),
            positions.credited_cents.tolist(),
            positions.balance_cents.tolist(),
            strict=True,
        ),
    )
    # Cents to dollars: exact NUMERIC on PostgreSQL; SQLite keeps every Numeric column as a double.
    dollars = "CAST({} AS NUMERIC(14, 2)) / 100" if bulk.is_postgres(session) else "ROUND({} / 100.0, 2)"
    session.execute(
        text(
            "INSERT INTO loan_month_end_positions (loan_id, as_of, days_past_due, credited, principal_balance) "
            f"SELECT loan_id, {bulk.sql_date(as_of)}, days_past_due, {dollars.format('credited')}, "
            f"{dollars.format('balance')} FROM month_end_tmp"
        )
    )
    bulk.drop_temp_table(session, "month_end_tmp")
    return len(positions)


def _live_on(loan: Loan, row: LoanServicing | None, day: dt.date, charged_off_on: dt.date | None) -> bool:
    """The live selection of ``aging.compute`` for one loan."""
    if loan.contract_date > day:
        return False
    if loan.status == "active":
        return True
    if loan.status == "paid_off":
        return row is not None and row.paid_off_on is not None and row.paid_off_on > day
    if loan.status == "charged_off":
        return charged_off_on is not None and charged_off_on > day
    return False


def refresh_loan_month_ends(
    loan: Loan,
    row: LoanServicing | None,
    since: dt.date,
    *,
    schedule: Sequence[delinquency.Installment],
    credits: Sequence[delinquency.Credit],
    policy: ServicingPolicy,
    versions: Sequence[tuple[dt.date, Sequence[delinquency.Installment]]] | None = None,
) -> int:
    """Rewrite the loan's stored month-end positions from ``since`` on, after its credits changed.

    ``versions``: the schedule in force over time when hardship plans changed it (each month end is
    measured against the schedule in force that day, ``risk.hardship.in_force``).

    Only month ends with a snapshot are kept (those are the dates the report reads); the loan gets a
    row on each it was live on, and loses the row of one it no longer was (a backdated payoff).
    """
    session = db.session
    dates = list(
        session.scalars(
            select(DelinquencySnapshot.as_of).where(
                DelinquencySnapshot.scheme == "total", DelinquencySnapshot.as_of >= since
            )
        )
    )
    if not dates:
        return 0
    charged_off_on = (
        session.scalar(select(ChargeOff.charged_off_on).where(ChargeOff.loan_id == loan.id))
        if loan.status == "charged_off"
        else None
    )
    session.execute(
        delete(MonthEndPosition).where(MonthEndPosition.loan_id == loan.id, MonthEndPosition.as_of.in_(dates))
    )
    rows = []
    for day in dates:
        if not _live_on(loan, row, day, charged_off_on):
            continue
        position = queries.position_on(credits, loan.principal, day)
        rows.append(
            {
                "loan_id": loan.id,
                "as_of": day,
                "days_past_due": delinquency.days_past_due(
                    day,
                    in_force(versions, day) if versions else schedule,
                    position.credited,
                    tolerance=policy.tolerance,
                    balance=position.balance,
                ),
                "credited": money(position.credited),
                "principal_balance": money(position.balance),
            }
        )
    if rows:
        session.execute(insert(MonthEndPosition), rows)
    return len(rows)
