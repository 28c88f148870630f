"""Reconciliation (``reserve-check``): recompute everything the ledger stores or promises, list the differences.

Run nightly and before a funder statement goes out. An empty list means: every transaction balances,
the per-day and per-month totals equal the postings, no pool was ever negative at any effective date,
every open commitment belongs to a live loan, every claim is paid within its cap and its status agrees
with its history, recoveries stay within what was paid, no transaction is reversed twice or wrongly,
and nothing was posted into a month after it closed.

Command line: ``python -m reserve.check [--database-url URL] [--live-loans FILE]`` (exit status 1 when
there are problems; ``FILE`` holds the app's live loan ids, one per line).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from risk.money import from_cents
from sqlalchemy import (
    ColumnElement,
    Date,
    Subquery,
    and_,
    create_engine,
    func,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from reserve.domain import POOL_KINDS, AccountKind, ClaimEventKind, ClaimStatus, TransactionKind
from reserve.errors import LedgerInconsistent
from reserve.queries import monthly_statement
from reserve.schema import (
    AccountRow,
    ClaimEventRow,
    ClaimRow,
    DailyTotalRow,
    LedgerRow,
    MonthCloseRow,
    MonthlyTotalRow,
    PostingRow,
    TransactionRow,
)


@dataclass(frozen=True)
class Problem:
    """One broken invariant: a stable ``code`` for machines and a sentence for people."""

    code: str
    message: str


def _month_of(
    session: Session, column: ColumnElement[date] | InstrumentedAttribute[date]
) -> ColumnElement[date]:
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(func.date_trunc("month", column), Date)
    return type_coerce(func.date(column, "start of month"), Date)


def verify(session: Session, live_loan_ids: set[int] | None = None) -> list[Problem]:
    """Every invariant of the reserve ledger; ``live_loan_ids`` are the app's loans not yet closed."""
    problems: list[Problem] = []
    for check in (_balanced, _totals, _never_negative, _claims, _reversals, _closes, _statements):
        problems.extend(check(session))
    if live_loan_ids is not None:
        problems.extend(_commitments_live(session, live_loan_ids))
    return problems


def _balanced(session: Session) -> list[Problem]:
    rows = session.execute(
        select(
            TransactionRow.id, func.coalesce(func.sum(PostingRow.amount_cents), 0), func.count(PostingRow.id)
        )
        .outerjoin(PostingRow, PostingRow.transaction_id == TransactionRow.id)
        .group_by(TransactionRow.id)
        .having(or_(func.coalesce(func.sum(PostingRow.amount_cents), 0) != 0, func.count(PostingRow.id) < 2))
    )
    return [
        Problem("unbalanced", f"transaction {tid} has {count} postings summing to {from_cents(total)}")
        for tid, total, count in rows
    ]


def _recomputed_days() -> Subquery:
    """Per-account per-day net straight from the postings (the truth the stored totals must match)."""
    day = TransactionRow.effective_date
    return (
        select(PostingRow.account_id, day.label("day"), func.sum(PostingRow.amount_cents).label("net"))
        .join(TransactionRow, TransactionRow.id == PostingRow.transaction_id)
        .group_by(PostingRow.account_id, day)
        .subquery("recomputed")
    )


def _totals(session: Session) -> list[Problem]:
    problems = []
    r = _recomputed_days()
    d = DailyTotalRow.__table__
    rows = session.execute(
        select(
            func.coalesce(r.c.account_id, d.c.account_id),
            func.coalesce(r.c.day, d.c.day),
            r.c.net,
            d.c.net_cents,
        )
        .select_from(r)
        .join(d, and_(d.c.account_id == r.c.account_id, d.c.day == r.c.day), full=True)
        .where(func.coalesce(r.c.net, 0) != func.coalesce(d.c.net_cents, 0))
    )
    for account_id, day, net, stored in rows:
        problems.append(
            Problem(
                "daily_total",
                f"account {account_id} on {day}: postings net {from_cents(net or 0)}, stored total {from_cents(stored or 0)}",
            )
        )
    month = _month_of(session, TransactionRow.effective_date)
    rm = (
        select(
            PostingRow.account_id,
            month.label("month"),
            TransactionRow.kind,
            func.sum(PostingRow.amount_cents).label("net"),
        )
        .join(TransactionRow, TransactionRow.id == PostingRow.transaction_id)
        .group_by(PostingRow.account_id, month, TransactionRow.kind)
        .subquery("recomputed_months")
    )
    m = MonthlyTotalRow.__table__
    month_rows = session.execute(
        select(
            func.coalesce(rm.c.account_id, m.c.account_id),
            func.coalesce(rm.c.month, m.c.month),
            func.coalesce(rm.c.kind, m.c.kind),
            rm.c.net,
            m.c.net_cents,
        )
        .select_from(rm)
        .join(
            m,
            and_(m.c.account_id == rm.c.account_id, m.c.month == rm.c.month, m.c.kind == rm.c.kind),
            full=True,
        )
        .where(func.coalesce(rm.c.net, 0) != func.coalesce(m.c.net_cents, 0))
    )
    for account_id, month_value, kind, net, stored in month_rows:
        problems.append(
            Problem(
                "monthly_total",
                f"account {account_id}, {month_value} {kind}: postings net {from_cents(net or 0)},"
                f" stored total {from_cents(stored or 0)}",
            )
        )
    return problems


