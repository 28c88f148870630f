"""Read side: reserve position, balances as of a date, the funder's monthly statement, the journal.

Balances come from the per-month and per-day totals (``ledger.balances_cents``), never from summing
the whole posting history, so a page view costs a few dozen rows whatever the ledger's age. The total
committed is not summed over the loans' accounts either: every transaction balances, so it is the
reserve's total funds less what is available.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from risk.money import from_cents
from sqlalchemy import case, func, select, union_all
from sqlalchemy.orm import Session

from reserve.domain import (
    AccountKind,
    ClaimStatus,
    GrantDeposits,
    JournalPage,
    MonthClose,
    MonthlyStatement,
    ReservePosition,
    TransactionKind,
)
from reserve.errors import LedgerInconsistent
from reserve.ledger import (
    aware,
    balances_cents,
    commitment_of,
    connection_of,
    daily_totals,
    find_account,
    load_transactions,
    month_start,
    monthly_totals,
)
from reserve.schema import (
    AccountRow,
    ClaimEventRow,
    ClaimRow,
    LedgerRow,
    MonthCloseRow,
    MonthlyTotalRow,
    TransactionRow,
)

_LEDGER_KINDS = [str(kind) for kind in AccountKind if kind is not AccountKind.COMMITTED]


def _ledger_accounts(session: Session) -> list[tuple[int, AccountKind, str | None, str | None]]:
    """All accounts but the loans' commitments: a handful (available, sinks, sources per grant)."""
    rows = session.execute(
        select(AccountRow.id, AccountRow.kind, AccountRow.funder, AccountRow.grant_name)
        .where(AccountRow.kind.in_(_LEDGER_KINDS))
        .order_by(AccountRow.id)
    )
    return [(row.id, AccountKind(row.kind), row.funder, row.grant_name) for row in rows]


def _by_kind(
    accounts: list[tuple[int, AccountKind, str | None, str | None]], balances: dict[int, int]
) -> dict[AccountKind, int]:
    totals: dict[AccountKind, int] = defaultdict(int)
    for account_id, kind, _, _ in accounts:
        totals[kind] += balances.get(account_id, 0)
    return totals


def _funds(totals: dict[AccountKind, int]) -> int:
    """Total funds = what came in (sources, negative) less what was paid out (claims)."""
    return (
        -(totals[AccountKind.GRANT_FUNDING] + totals[AccountKind.RECOVERIES] + totals[AccountKind.INTEREST])
        - totals[AccountKind.CLAIMS_PAID]
    )


def reserve_position(session: Session, as_of: date) -> ReservePosition:
    """The reserve at the end of ``as_of``: balance, available, committed, and what made them."""
    accounts = _ledger_accounts(session)
    totals = _by_kind(accounts, balances_cents(session, [a[0] for a in accounts], as_of))
    funds = _funds(totals)
    pending, pending_count = _claims_pending(session, as_of)
    return ReservePosition(
        as_of=as_of,
        balance=from_cents(funds),
        available=from_cents(totals[AccountKind.AVAILABLE]),
        committed=from_cents(funds - totals[AccountKind.AVAILABLE]),
        deposits=from_cents(-totals[AccountKind.GRANT_FUNDING]),
        claims_paid=from_cents(totals[AccountKind.CLAIMS_PAID]),
        claims_pending=from_cents(int(pending)),
        claims_pending_count=int(pending_count),
        recoveries=from_cents(-totals[AccountKind.RECOVERIES]),
        interest=from_cents(-totals[AccountKind.INTEREST]),
    )


