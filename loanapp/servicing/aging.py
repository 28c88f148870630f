"""The nightly aging of the whole portfolio, set-based: one query per table in, numpy in the middle
(``risk.delinquency.days_past_due_many``), a handful of UPDATE/INSERT statements out. No ORM object
per loan.

``compute`` gives every loan's days past due and principal on a date from the stored credits and the
disclosed schedules; the aging writes it to ``loan_servicing`` and extends the bucket history, the
delinquency report and the monthly snapshot read it for past dates.

The writes skip a loan whose servicing row changed since it was read (its ``version``): a payment
recorded while the aging ran has already brought that loan up to date. They also skip loans already
aged past the date (a backfill of an old date never rewinds the current state).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select, text

from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.servicing import bulk
from loanapp.servicing.policy import ServicingPolicy, current_policy
from risk.delinquency import days_past_due_many, unpaid_installments

IntArray = npt.NDArray[np.int64]
Progress = Callable[[str], None]

#: Which loans a computation covers: the aging ages active loans; a report as of a past date covers
#: the loans that were live on that date (booked, not yet paid off or charged off).
ACTIVE = "active"
LIVE = "live"


@dataclass(frozen=True)
class PortfolioOnDate:
    """Per loan (sorted by id): days past due and principal on ``as_of``, plus what the writes need."""

    as_of: dt.date
    loan_ids: IntArray
    versions: IntArray
    credited_cents: IntArray
    balance_cents: IntArray
    employer_ids: IntArray
    program_ids: IntArray
    days_past_due: IntArray
    late_fee_due: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.loan_ids)


def _selection(as_of: dt.date, which: str) -> str:
    day = bulk.sql_date(as_of)
    if which == ACTIVE:
        return (
            f"l.status = 'active' AND l.contract_date <= {day} "
            f"AND s.loan_id IS NOT NULL AND (s.aged_on IS NULL OR s.aged_on <= {day})"
        )
    return (
        f"l.contract_date <= {day} AND (l.status = 'active' "
        f"OR (l.status = 'paid_off' AND s.paid_off_on > {day}) "
        f"OR (l.status = 'charged_off' AND EXISTS (SELECT 1 FROM loan_charge_offs c "
        f"WHERE c.loan_id = l.id AND c.charged_off_on > {day})))"
    )


def live_selection(as_of: dt.date) -> str:
    """SQL condition on ``l`` (loans) and ``s`` (their servicing rows, left-joined): live on ``as_of``."""
    return _selection(as_of, LIVE)


def _as_of_value(column: str, fallback: str, as_of: dt.date) -> str:
    """A loan's cumulative ``column`` from the last allocation received by ``as_of``: the stored state
    when the loan has no later payment (the nightly case), else a lookup of that allocation."""
    day = bulk.sql_date(as_of)
    return (
        f"CASE WHEN s.loan_id IS NULL THEN {fallback} "
        f"WHEN s.last_payment_on IS NULL OR s.last_payment_on <= {day} THEN {{stored}} "
        f"ELSE COALESCE((SELECT a.{column} FROM payment_allocations a WHERE a.loan_id = l.id "
        f"AND a.received_on <= {day} ORDER BY a.sequence DESC LIMIT 1), {fallback}) END"
    )


def compute(
    as_of: dt.date,
    *,
    which: str = LIVE,
    policy: ServicingPolicy | None = None,
    progress: Progress | None = None,
) -> PortfolioOnDate:
    """Days past due of every selected loan on ``as_of``, vectorised."""
    policy = policy or current_policy()
    say = progress or (lambda _step: None)
    session = db.session
    day = bulk.sql_date(as_of)
    where = _selection(as_of, which)
    credited = _as_of_value("credited_after", "0", as_of).format(
        stored="s.total_to_fees + s.total_to_interest + s.total_to_principal"
    )
    balance = _as_of_value("principal_after", "l.principal", as_of).format(stored="s.principal_balance")
    loans_sql = (
        "SELECT CAST(l.id AS BIGINT), CAST(COALESCE(s.version, 0) AS BIGINT), "
        f"CAST(ROUND(({credited}) * 100) AS BIGINT), CAST(ROUND(({balance}) * 100) AS BIGINT), "
        "CAST(COALESCE(l.employer_id, 0) AS BIGINT), CAST(COALESCE(ap.training_program_id, 0) AS BIGINT) "
        "FROM loans l LEFT JOIN loan_servicing s ON s.loan_id = l.id "
        "JOIN applications ap ON ap.id = l.application_id "
        f"WHERE {where} ORDER BY l.id"
    )
    loan_ids, versions, credited_cents, balance_cents, employers, programs = bulk.fetch_columns(
        session, loans_sql, ["int"] * 6
    )
    say("loans loaded")
    installments_sql = (
        "SELECT CAST(i.loan_id AS BIGINT), i.due_date, CAST(ROUND(i.payment * 100) AS BIGINT), "
        "CAST(CASE WHEN i.number = l.term_months THEN 1 ELSE 0 END AS BIGINT) "
        "FROM loan_installments i JOIN loans l ON l.id = i.loan_id "
        "LEFT JOIN loan_servicing s ON s.loan_id = l.id "
        f"WHERE {where} AND i.due_date <= {day} ORDER BY i.loan_id, i.number"
    )
    inst_loan, due_day, amount, final = bulk.fetch_columns(
        session, installments_sql, ["int", "date", "int", "int"]
    )
    say("schedules loaded")
    position = np.searchsorted(loan_ids, inst_loan)
    tolerance = int(policy.tolerance * 100)
    dpd = days_past_due_many(
        as_of.toordinal(),
        position,
        due_day,
        amount,
        final.astype(bool),
        credited_cents,
        balance_cents,
        tolerance,
    )
    late_fee_due = np.zeros(len(loan_ids), dtype=bool)
    if policy.late_fees and len(inst_loan):
        unpaid = unpaid_installments(
            position, amount, final.astype(bool), credited_cents, balance_cents, tolerance
        )
        hit = unpaid & (due_day + policy.late_fee_grace_days == as_of.toordinal())
        late_fee_due[np.unique(position[hit])] = True
    say("days past due computed")
    return PortfolioOnDate(
        as_of, loan_ids, versions, credited_cents, balance_cents, employers, programs, dpd, late_fee_due
    )


def ensure_servicing_rows(as_of: dt.date, policy: ServicingPolicy) -> int:
    """Give every active loan booked by ``as_of`` a servicing row (as booked: nothing paid yet)."""
    day = bulk.sql_date(as_of)
    result = db.session.execute(
        text(
            "INSERT INTO loan_servicing (loan_id, principal_balance, accrued_interest, interest_as_of, "
            "fees_due, total_paid, total_to_fees, total_to_interest, total_to_principal, total_excess, "
            "days_past_due, bucket, version, updated_at) "
            "SELECT l.id, l.principal, 0, l.contract_date, 0, 0, 0, 0, 0, 0, 0, :bucket, 1, l.booked_at "
            "FROM loans l WHERE l.status = 'active' AND l.contract_date <= "
            f"{day} AND NOT EXISTS (SELECT 1 FROM loan_servicing s WHERE s.loan_id = l.id)"
        ),
        {"bucket": policy.current},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def age_portfolio(as_of: dt.date, *, progress: Progress | None = None) -> dict[str, Any]:
    """The nightly aging for ``as_of``: days past due and bucket of every active loan, bucket history
    extended (a row closes and another opens where the bucket changed), late fees where due, and
    matured loans with a residual within the tolerance closed out (:func:`close_matured_small_balances`)."""
    policy = current_policy()
    say = progress or (lambda _step: None)
    session = db.session
    created = ensure_servicing_rows(as_of, policy)
    portfolio = compute(as_of, which=ACTIVE, policy=policy, progress=say)
    index = np.maximum(policy.buckets.indexes_for(portfolio.days_past_due), 0)
    labels = np.asarray(policy.buckets.labels, dtype=object)[index]
    bulk.load_temp_table(
        session,
        "aging_tmp",
        "loan_id BIGINT PRIMARY KEY, version BIGINT NOT NULL, dpd INTEGER NOT NULL, "
        "bucket VARCHAR(20) NOT NULL, applied INTEGER NOT NULL DEFAULT 0",
        ["loan_id", "version", "dpd", "bucket"],
        zip(
            portfolio.loan_ids.tolist(),
            portfolio.versions.tolist(),
            portfolio.days_past_due.tolist(),
            labels.tolist(),
            strict=True,
        ),
    )
    day = bulk.sql_date(as_of)
    postgres = bulk.is_postgres(session)
    if postgres:
        session.execute(text("ANALYZE aging_tmp"))
    matches = (
        "s.loan_id = t.loan_id AND s.version = t.version AND (s.aged_on IS NULL OR s.aged_on <= " + day + ")"
    )
    set_values = f"days_past_due = t.dpd, bucket = t.bucket, aged_on = {day}, version = s.version + 1"
    if postgres:
        # One statement: the rows it updates stay locked until commit, so "applied" is exactly them.
        session.execute(
            text(
                f"WITH upd AS (UPDATE loan_servicing AS s SET {set_values} FROM aging_tmp t "
                f"WHERE {matches} RETURNING s.loan_id) "
                "UPDATE aging_tmp SET applied = 1 FROM upd WHERE upd.loan_id = aging_tmp.loan_id"
            )
        )
    else:
        # SQLite has one writer at a time: nothing can change between these two statements.
        session.execute(
            text(
                "UPDATE aging_tmp SET applied = 1 WHERE EXISTS (SELECT 1 FROM loan_servicing s, aging_tmp t "
                f"WHERE t.loan_id = aging_tmp.loan_id AND {matches})"
            )
        )
        session.execute(
            text(
                f"UPDATE loan_servicing AS s SET {set_values} FROM aging_tmp t "
                "WHERE s.loan_id = t.loan_id AND t.applied = 1"
            )
        )
    say("servicing rows updated")
    changed = (
        "EXISTS (SELECT 1 FROM aging_tmp t WHERE t.loan_id = loan_bucket_history.loan_id "
        "AND t.applied = 1 AND t.bucket <> loan_bucket_history.bucket)"
    )
    closed = session.execute(
        text(
            f"UPDATE loan_bucket_history SET closed_on = {day} "
            f"WHERE closed_on IS NULL AND opened_on < {day} AND {changed}"
        )
    ).rowcount  # type: ignore[attr-defined]
    session.execute(
        text(
            "UPDATE loan_bucket_history SET bucket = (SELECT t.bucket FROM aging_tmp t "
            "WHERE t.loan_id = loan_bucket_history.loan_id) "
            f"WHERE closed_on IS NULL AND opened_on = {day} AND {changed}"
        )
    )
    opened = session.execute(
        text(
            "INSERT INTO loan_bucket_history (loan_id, bucket, opened_on) "
            "SELECT t.loan_id, t.bucket, CASE WHEN t.bucket = :current AND NOT EXISTS "
            "(SELECT 1 FROM loan_bucket_history h2 WHERE h2.loan_id = t.loan_id) "
            f"THEN l.contract_date ELSE {day} END "
            "FROM aging_tmp t JOIN loans l ON l.id = t.loan_id WHERE t.applied = 1 AND NOT EXISTS "
            "(SELECT 1 FROM loan_bucket_history h WHERE h.loan_id = t.loan_id AND h.closed_on IS NULL)"
        ),
        {"current": policy.current},
    ).rowcount  # type: ignore[attr-defined]
    applied = int(session.execute(text("SELECT COUNT(*) FROM aging_tmp WHERE applied = 1")).scalar_one())
    bulk.drop_temp_table(session, "aging_tmp")
    say("bucket history extended")

    fees = 0
    if policy.late_fees and portfolio.late_fee_due.any():
        from loanapp.servicing.operations import replay

        for loan_id in portfolio.loan_ids[portfolio.late_fee_due].tolist():
            loan = session.get(Loan, loan_id)
            if loan is not None and loan.status == "active":
                fees += replay(loan, as_of, actor=None, policy=policy, today=as_of).fees_assessed
    closed = close_matured_small_balances(as_of, policy)
    counts: dict[str, Any] = {
        "loans": len(portfolio),
        "small_balances_closed": closed,
        "aged": applied,
        "skipped": len(portfolio) - applied,
        "servicing_rows_created": created,
        "bucket_changes": int(opened),
        "history_rows_closed": int(closed),
        "late_fees": fees,
    }
    for position, label in enumerate(policy.buckets.labels):
        counts[f"bucket {label}"] = int(np.count_nonzero(index == position))
    return counts


def close_matured_small_balances(as_of: dt.date, policy: ServicingPolicy) -> int:
    """Replay, from its maturity date, every active loan past maturity with no more principal than
    the residual tolerance: the replay writes off a residual within the tolerance and pays the loan
    off (releasing its commitment) in this transaction. Returns how many paid off."""
    from loanapp.servicing.models import LoanServicing
    from loanapp.servicing.operations import replay

    matured = db.session.scalars(
        select(Loan)
        .join(LoanServicing, LoanServicing.loan_id == Loan.id)
        .where(
            Loan.status == "active",
            Loan.maturity_date <= as_of,
            LoanServicing.principal_balance > 0,
            LoanServicing.principal_balance <= policy.residual_tolerance,
        )
        .order_by(Loan.id)
    ).all()
    closed = 0
    for loan in matured:
        replay(loan, loan.maturity_date, actor=None, policy=policy, today=as_of)
        closed += loan.status == "paid_off"
    return closed


def loans_in(loan_ids: list[int]) -> list[Loan]:
    return list(db.session.scalars(select(Loan).where(Loan.id.in_(loan_ids))))


def outstanding_principal(as_of: dt.date) -> tuple[int, int]:
    """Unpaid principal (cents) and number of the loans live on ``as_of``, from the payments received
    by then (one aggregate query)."""
    balance = _as_of_value("principal_after", "l.principal", as_of).format(stored="s.principal_balance")
    total, count = db.session.execute(
        text(
            f"SELECT COALESCE(SUM(CAST(ROUND(({balance}) * 100) AS BIGINT)), 0), COUNT(*) "
            "FROM loans l LEFT JOIN loan_servicing s ON s.loan_id = l.id "
            f"WHERE {_selection(as_of, LIVE)}"
        )
    ).one()
    return int(total), int(count)