def _never_negative(session: Session) -> list[Problem]:
    r = _recomputed_days()
    running = (
        select(
            r.c.account_id,
            r.c.day,
            func.sum(r.c.net).over(partition_by=r.c.account_id, order_by=r.c.day).label("balance"),
        )
        .join(AccountRow, AccountRow.id == r.c.account_id)
        .where(AccountRow.kind.in_([str(k) for k in POOL_KINDS]))
        .subquery("running")
    )
    rows = session.execute(
        select(running.c.account_id, func.min(running.c.day), func.min(running.c.balance))
        .where(running.c.balance < 0)
        .group_by(running.c.account_id)
    )
    return [
        Problem("negative_balance", f"account {account_id} is negative from {day} (lowest {from_cents(low)})")
        for account_id, day, low in rows
    ]


def _commitments_live(session: Session, live_loan_ids: set[int]) -> list[Problem]:
    rows = session.execute(
        select(AccountRow.loan_id, func.sum(PostingRow.amount_cents))
        .join(PostingRow, PostingRow.account_id == AccountRow.id)
        .where(AccountRow.kind == str(AccountKind.COMMITTED))
        .group_by(AccountRow.loan_id)
        .having(func.sum(PostingRow.amount_cents) != 0)
    )
    return [
        Problem(
            "commitment_without_loan",
            f"loan {loan_id} is not live but {from_cents(total)} is committed to it",
        )
        for loan_id, total in rows
        if loan_id not in live_loan_ids
    ]


def _ledger_by_claim(session: Session, kind: AccountKind) -> dict[int, int]:
    rows = session.execute(
        select(TransactionRow.claim_id, func.sum(PostingRow.amount_cents))
        .join(PostingRow, PostingRow.transaction_id == TransactionRow.id)
        .join(AccountRow, AccountRow.id == PostingRow.account_id)
        .where(AccountRow.kind == str(kind), TransactionRow.claim_id.is_not(None))
        .group_by(TransactionRow.claim_id)
    )
    return {claim_id: int(total) for claim_id, total in rows if claim_id is not None}


def _claims(session: Session) -> list[Problem]:
    problems = []
    paid_by_ledger = _ledger_by_claim(session, AccountKind.CLAIMS_PAID)
    recovered = {k: -v for k, v in _ledger_by_claim(session, AccountKind.RECOVERIES).items()}
    stray = session.scalar(
        select(func.count())
        .select_from(PostingRow)
        .join(TransactionRow, TransactionRow.id == PostingRow.transaction_id)
        .join(AccountRow, AccountRow.id == PostingRow.account_id)
        .where(AccountRow.kind == str(AccountKind.CLAIMS_PAID), TransactionRow.claim_id.is_(None))
    )
    if stray:
        problems.append(Problem("claim_paid", f"{stray} claims-paid postings belong to no claim"))
    claims = {
        row.id: row for row in session.execute(select(ClaimRow.id, ClaimRow.status, ClaimRow.loss_cents))
    }
    events: dict[int, list[Any]] = {claim_id: [] for claim_id in claims}
    history_rows = session.execute(
        select(
            ClaimEventRow.claim_id,
            ClaimEventRow.kind,
            ClaimEventRow.status,
            ClaimEventRow.pending_delta_cents,
            ClaimEventRow.cap_cents,
            ClaimEventRow.paid_cents,
        ).order_by(ClaimEventRow.claim_id, ClaimEventRow.id)
    )
    for event in history_rows:
        events[event.claim_id].append(event)
    for claim_id, claim in claims.items():
        history = events[claim_id]
        if not history or history[0].kind != ClaimEventKind.FILED:
            problems.append(Problem("claim_status", f"claim {claim_id} has no filing event"))
            continue
        if history[-1].status != claim.status:
            problems.append(
                Problem(
                    "claim_status",
                    f"claim {claim_id} is {claim.status} but its history ends {history[-1].status}",
                )
            )
        pending = sum(e.pending_delta_cents for e in history)
        if pending != (claim.loss_cents if claim.status == ClaimStatus.PENDING else 0):
            problems.append(
                Problem("claim_status", f"claim {claim_id} pending amount {from_cents(pending)} is off")
            )
        paid_events = [e for e in history if e.kind == ClaimEventKind.PAID]
        expected = paid_events[-1].paid_cents or 0 if claim.status == ClaimStatus.PAID and paid_events else 0
        in_ledger = paid_by_ledger.get(claim_id, 0)
        if in_ledger != expected:
            problems.append(
                Problem(
                    "claim_paid",
                    f"claim {claim_id} ({claim.status}) shows {from_cents(expected)} paid, the ledger {from_cents(in_ledger)}",
                )
            )
        for event in paid_events:
            cap, paid = event.cap_cents or 0, event.paid_cents or 0
            if paid > cap or cap > claim.loss_cents:
                problems.append(
                    Problem(
                        "claim_over_cap",
                        f"claim {claim_id} paid {from_cents(paid)} against cap {from_cents(cap)}"
                        f" and loss {from_cents(claim.loss_cents)}",
                    )
                )
        if recovered.get(claim_id, 0) > in_ledger:
            problems.append(
                Problem(
                    "recovery_over_paid",
                    f"claim {claim_id}: {from_cents(recovered[claim_id])} recovered, {from_cents(in_ledger)} paid",
                )
            )
    return problems