def _claims_pending(session: Session, as_of: date) -> tuple[int, int]:
    """Cents and count of claims pending at the end of ``as_of``, summing the shorter side of history.

    Each claim event carries its change to the pending amount (+loss filed, -loss decided). Either
    add the events up to ``as_of``, or take what is pending now (few rows, by status) and take back
    the events after ``as_of``: for a recent date the second reads almost nothing.
    """
    delta = ClaimEventRow.pending_delta_cents
    sums = (func.coalesce(func.sum(delta), 0), func.coalesce(func.sum(case((delta > 0, 1), else_=-1)), 0))
    first, last = session.execute(
        select(func.min(ClaimEventRow.on_date), func.max(ClaimEventRow.on_date))
    ).one()
    if first is None or as_of < first:
        return 0, 0
    if (as_of - first) <= (last - as_of):
        cents, count = session.execute(select(*sums).where(ClaimEventRow.on_date <= as_of)).one()
        return int(cents), int(count)
    now_cents, now_count = session.execute(
        select(func.coalesce(func.sum(ClaimRow.loss_cents), 0), func.count()).where(
            ClaimRow.status == str(ClaimStatus.PENDING)
        )
    ).one()
    if as_of >= last:
        return int(now_cents), int(now_count)
    later_cents, later_count = session.execute(select(*sums).where(ClaimEventRow.on_date > as_of)).one()
    return int(now_cents) - int(later_cents), int(now_count) - int(later_count)


def commitment_balance(session: Session, loan_id: int, as_of: date) -> Decimal:
    """What the reserve holds for one loan at the end of ``as_of``."""
    account = find_account(session, commitment_of(loan_id))
    if account is None:
        return Decimal("0.00")
    return from_cents(balances_cents(session, [account.id], as_of)[account.id])


def commitment_balances(session: Session, as_of: date) -> dict[int, int]:
    """Cents the reserve holds for each loan at the end of ``as_of``, by loan id; loans with nothing
    committed are left out.

    The same sum as :func:`~reserve.ledger.balances_cents` (monthly totals before the month, daily
    totals within it), but selecting the accounts by kind in one query: a book of 100,000 loans would
    be a list of ids past SQLite's (32,766) and PostgreSQL's (65,535) limit on bound parameters.
    """
    first = month_start(as_of)
    months = select(monthly_totals.c.account_id, monthly_totals.c.net_cents).where(
        monthly_totals.c.month < first
    )
    days = select(daily_totals.c.account_id, daily_totals.c.net_cents).where(
        daily_totals.c.day >= first, daily_totals.c.day <= as_of
    )
    both = union_all(months, days).subquery()
    total = func.sum(both.c.net_cents)
    rows = connection_of(session).execute(
        select(AccountRow.loan_id, total)
        .join(both, both.c.account_id == AccountRow.id)
        .where(AccountRow.kind == str(AccountKind.COMMITTED))
        .group_by(AccountRow.loan_id)
        .having(total != 0)
    )
    return {int(loan_id): int(cents) for loan_id, cents in rows}


def account_balances(session: Session, as_of: date) -> dict[str, Decimal]:
    """Balance of every account but the loans' commitments, by account code (sign convention applies)."""
    rows = session.execute(
        select(AccountRow.id, AccountRow.code).where(AccountRow.kind.in_(_LEDGER_KINDS))
    ).all()
    balances = balances_cents(session, [row.id for row in rows], as_of)
    return {row.code: from_cents(balances[row.id]) for row in rows}


def closed_months(session: Session) -> list[MonthClose]:
    rows = session.scalars(select(MonthCloseRow).order_by(MonthCloseRow.closed_through))
    return [MonthClose(r.year, r.month, r.closed_by, aware(r.closed_at)) for r in rows]


def closed_through(session: Session) -> date | None:
    """The last day of the last closed month, if any (no locks: for display)."""
    return session.scalar(select(LedgerRow.closed_through).where(LedgerRow.id == 1))


