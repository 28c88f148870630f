"""The posting engine: accounts, locks, the open-month rule, balances, idempotency and posting.

Every write goes through :func:`post`, so its checks hold for every operation:

* lock order, to keep concurrent writers from deadlocking: the ledger row ``FOR SHARE`` (a month
  close takes it ``FOR UPDATE``), then the accounts the transaction touches ``FOR UPDATE`` in id order,
  then a claim row. Limits are checked after the locks are held, so they hold at write time;
* a pool (available, a loan's commitment) never drops below zero at *any* effective date from the
  posting's date on, so a back-dated posting cannot make an earlier balance negative;
* the per-day and per-month totals are upserted in the same transaction, under the account locks;
* nothing commits: the caller owns the unit of work. A ``SAVEPOINT`` wraps each operation so a
  refusal or a lost idempotency race leaves the caller's transaction usable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

from risk.money import from_cents
from sqlalchemy import func, insert, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reserve.db import upsert_insert
from reserve.domain import (
    POOL_KINDS,
    AccountKind,
    Posting,
    Transaction,
    TransactionKind,
    request_hash,
)
from reserve.errors import IdempotencyConflict, InsufficientReserve, MonthClosed, TransactionNotFound
from reserve.schema import (
    AccountRow,
    DailyTotalRow,
    LedgerRow,
    MonthlyTotalRow,
    PostingRow,
    RequestRow,
    TransactionRow,
)

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """Stored timestamps are UTC; SQLite hands them back naive, PostgreSQL in the session's zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def month_start(day: date) -> date:
    return day.replace(day=1)


def dollars(cents: int) -> str:
    return f"${from_cents(cents):,}"


# --- accounts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRef:
    """An account named by what it is; :func:`ensure_accounts` finds or opens it."""

    kind: AccountKind
    loan_id: int | None = None
    funder: str | None = None
    grant: str | None = None

    @property
    def code(self) -> str:
        if self.kind is AccountKind.COMMITTED:
            return f"committed:{self.loan_id}"
        if self.kind is AccountKind.GRANT_FUNDING:
            # Escaped so that distinct (funder, grant) pairs never share a code.
            return f"grant:{quote(self.funder or '', safe=' ')}:{quote(self.grant or '', safe=' ')}"
        return str(self.kind)

    @property
    def label(self) -> str:
        if self.kind is AccountKind.COMMITTED:
            return f"reserve committed to loan {self.loan_id}"
        if self.kind is AccountKind.AVAILABLE:
            return "reserve available"
        return self.code


AVAILABLE = AccountRef(AccountKind.AVAILABLE)
CLAIMS_PAID = AccountRef(AccountKind.CLAIMS_PAID)
RECOVERIES = AccountRef(AccountKind.RECOVERIES)
INTEREST = AccountRef(AccountKind.INTEREST)


def commitment_of(loan_id: int) -> AccountRef:
    return AccountRef(AccountKind.COMMITTED, loan_id=loan_id)


@dataclass(frozen=True)
class Account:
    id: int
    ref: AccountRef


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        ref=AccountRef(AccountKind(row.kind), loan_id=row.loan_id, funder=row.funder, grant=row.grant_name),
    )


def find_account(session: Session, ref: AccountRef) -> Account | None:
    row = session.execute(
        select(
            AccountRow.id, AccountRow.kind, AccountRow.loan_id, AccountRow.funder, AccountRow.grant_name
        ).where(AccountRow.code == ref.code)
    ).one_or_none()
    return None if row is None else _account(row)


def ref_for_code(session: Session, code: str) -> AccountRef:
    row = session.execute(
        select(AccountRow.kind, AccountRow.loan_id, AccountRow.funder, AccountRow.grant_name).where(
            AccountRow.code == code
        )
    ).one()
    return AccountRef(AccountKind(row.kind), loan_id=row.loan_id, funder=row.funder, grant=row.grant_name)