def _reversals(session: Session) -> list[Problem]:
    problems = []
    twice = session.execute(
        select(TransactionRow.reverses_id, func.count())
        .where(TransactionRow.reverses_id.is_not(None))
        .group_by(TransactionRow.reverses_id)
        .having(func.count() > 1)
    )
    problems += [Problem("reversed_twice", f"transaction {tid} is reversed {n} times") for tid, n in twice]
    original = aliased(TransactionRow)
    wrong = session.execute(
        select(TransactionRow.id, original.kind, TransactionRow.effective_date, original.effective_date)
        .join(original, original.id == TransactionRow.reverses_id)
        .where(
            or_(
                original.kind == str(TransactionKind.REVERSAL),
                TransactionRow.effective_date < original.effective_date,
            )
        )
    )
    problems += [
        Problem("reversal_mismatch", f"reversal {tid} reverses a {kind} or is dated {day} before {orig_day}")
        for tid, kind, day, orig_day in wrong
    ]
    own = (
        select(TransactionRow.id.label("rid"), PostingRow.account_id, PostingRow.amount_cents)
        .join(PostingRow, PostingRow.transaction_id == TransactionRow.id)
        .where(TransactionRow.kind == str(TransactionKind.REVERSAL))
    )
    theirs = select(TransactionRow.id.label("rid"), PostingRow.account_id, PostingRow.amount_cents).join(
        PostingRow, PostingRow.transaction_id == TransactionRow.reverses_id
    )
    legs = union_all(own, theirs).subquery()
    mismatched = session.execute(
        select(legs.c.rid).group_by(legs.c.rid, legs.c.account_id).having(func.sum(legs.c.amount_cents) != 0)
    ).scalars()
    problems += [
        Problem("reversal_mismatch", f"reversal {rid} does not negate what it reverses")
        for rid in sorted(set(mismatched))
    ]
    return problems


def _closes(session: Session) -> list[Problem]:
    problems = []
    closes = session.execute(
        select(
            MonthCloseRow.year, MonthCloseRow.month, MonthCloseRow.closed_through, MonthCloseRow.closed_at
        ).order_by(MonthCloseRow.closed_through)
    ).all()
    through = session.scalar(select(LedgerRow.closed_through).where(LedgerRow.id == 1))
    last = closes[-1].closed_through if closes else None
    if through != last:
        problems.append(Problem("month_closes", f"ledger closed through {through}, last month close {last}"))
    previous: date | None = None
    for year, month, closed_day, closed_at in closes:
        if previous is not None and (previous.year * 12 + previous.month + 1) != year * 12 + month:
            problems.append(
                Problem("month_closes", f"{year}-{month:02d} closed out of order after {previous}")
            )
        for what, table, dated in (
            ("transactions", TransactionRow, TransactionRow.effective_date),
            ("claim events", ClaimEventRow, ClaimEventRow.on_date),
        ):
            late = session.scalar(
                select(func.count())
                .select_from(table)
                .where(
                    dated <= closed_day,
                    *([dated > previous] if previous is not None else []),
                    table.recorded_at > closed_at,
                )
            )
            if late:
                problems.append(
                    Problem(
                        "posted_in_closed_month",
                        f"{late} {what} dated {year}-{month:02d} (or before) recorded after its close",
                    )
                )
        previous = closed_day
    return problems


def _statements(session: Session) -> list[Problem]:
    """Every month's funder statement foots: in each block opening + movements = closing, to the cent."""
    first, last = session.execute(
        select(func.min(TransactionRow.effective_date), func.max(TransactionRow.effective_date))
    ).one()
    if first is None:
        return []
    problems = []
    for index in range(first.year * 12 + first.month - 1, last.year * 12 + last.month):
        year, month = divmod(index, 12)
        try:
            monthly_statement(session, year, month + 1)
        except LedgerInconsistent as exc:
            problems.append(Problem("statement_foots", str(exc)))
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reserve-check", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--live-loans", type=argparse.FileType("r"), help="file of live loan ids, one a line")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url or DATABASE_URL is required")
    live = {int(line) for line in args.live_loans if line.strip()} if args.live_loans else None
    engine = create_engine(args.database_url)
    try:
        with Session(engine) as session:
            problems = verify(session, live)
    finally:
        engine.dispose()
    for problem in problems:
        print(f"{problem.code}: {problem.message}")
    print(f"reserve-check: {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["Problem", "main", "verify"]