def monthly_statement(session: Session, year: int, month: int) -> MonthlyStatement:
    """The funder's statement for a month; raises ``LedgerInconsistent`` if it does not foot.

    Draft until the month is closed (``closed`` is False): later postings may still change it.
    """
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    accounts = _ledger_accounts(session)
    ids = [a[0] for a in accounts]
    kinds = {a[0]: a[1] for a in accounts}
    opening = _by_kind(accounts, balances_cents(session, ids, first - timedelta(days=1)))
    closing = _by_kind(accounts, balances_cents(session, ids, last))
    moves: dict[tuple[AccountKind, TransactionKind], int] = defaultdict(int)
    grants: dict[int, int] = defaultdict(int)
    rows = session.execute(
        select(MonthlyTotalRow.account_id, MonthlyTotalRow.kind, MonthlyTotalRow.net_cents).where(
            MonthlyTotalRow.account_id.in_(ids), MonthlyTotalRow.month == first
        )
    )
    for account_id, kind, net in rows:
        moves[(kinds[account_id], TransactionKind(kind))] += net
        if kinds[account_id] is AccountKind.GRANT_FUNDING and kind == TransactionKind.DEPOSIT:
            grants[account_id] -= net
    a, t = AccountKind, TransactionKind
    deposits = -moves[(a.GRANT_FUNDING, t.DEPOSIT)]
    commitments = -moves[(a.AVAILABLE, t.COMMITMENT)]
    releases = moves[(a.AVAILABLE, t.RELEASE)]
    claims_paid = moves[(a.CLAIMS_PAID, t.CLAIM_PAYMENT)]
    from_available = -moves[(a.AVAILABLE, t.CLAIM_PAYMENT)]
    recoveries = -moves[(a.RECOVERIES, t.RECOVERY)]
    interest = -moves[(a.INTEREST, t.INTEREST)]
    reversals = -sum(
        moves[(k, t.REVERSAL)] for k in (a.GRANT_FUNDING, a.RECOVERIES, a.INTEREST, a.CLAIMS_PAID)
    )
    reversals_available = moves[(a.AVAILABLE, t.REVERSAL)]
    opening_funds, closing_funds = _funds(opening), _funds(closing)
    opening_available, closing_available = opening[a.AVAILABLE], closing[a.AVAILABLE]
    through = closed_through(session)
    statement = MonthlyStatement(
        year=year,
        month=month,
        closed=through is not None and last <= through,
        opening_balance=from_cents(opening_funds),
        deposits=from_cents(deposits),
        commitments=from_cents(commitments),
        releases=from_cents(releases),
        claims_paid=from_cents(claims_paid),
        claims_paid_from_commitments=from_cents(claims_paid - from_available),
        claims_paid_from_available=from_cents(from_available),
        recoveries=from_cents(recoveries),
        interest=from_cents(interest),
        reversals=from_cents(reversals),
        closing_balance=from_cents(closing_funds),
        opening_available=from_cents(opening_available),
        closing_available=from_cents(closing_available),
        opening_committed=from_cents(opening_funds - opening_available),
        closing_committed=from_cents(closing_funds - closing_available),
        reversals_available=from_cents(reversals_available),
        deposits_by_grant=tuple(
            GrantDeposits(funder=f or "", grant=g or "", amount=from_cents(grants[i]))
            for i, k, f, g in accounts
            if k is AccountKind.GRANT_FUNDING and grants.get(i)
        ),
    )
    # The lines come from the month's totals, the ends from the balances: two readings of the ledger.
    if not statement.foots:
        off = {block.name: block.difference for block in statement.blocks if block.difference}
        raise LedgerInconsistent(f"statement for {first:%B %Y} does not foot: {off}; run reserve.check")
    return statement


def journal(
    session: Session,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    kind: TransactionKind | None = None,
    loan_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> JournalPage:
    """Transactions with their postings, newest effective date first, filtered and paginated."""
    if page < 1 or not 1 <= per_page <= 500:
        raise ValueError("page >= 1 and 1 <= per_page <= 500")
    conditions = []
    if date_from is not None:
        conditions.append(TransactionRow.effective_date >= date_from)
    if date_to is not None:
        conditions.append(TransactionRow.effective_date <= date_to)
    if kind is not None:
        conditions.append(TransactionRow.kind == str(kind))
    if loan_id is not None:
        conditions.append(TransactionRow.loan_id == loan_id)
    total = session.scalar(select(func.count()).select_from(TransactionRow).where(*conditions)) or 0
    ids = list(
        session.scalars(
            select(TransactionRow.id)
            .where(*conditions)
            .order_by(TransactionRow.effective_date.desc(), TransactionRow.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return JournalPage(
        items=tuple(load_transactions(session, ids)), page=page, per_page=per_page, total=total
    )


__all__ = [
    "account_balances",
    "closed_months",
    "closed_through",
    "commitment_balance",
    "commitment_balances",
    "journal",
    "monthly_statement",
    "month_start",
    "reserve_position",
]
