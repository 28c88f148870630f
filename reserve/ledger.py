"""The posting engine: accounts, locks, the open-month rule, balances, idempotency and posting.

Every write goes through :func:`post`, so its checks hold for every operation:

* lock order, to keep concurrent writers from deadlocking: the month-close lock shared (a month
  close takes it exclusive, see :func:`closed_through`), then the accounts the transaction touches
  ``FOR UPDATE`` in id order, then a claim row. Limits are checked after the locks are held, so they
  hold at write time;
* a pool (available, a loan's commitment) never drops below zero at *any* effective date from the
  posting's date on, so a back-dated posting cannot make an earlier balance negative;
* the per-day and per-month totals are upserted in the same transaction, under the account locks;
* nothing commits: the caller owns the unit of work. A ``SAVEPOINT`` wraps each operation so a
  refusal or a lost idempotency race leaves the caller's transaction usable.

The hot statements are built once, as Core statements on the tables, and run on the session's
connection: the account locks are held until the caller commits, so every round trip and every
millisecond of Python between the lock and the commit is time other writers wait.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from typing import cast as typed
from urllib.parse import quote

from risk.money import from_cents
from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Table,
    bindparam,
    cast,
    func,
    insert,
    literal,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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

accounts = typed(Table, AccountRow.__table__)
transactions = typed(Table, TransactionRow.__table__)
postings = typed(Table, PostingRow.__table__)
daily_totals = typed(Table, DailyTotalRow.__table__)
monthly_totals = typed(Table, MonthlyTotalRow.__table__)
requests = typed(Table, RequestRow.__table__)
ledger = typed(Table, LedgerRow.__table__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """Stored timestamps are UTC; SQLite hands them back naive, PostgreSQL in the session's zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def month_start(day: date) -> date:
    return day.replace(day=1)


def dollars(cents: int) -> str:
    return f"${from_cents(cents):,}"


def cents_of(amount: Decimal) -> int:
    """Whole cents of an amount already validated to have none past the cent."""
    return int(amount * 100)


def connection_of(session: Session) -> Connection:
    """The connection of the session's current transaction, for Core statements on reserve tables."""
    return session.connection(bind_arguments={"mapper": AccountRow})


def _dialect(connection: Connection) -> str:
    return connection.dialect.name


def require_real_savepoints(session: Session) -> None:
    """Refuse to run on a pysqlite connection left in its own transaction mode.

    There, SQLAlchemy's SAVEPOINT starts a transaction of its own and RELEASE commits it: an
    operation would commit behind the caller's back. ``reserve.db.configure_sqlite`` (or the app's
    equivalent: ``isolation_level = None`` and an explicit BEGIN) fixes it.
    """
    connection = connection_of(session)
    if _dialect(connection) != "sqlite":
        return
    if getattr(connection.connection.dbapi_connection, "isolation_level", None) is not None:
        raise RuntimeError(
            "this SQLite engine lets pysqlite manage transactions, which makes savepoints commit;"
            " call reserve.db.configure_sqlite(engine) when creating it"
        )


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
    new: bool = False  # opened by this transaction (so nothing has been posted to it yet)


_ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.kind,
    accounts.c.loan_id,
    accounts.c.funder,
    accounts.c.grant_name,
)
_FIND_ACCOUNT = select(*_ACCOUNT_COLUMNS).where(accounts.c.code == bindparam("code"))
_LOCK_ACCOUNTS = (
    select(*_ACCOUNT_COLUMNS)
    .where(accounts.c.code.in_(bindparam("codes", expanding=True)))
    .order_by(accounts.c.id)
    .with_for_update()
)


def _account(row: Any, new: bool = False) -> Account:
    ref = AccountRef(AccountKind(row.kind), loan_id=row.loan_id, funder=row.funder, grant=row.grant_name)
    return Account(id=row.id, ref=ref, new=new)


def find_account(session: Session, ref: AccountRef) -> Account | None:
    row = connection_of(session).execute(_FIND_ACCOUNT, {"code": ref.code}).one_or_none()
    return None if row is None else _account(row)


def ref_for_code(session: Session, code: str) -> AccountRef:
    return _account(connection_of(session).execute(_FIND_ACCOUNT, {"code": code}).one()).ref


_OPEN_ACCOUNT: dict[str, Any] = {}