def ensure_accounts(
    session: Session, refs: Iterable[AccountRef], *, lock: bool = True
) -> dict[AccountRef, Account]:
    """Find or open the accounts, then (by default) lock them ``FOR UPDATE`` in id order.

    Missing accounts are inserted with ``ON CONFLICT DO NOTHING`` in code order, so two writers opening
    the same new loan account wait for each other instead of failing or deadlocking.
    """
    wanted = {ref.code: ref for ref in refs}
    columns = (AccountRow.id, AccountRow.kind, AccountRow.loan_id, AccountRow.funder, AccountRow.grant_name)
    query = select(*columns).where(AccountRow.code.in_(wanted)).order_by(AccountRow.id)
    if lock:
        query = query.with_for_update()
    found = {_account(row).ref.code: _account(row) for row in session.execute(query)}
    missing = sorted(set(wanted) - set(found))
    if missing:
        now = utcnow()
        for code in missing:
            ref = wanted[code]
            statement = (
                upsert_insert(session, AccountRow.__table__)
                .values(
                    code=code,
                    kind=str(ref.kind),
                    loan_id=ref.loan_id,
                    funder=ref.funder,
                    grant_name=ref.grant,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["code"])
            )
            session.execute(statement)
        found = {_account(row).ref.code: _account(row) for row in session.execute(query)}
    return {wanted[code]: account for code, account in found.items()}


# --- the open-month rule --------------------------------------------------------------------------