def _open_account_statement(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT (code) DO NOTHING RETURNING id`` for the dialect (built once)."""
    if dialect not in _OPEN_ACCOUNT:
        insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
        _OPEN_ACCOUNT[dialect] = (
            insert_for(accounts).on_conflict_do_nothing(index_elements=["code"]).returning(accounts.c.id)
        )
    return _OPEN_ACCOUNT[dialect]


def ensure_accounts(session: Session, refs: Iterable[AccountRef]) -> dict[AccountRef, Account]:
    """Find the accounts and lock them ``FOR UPDATE`` in id order, opening those that do not exist.

    A new account gets a higher id than every existing one and is locked by its insert, so the
    id order holds. Two writers opening the same new account: the second's insert waits for the
    first to commit, then finds the row and locks it.
    """
    wanted = {ref.code: ref for ref in refs}
    connection = connection_of(session)
    found = {
        account.ref.code: account
        for account in map(_account, connection.execute(_LOCK_ACCOUNTS, {"codes": list(wanted)}))
    }
    missing = sorted(set(wanted) - set(found))
    if missing:
        now = utcnow()
        statement = _open_account_statement(_dialect(connection))
        late = []
        for code in missing:
            ref = wanted[code]
            values = {
                "code": code,
                "kind": str(ref.kind),
                "loan_id": ref.loan_id,
                "funder": ref.funder,
                "grant_name": ref.grant,
                "created_at": now,
            }
            new_id = connection.execute(statement, values).scalar()
            if new_id is None:
                late.append(code)
            else:
                found[code] = Account(id=new_id, ref=ref, new=True)
        if late:
            for account in map(_account, connection.execute(_LOCK_ACCOUNTS, {"codes": late})):
                found[account.ref.code] = account
    return {wanted[code]: account for code, account in found.items()}


# --- the open-month rule --------------------------------------------------------------------------

#: Transaction-scoped advisory lock per schema: shared by postings, exclusive for a month close.
#: The two-key form lives in a key space apart from single 64-bit keys (the app's job locks use those);
#: the first key, 0x52535256, spells "RSRV".
_CLOSE_LOCK = "1381192278, hashtext(current_schema())"
_SHARE_CLOSE_LOCK = text(f"SELECT pg_advisory_xact_lock_shared({_CLOSE_LOCK})")
_TAKE_CLOSE_LOCK = text(f"SELECT pg_advisory_xact_lock({_CLOSE_LOCK})")
_READ_LEDGER = select(ledger.c.closed_through).where(ledger.c.id == 1)


def closed_through(session: Session, *, lock: str | None = None) -> date | None:
    """The last closed day, reading (and creating on first use) the ledger row.

    ``lock="share"`` for postings, ``lock="update"`` for a month close: the close waits for postings
    in flight and no posting starts while it runs. On PostgreSQL this is an advisory lock (shared row
    locks on one hot row would make every posting write a MultiXact); it is taken before the row is
    read, so the read sees any close committed meanwhile. On SQLite ``BEGIN IMMEDIATE`` already
    serialises writers.
    """
    connection = connection_of(session)
    if lock is not None and _dialect(connection) == "postgresql":
        connection.execute(_SHARE_CLOSE_LOCK if lock == "share" else _TAKE_CLOSE_LOCK)
    query = _READ_LEDGER.with_for_update() if lock == "update" else _READ_LEDGER
    row = connection.execute(query).one_or_none()
    if row is None:
        insert_for = postgresql.insert if _dialect(connection) == "postgresql" else sqlite.insert
        connection.execute(
            insert_for(ledger).values(id=1, closed_through=None).on_conflict_do_nothing(index_elements=["id"])
        )
        row = connection.execute(query).one()
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
    months = select(monthly_totals.c.account_id, monthly_totals.c.net_cents).where(
        monthly_totals.c.account_id.in_(account_ids), monthly_totals.c.month < first
    )
    days = select(daily_totals.c.account_id, daily_totals.c.net_cents).where(
        daily_totals.c.account_id.in_(account_ids), daily_totals.c.day >= first, daily_totals.c.day <= as_of
    )
    both = union_all(months, days).subquery()
    rows = connection_of(session).execute(
        select(both.c.account_id, func.sum(both.c.net_cents)).group_by(both.c.account_id)
    )
    result = dict.fromkeys(account_ids, 0)
    result.update({account_id: int(total) for account_id, total in rows})
    return result


# Before the month of ``on``: one sum. From its first day on: every day, in order (normally a few).
_SPENDABLE = union_all(
    select(
        literal(0).label("part"),
        cast(null(), Date).label("day"),
        func.coalesce(func.sum(monthly_totals.c.net_cents), 0).label("net"),
    ).where(monthly_totals.c.account_id == bindparam("account"), monthly_totals.c.month < bindparam("first")),
    select(literal(1), daily_totals.c.day, daily_totals.c.net_cents).where(
        daily_totals.c.account_id == bindparam("account"), daily_totals.c.day >= bindparam("first")
    ),
)


def spendable_cents(session: Session, account_id: int, on: date) -> int:
    """The lowest balance the account has at any effective date from ``on`` on (one query).

    Taking this much out on ``on`` keeps every later balance (including future-dated ones) at or
    above zero. Normally there are no later days and this is the balance at ``on``.
    """
    rows = connection_of(session).execute(_SPENDABLE, {"account": account_id, "first": month_start(on)}).all()
    balance = 0
    later = []
    for part, day, net in rows:
        if part == 0 or day <= on:
            balance += int(net)
        else:
            later.append((day, int(net)))
    lowest = balance
    for _, net in sorted(later):
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

_INSERT_TRANSACTION = insert(transactions).returning(transactions.c.id)
_INSERT_POSTINGS = insert(postings)
_UPSERTS: dict[str, tuple[Any, Any]] = {}


def _upserts(dialect: str) -> tuple[Any, Any]:
    """Per-day and per-month ``INSERT ... ON CONFLICT DO UPDATE SET net = net + excluded.net``."""
    if dialect not in _UPSERTS:
        insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
        day = insert_for(daily_totals)
        day = day.on_conflict_do_update(
            index_elements=["account_id", "day"],
            set_={"net_cents": daily_totals.c.net_cents + day.excluded.net_cents},
        )
        month = insert_for(monthly_totals)
        month = month.on_conflict_do_update(
            index_elements=["account_id", "month", "kind"],
            set_={"net_cents": monthly_totals.c.net_cents + month.excluded.net_cents},
        )
        _UPSERTS[dialect] = (day, month)
    return _UPSERTS[dialect]


def _write_statements(
    connection: Connection, header: dict[str, Any], legs: Sequence[Leg], kind: TransactionKind, day: date
) -> int:
    """The transaction, its postings and both totals as four statements (any dialect)."""
    transaction_id: int = connection.execute(_INSERT_TRANSACTION, header).scalar_one()
    connection.execute(
        _INSERT_POSTINGS,
        [
            {"transaction_id": transaction_id, "account_id": leg.account.id, "amount_cents": leg.cents}
            for leg in legs
        ],
    )
    daily, monthly = _upserts(_dialect(connection))
    connection.execute(
        daily, [{"account_id": leg.account.id, "day": day, "net_cents": leg.cents} for leg in legs]
    )
    connection.execute(
        monthly,
        [
            {
                "account_id": leg.account.id,
                "month": month_start(day),
                "kind": str(kind),
                "net_cents": leg.cents,
            }
            for leg in legs
        ],
    )
    return transaction_id


_POSTGRES_WRITES: dict[int, Any] = {}


def _postgres_write_statement(count: int) -> Any:
    """One round trip on PostgreSQL: data-modifying CTEs insert the transaction, its postings (in leg
    order) and upsert both totals. Round trips made while holding the account locks are what other
    writers wait for."""
    if count not in _POSTGRES_WRITES:
        values = ", ".join(f"(CAST(:a{i} AS BIGINT), CAST(:c{i} AS BIGINT), {i})" for i in range(count))
        _POSTGRES_WRITES[count] = text(
            f"""WITH txn AS (
    INSERT INTO reserve_transaction
        (kind, effective_date, recorded_at, actor_id, memo, loan_id, claim_id, reverses_id)
    VALUES (:kind, :effective_date, :recorded_at, :actor_id, :memo, :loan_id, :claim_id, :reverses_id)
    RETURNING id
), legs (account_id, amount_cents, position) AS (VALUES {values}),
posted AS (
    INSERT INTO reserve_posting (transaction_id, account_id, amount_cents)
    SELECT txn.id, legs.account_id, legs.amount_cents FROM txn CROSS JOIN legs ORDER BY legs.position
    RETURNING 1
),
days AS (
    INSERT INTO reserve_daily_total (account_id, day, net_cents)
    SELECT account_id, :effective_date, amount_cents FROM legs
    ON CONFLICT (account_id, day)
    DO UPDATE SET net_cents = reserve_daily_total.net_cents + excluded.net_cents
    RETURNING 1
),
months AS (
    INSERT INTO reserve_monthly_total (account_id, month, kind, net_cents)
    SELECT account_id, :month, :kind, amount_cents FROM legs
    ON CONFLICT (account_id, month, kind)
    DO UPDATE SET net_cents = reserve_monthly_total.net_cents + excluded.net_cents
    RETURNING 1
)
SELECT id FROM txn"""
        ).bindparams(
            bindparam("effective_date", type_=Date()),
            bindparam("month", type_=Date()),
            bindparam("recorded_at", type_=DateTime(timezone=True)),
        )
    return _POSTGRES_WRITES[count]


def _write_postgres(
    connection: Connection, header: dict[str, Any], legs: Sequence[Leg], kind: TransactionKind, day: date
) -> int:
    params = dict(header, month=month_start(day))
    for i, leg in enumerate(legs):
        params[f"a{i}"] = leg.account.id
        params[f"c{i}"] = leg.cents
    transaction_id: int = connection.execute(_postgres_write_statement(len(legs)), params).scalar_one()
    return transaction_id


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
) -> Transaction:
    """Write one balanced transaction and its totals; the caller holds the locks.

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
                have = 0 if leg.account.new else spendable_cents(session, leg.account.id, effective_date)
            if have + leg.cents < 0:
                what = _KIND_WORDS.get(kind, str(kind)) + (
                    f" for loan {loan_id}" if loan_id is not None else ""
                )
                raise InsufficientReserve(
                    f"{leg.account.ref.label} is {dollars(have)} on {effective_date} (or later);"
                    f" this {what} needs {dollars(-leg.cents)}, {dollars(-leg.cents - have)} more than there is"
                )
    connection = connection_of(session)
    recorded_at = utcnow()
    header = {
        "kind": str(kind),
        "effective_date": effective_date,
        "recorded_at": recorded_at,
        "actor_id": actor_id,
        "memo": memo,
        "loan_id": loan_id,
        "claim_id": claim_id,
        "reverses_id": reverses_id,
    }
    if _dialect(connection) == "postgresql":
        transaction_id = _write_postgres(connection, header, legs, kind, effective_date)
    else:
        transaction_id = _write_statements(connection, header, legs, kind, effective_date)
    return Transaction(
        id=transaction_id,
        kind=kind,
        effective_date=effective_date,
        recorded_at=recorded_at,
        actor_id=actor_id,
        memo=memo,
        postings=tuple(
            Posting(
                leg.account.ref.code, leg.account.ref.kind, from_cents(leg.cents), leg.account.ref.loan_id
            )
            for leg in legs
        ),
        loan_id=loan_id,
        claim_id=claim_id,
        reverses_id=reverses_id,
    )


# --- reading transactions back --------------------------------------------------------------------


def load_transactions(session: Session, ids: Sequence[int]) -> list[Transaction]:
    """Value objects for the transactions, in the order of ``ids``."""
    if not ids:
        return []
    connection = connection_of(session)
    rows = {row.id: row for row in connection.execute(select(transactions).where(transactions.c.id.in_(ids)))}
    missing = set(ids) - set(rows)
    if missing:
        raise TransactionNotFound(f"no reserve transaction {min(missing)}")
    reversed_by = dict(
        connection.execute(
            select(transactions.c.reverses_id, transactions.c.id).where(transactions.c.reverses_id.in_(ids))
        ).all()
    )
    legs: dict[int, list[Posting]] = {i: [] for i in ids}
    posting_rows = connection.execute(
        select(
            postings.c.transaction_id,
            postings.c.amount_cents,
            accounts.c.code,
            accounts.c.kind,
            accounts.c.loan_id,
        )
        .join(accounts, accounts.c.id == postings.c.account_id)
        .where(postings.c.transaction_id.in_(ids))
        .order_by(postings.c.id)
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


#: ``session.info`` key: True when the last ``Request.run`` answered an earlier request's result.
REPLAYED = "reserve_request_replayed"


class _Replay(Exception):
    """Raised inside the savepoint when, once locked, the key turns out to be taken already."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


_PREVIOUS = select(
    requests.c.operation, requests.c.request_hash, requests.c.transaction_id, requests.c.claim_id
).where(requests.c.key == bindparam("key"))
_RECORD = insert(requests)


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
        row = connection_of(self.session).execute(_PREVIOUS, {"key": self.key}).one_or_none()
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

    def run(self, work: Callable[[], tuple[Outcome, T]], load: Callable[[Outcome], T]) -> T:
        """Do ``work`` once per key: a repeat returns the first result (``load``), a changed repeat conflicts."""
        require_real_savepoints(self.session)
        # Tells the caller whether this call did the work or answered a twin's (so it audits once).
        self.session.info[REPLAYED] = True
        outcome = self.previous()
        if outcome is not None:
            return load(outcome)
        try:
            with self.session.begin_nested():
                outcome, result = work()
                connection_of(self.session).execute(
                    _RECORD,
                    {
                        "key": self.key,
                        "operation": self.operation,
                        "request_hash": self.hash,
                        "actor_id": self.actor_id,
                        "recorded_at": utcnow(),
                        "transaction_id": outcome.transaction_id,
                        "claim_id": outcome.claim_id,
                    },
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
        self.session.info[REPLAYED] = False
        return result