def closed_through(session: Session, *, lock: str | None = None) -> date | None:
    """The last closed day, reading (and creating on first use) the ledger row.

    ``lock="share"`` for postings, ``lock="update"`` for a month close.
    """
    query = select(LedgerRow.closed_through).where(LedgerRow.id == 1)
    if lock == "share":
        query = query.with_for_update(read=True)
    elif lock == "update":
        query = query.with_for_update()
    row = session.execute(query).one_or_none()
    if row is None:
        session.execute(
            upsert_insert(session, LedgerRow.__table__)
            .values(id=1, closed_through=None)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        row = session.execute(query).one()
    value: date | None = row[0]
    return value


def require_open(through: date | None, effective_date: date) -> None:
    if through is not None and effective_date <= through:
        raise MonthClosed(
            f"{effective_date:%B %Y} is closed (closed through {through}); "
            "post the correction in the open month and refer to what it corrects"
        )


# --- balances -------------------------------------------------------------------------------------


def balances_cents(session: Session, account_ids: Sequence[int], as_of: date) -> dict[int, int]:
    """Balances at the end of ``as_of``: monthly totals before its month plus daily totals within it.

    Reads at most (months x kinds) + 31 rows per account, whatever the length of the history.
    """
    if not account_ids:
        return {}
    first = month_start(as_of)
    months = select(MonthlyTotalRow.account_id, MonthlyTotalRow.net_cents).where(
        MonthlyTotalRow.account_id.in_(account_ids), MonthlyTotalRow.month < first
    )
    days = select(DailyTotalRow.account_id, DailyTotalRow.net_cents).where(
        DailyTotalRow.account_id.in_(account_ids), DailyTotalRow.day >= first, DailyTotalRow.day <= as_of
    )
    both = union_all(months, days).subquery()
    rows = session.execute(select(both.c.account_id, func.sum(both.c.net_cents)).group_by(both.c.account_id))
    result = dict.fromkeys(account_ids, 0)
    result.update({account_id: int(total) for account_id, total in rows})
    return result


def spendable_cents(session: Session, account_id: int, on: date) -> int:
    """The lowest balance the account has at any effective date from ``on`` on.

    Taking this much out on ``on`` keeps every later balance (including future-dated ones) at or
    above zero. Normally there are no later days and this is the balance at ``on``.
    """
    balance = balances_cents(session, [account_id], on)[account_id]
    lowest = balance
    later = session.execute(
        select(DailyTotalRow.net_cents)
        .where(DailyTotalRow.account_id == account_id, DailyTotalRow.day > on)
        .order_by(DailyTotalRow.day)
    ).scalars()
    for net in later:
        balance += net
        lowest = min(lowest, balance)
    return lowest


# --- posting --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    account: Account
    cents: int


_KIND_WORDS = {
    TransactionKind.COMMITMENT: "commitment",
    TransactionKind.CLAIM_PAYMENT: "claim payment",
    TransactionKind.RELEASE: "release",
    TransactionKind.REVERSAL: "reversal",
}


def post(
    session: Session,
    *,
    kind: TransactionKind,
    effective_date: date,
    actor_id: int,
    memo: str,
    legs: Sequence[Leg],
    loan_id: int | None = None,
    claim_id: int | None = None,
    reverses_id: int | None = None,
    spendable: dict[int, int] | None = None,
) -> int:
    """Write one balanced transaction and its totals; the caller holds the locks. Returns its id.

    ``spendable`` passes figures the operation already read under the same locks (saves a query).
    """
    if len(legs) < 2:
        raise ValueError("a transaction needs at least two postings")
    if sum(leg.cents for leg in legs) != 0:
        raise ValueError("postings of a transaction must sum to zero")
    if any(leg.cents == 0 for leg in legs) or len({leg.account.id for leg in legs}) != len(legs):
        raise ValueError("postings must be non-zero and hit distinct accounts")
    for leg in legs:
        if leg.cents < 0 and leg.account.ref.kind in POOL_KINDS:
            have = (spendable or {}).get(leg.account.id)
            if have is None:
                have = spendable_cents(session, leg.account.id, effective_date)
            if have + leg.cents < 0:
                what = _KIND_WORDS.get(kind, str(kind)) + (
                    f" for loan {loan_id}" if loan_id is not None else ""
                )
                raise InsufficientReserve(
                    f"{leg.account.ref.label} is {dollars(have)} on {effective_date} (or later);"
                    f" this {what} needs {dollars(-leg.cents)}, {dollars(-leg.cents - have)} more than there is"
                )
    transaction_id: int = session.execute(
        insert(TransactionRow)
        .values(
            kind=str(kind),
            effective_date=effective_date,
            recorded_at=utcnow(),
            actor_id=actor_id,
            memo=memo,
            loan_id=loan_id,
            claim_id=claim_id,
            reverses_id=reverses_id,
        )
        .returning(TransactionRow.id)
    ).scalar_one()
    session.execute(
        insert(PostingRow),
        [
            {"transaction_id": transaction_id, "account_id": leg.account.id, "amount_cents": leg.cents}
            for leg in legs
        ],
    )
    daily = upsert_insert(session, DailyTotalRow.__table__)
    daily = daily.on_conflict_do_update(
        index_elements=["account_id", "day"],
        set_={"net_cents": DailyTotalRow.net_cents + daily.excluded.net_cents},
    )
    session.execute(
        daily, [{"account_id": leg.account.id, "day": effective_date, "net_cents": leg.cents} for leg in legs]
    )
    monthly = upsert_insert(session, MonthlyTotalRow.__table__)
    monthly = monthly.on_conflict_do_update(
        index_elements=["account_id", "month", "kind"],
        set_={"net_cents": MonthlyTotalRow.net_cents + monthly.excluded.net_cents},
    )
    first = month_start(effective_date)
    session.execute(
        monthly,
        [
            {"account_id": leg.account.id, "month": first, "kind": str(kind), "net_cents": leg.cents}
            for leg in legs
        ],
    )
    return transaction_id


# --- reading transactions back --------------------------------------------------------------------


def load_transactions(session: Session, ids: Sequence[int]) -> list[Transaction]:
    """Value objects for the transactions, in the order of ``ids``."""
    if not ids:
        return []
    rows = {
        row.id: row
        for row in session.execute(select(TransactionRow.__table__).where(TransactionRow.id.in_(ids)))
    }
    missing = set(ids) - set(rows)
    if missing:
        raise TransactionNotFound(f"no reserve transaction {min(missing)}")
    reversed_by = dict(
        session.execute(
            select(TransactionRow.reverses_id, TransactionRow.id).where(TransactionRow.reverses_id.in_(ids))
        ).all()
    )
    legs: dict[int, list[Posting]] = {i: [] for i in ids}
    posting_rows = session.execute(
        select(
            PostingRow.transaction_id,
            PostingRow.amount_cents,
            AccountRow.code,
            AccountRow.kind,
            AccountRow.loan_id,
        )
        .join(AccountRow, AccountRow.id == PostingRow.account_id)
        .where(PostingRow.transaction_id.in_(ids))
        .order_by(PostingRow.id)
    )
    for transaction_id, cents, code, account_kind, account_loan in posting_rows:
        legs[transaction_id].append(Posting(code, AccountKind(account_kind), from_cents(cents), account_loan))
    return [
        Transaction(
            id=rows[i].id,
            kind=TransactionKind(rows[i].kind),
            effective_date=rows[i].effective_date,
            recorded_at=aware(rows[i].recorded_at),
            actor_id=rows[i].actor_id,
            memo=rows[i].memo,
            postings=tuple(legs[i]),
            loan_id=rows[i].loan_id,
            claim_id=rows[i].claim_id,
            reverses_id=rows[i].reverses_id,
            reversed_by_id=reversed_by.get(i),
        )
        for i in ids
    ]


def load_transaction(session: Session, transaction_id: int) -> Transaction:
    return load_transactions(session, [transaction_id])[0]


# --- idempotency ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What an operation produced, as stored with its idempotency key."""

    transaction_id: int | None = None
    claim_id: int | None = None


class _Replay(Exception):
    """Raised inside the savepoint when, once locked, the key turns out to be taken already."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


class Request:
    """One idempotent call: its key, the hash of its content and who made it."""

    def __init__(self, session: Session, key: str, operation: str, content: dict[str, Any], actor_id: int):
        if not key or len(key) > 200:
            raise ValueError("an idempotency key of 1 to 200 characters is required")
        self.session = session
        self.key = key
        self.operation = operation
        self.actor_id = actor_id
        self.hash = request_hash(operation, {**content, "actor_id": actor_id})

    def previous(self) -> Outcome | None:
        """The outcome already stored under this key, or a conflict if the key was used differently."""
        row = self.session.execute(
            select(
                RequestRow.operation, RequestRow.request_hash, RequestRow.transaction_id, RequestRow.claim_id
            ).where(RequestRow.key == self.key)
        ).one_or_none()
        if row is None:
            return None
        if row.request_hash != self.hash:
            raise IdempotencyConflict(
                f"idempotency key {self.key!r} was already used for a different {row.operation} request"
            )
        return Outcome(row.transaction_id, row.claim_id)

    def locked(self) -> None:
        """Call once the operation's locks are held: a concurrent twin may have committed meanwhile."""
        outcome = self.previous()
        if outcome is not None:
            raise _Replay(outcome)

    def run(self, work: Callable[[], Outcome], load: Callable[[Outcome], T]) -> T:
        """Do ``work`` once per key: a repeat returns the first result, a changed repeat conflicts."""
        outcome = self.previous()
        if outcome is not None:
            return load(outcome)
        try:
            with self.session.begin_nested():
                outcome = work()
                self.session.execute(
                    insert(RequestRow).values(
                        key=self.key,
                        operation=self.operation,
                        request_hash=self.hash,
                        actor_id=self.actor_id,
                        recorded_at=utcnow(),
                        transaction_id=outcome.transaction_id,
                        claim_id=outcome.claim_id,
                    )
                )
        except _Replay as replay:
            return load(replay.outcome)
        except IntegrityError:
            # A twin without a shared lock (e.g. two claim filings) committed first: the savepoint has
            # undone our work; answer with the twin's result, or re-raise if the key is not the cause.
            outcome = self.previous()
            if outcome is None:
                raise
        return load(outcome)


def cents_of(amount: Decimal) -> int:
    """Whole cents of an amount already validated to have none past the cent."""
    return int(amount * 100)
