"""Tables of the reserve ledger, on their own ``MetaData`` (Alembic is given this and the app's).

No foreign keys leave the reserve: ``loan_id`` refers to the app's loan and ``actor_id`` to the app's
user by value, so the ledger can be audited (and restored) on its own.

Append-only: accounts, transactions, postings, claim events, idempotency requests and month closes
are never updated or deleted. The code refuses it (ORM events below) everywhere; on PostgreSQL
triggers refuse it too (:func:`postgres_ddl`), so a stray ``UPDATE`` from a console cannot rewrite
history. The claim row's ``status`` is the one mutable fact, changed only through
``reserve.domain.claim_transition``; its history is in ``reserve_claim_event``.
The per-day and per-month totals are derived data maintained in the same database transaction as the
postings; ``reserve.check.verify`` recomputes them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.sql import Delete, Update

from reserve.domain import AccountKind, ClaimEventKind, ClaimStatus, TransactionKind
from reserve.errors import LedgerImmutable

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Surrogate keys: BIGINT on PostgreSQL (a million postings a year is plausible for a bench, not for
#: the program), plain INTEGER on SQLite where only ``INTEGER PRIMARY KEY`` auto-increments.
Id = BigInteger().with_variant(Integer(), "sqlite")
Cents = BigInteger


def _in(column: str, values: Any) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class ReserveBase(DeclarativeBase):
    metadata = metadata


class LedgerRow(ReserveBase):
    """Singleton (id = 1): the close date every posting checks under a shared lock.

    ``close_month`` takes this row ``FOR UPDATE``, so it waits for postings in flight and no posting
    can slip into a month while it is being closed.
    """

    __tablename__ = "reserve_ledger"
    __table_args__ = (CheckConstraint("id = 1", name="singleton"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    closed_through: Mapped[date | None] = mapped_column(Date)


class MonthCloseRow(ReserveBase):
    __tablename__ = "reserve_month_close"
    __table_args__ = (
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        UniqueConstraint("closed_through"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    closed_through: Mapped[date] = mapped_column(Date)
    closed_by: Mapped[int] = mapped_column(Integer, comment="app user id (no FK: lives in the app)")
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountRow(ReserveBase):
    __tablename__ = "reserve_account"
    __table_args__ = (
        CheckConstraint(_in("kind", AccountKind), name="kind"),
        CheckConstraint(
            "(kind = 'committed' AND loan_id IS NOT NULL) OR (kind <> 'committed' AND loan_id IS NULL)",
            name="loan_only_on_commitment",
        ),
        CheckConstraint(
            "(kind = 'grant_funding' AND funder IS NOT NULL AND grant_name IS NOT NULL)"
            " OR (kind <> 'grant_funding' AND funder IS NULL AND grant_name IS NULL)",
            name="funder_only_on_grant",
        ),
        UniqueConstraint("funder", "grant_name"),
        # The handful of accounts that are not a loan's commitment are found by kind among many loans.
        Index("ix_reserve_account_kind", "kind"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    loan_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, comment="the app's loan id (no FK)")
    funder: Mapped[str | None] = mapped_column(String(120))
    grant_name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ClaimRow(ReserveBase):
    __tablename__ = "reserve_claim"
    __table_args__ = (
        CheckConstraint(_in("status", ClaimStatus), name="status"),
        CheckConstraint("balance_at_charge_off_cents >= 0", name="balance_not_negative"),
        CheckConstraint("allowed_costs_cents >= 0", name="costs_not_negative"),
        CheckConstraint("collateral_proceeds_cents >= 0", name="proceeds_not_negative"),
        CheckConstraint(
            "loss_cents = balance_at_charge_off_cents + allowed_costs_cents - collateral_proceeds_cents",
            name="loss_formula",
        ),
        CheckConstraint("loss_cents > 0", name="loss_positive"),
        # One open (pending or paid) claim per charged-off loan; a rejected claim may be refiled.
        Index(
            "ux_reserve_claim_open_loan",
            "loan_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'paid')"),
            sqlite_where=text("status IN ('pending', 'paid')"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True, comment="the app's loan id (no FK)")
    status: Mapped[str] = mapped_column(String(20), index=True)
    charged_off_on: Mapped[date] = mapped_column(Date)
    balance_at_charge_off_cents: Mapped[int] = mapped_column(Cents)
    allowed_costs_cents: Mapped[int] = mapped_column(Cents)
    collateral_proceeds_cents: Mapped[int] = mapped_column(Cents)
    loss_cents: Mapped[int] = mapped_column(Cents)
    filed_by: Mapped[int] = mapped_column(Integer, comment="app user id of the officer (no FK)")
    memo: Mapped[str] = mapped_column(Text, default="")
    # The allowed costs one by one (JSON list of {kind, amount, description}); they sum to allowed_costs.
    cost_items: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")


class TransactionRow(ReserveBase):
    __tablename__ = "reserve_transaction"
    __table_args__ = (
        CheckConstraint(_in("kind", TransactionKind), name="kind"),
        CheckConstraint(
            "(kind = 'reversal' AND reverses_id IS NOT NULL) OR (kind <> 'reversal' AND reverses_id IS NULL)",
            name="reversal_links",
        ),
        CheckConstraint("reverses_id IS NULL OR reverses_id < id", name="reverses_earlier"),
        Index("ix_reserve_transaction_effective", "effective_date", "id"),
        Index("ix_reserve_transaction_kind_effective", "kind", "effective_date"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    effective_date: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int] = mapped_column(Integer, comment="app user id (no FK)")
    memo: Mapped[str] = mapped_column(Text, default="")
    loan_id: Mapped[int | None] = mapped_column(BigInteger, index=True, comment="the app's loan id (no FK)")
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("reserve_claim.id"), index=True)
    # UNIQUE: a transaction is reversed at most once.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("reserve_transaction.id"), unique=True)


class PostingRow(ReserveBase):
    __tablename__ = "reserve_posting"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        Index("ix_reserve_posting_account", "account_id", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("reserve_transaction.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("reserve_account.id"))
    amount_cents: Mapped[int] = mapped_column(Cents)


class ClaimEventRow(ReserveBase):
    __tablename__ = "reserve_claim_event"
    __table_args__ = (
        Index("ix_reserve_claim_event_on_date", "on_date"),
        CheckConstraint(_in("kind", ClaimEventKind), name="kind"),
        CheckConstraint(_in("status", ClaimStatus), name="status"),
        CheckConstraint("cap_cents IS NULL OR cap_cents >= 0", name="cap_not_negative"),
        CheckConstraint(
            "paid_cents IS NULL OR (paid_cents > 0 AND paid_cents <= cap_cents)", name="paid_within_cap"
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("reserve_claim.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), comment="the claim's status after this event")
    on_date: Mapped[date] = mapped_column(Date, comment="business date of the event")
    actor_id: Mapped[int] = mapped_column(Integer, comment="app user id (no FK)")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("reserve_transaction.id"), comment="payment (paid) or its reversal (payment_reversed)"
    )
    release_transaction_id: Mapped[int | None] = mapped_column(
        # Named by hand: the convention's name would pass PostgreSQL's 63-character limit.
        ForeignKey("reserve_transaction.id", name="fk_reserve_claim_event_release_transaction"),
        comment="release of what the loan's commitment had left",
    )
    pending_delta_cents: Mapped[int] = mapped_column(
        Cents, comment="+loss entering pending, -loss leaving it: claims pending as of D = sum up to D"
    )
    cap_cents: Mapped[int | None] = mapped_column(Cents)
    paid_cents: Mapped[int | None] = mapped_column(Cents)
    note: Mapped[str] = mapped_column(Text, default="")


class DailyTotalRow(ReserveBase):
    """Net postings per account per effective day: balance within a month without reading postings."""

    __tablename__ = "reserve_daily_total"

    account_id: Mapped[int] = mapped_column(ForeignKey("reserve_account.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    net_cents: Mapped[int] = mapped_column(Cents)


class MonthlyTotalRow(ReserveBase):
    """Net postings per account, month and transaction kind: opening balances and statement lines."""

    __tablename__ = "reserve_monthly_total"
    __table_args__ = (CheckConstraint(_in("kind", TransactionKind), name="kind"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("reserve_account.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True, comment="first day of the month")
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    net_cents: Mapped[int] = mapped_column(Cents)


class RequestRow(ReserveBase):
    """An idempotency key with the hash of what was asked and what it produced."""

    __tablename__ = "reserve_request"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    operation: Mapped[str] = mapped_column(String(40))
    request_hash: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int] = mapped_column(Integer, comment="app user id (no FK)")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("reserve_transaction.id"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("reserve_claim.id"))


APPEND_ONLY_TABLES = (
    "reserve_account",
    "reserve_transaction",
    "reserve_posting",
    "reserve_claim_event",
    "reserve_request",
    "reserve_month_close",
)


# --- PostgreSQL: the database refuses to rewrite history -------------------------------------------

_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION reserve_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'reserve ledger is append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME
            || ' refused; post a reversal instead';
END
$$""",
    """CREATE OR REPLACE FUNCTION reserve_claim_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION USING MESSAGE = 'reserve claims are never deleted: ' || TG_OP || ' refused';
    END IF;
    IF (to_jsonb(NEW) - 'status') IS DISTINCT FROM (to_jsonb(OLD) - 'status') THEN
        RAISE EXCEPTION USING MESSAGE = 'only the status of a reserve claim changes after filing';
    END IF;
    IF NOT ((OLD.status = 'pending' AND NEW.status IN ('paid', 'rejected'))
            OR (OLD.status = 'paid' AND NEW.status = 'pending')) THEN
        RAISE EXCEPTION USING MESSAGE = 'illegal reserve claim move ' || OLD.status || ' -> ' || NEW.status;
    END IF;
    RETURN NEW;
END
$$""",
    """CREATE OR REPLACE FUNCTION reserve_ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION USING MESSAGE = 'the reserve ledger row is never removed: ' || TG_OP || ' refused';
    END IF;
    IF OLD.closed_through IS NOT NULL
       AND (NEW.closed_through IS NULL OR NEW.closed_through < OLD.closed_through) THEN
        RAISE EXCEPTION USING MESSAGE = 'a closed reserve month cannot be reopened';
    END IF;
    RETURN NEW;
END
$$""",
    """CREATE OR REPLACE FUNCTION reserve_open_month_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    through date;
    dated date;
BEGIN
    SELECT closed_through INTO through FROM reserve_ledger WHERE id = 1;
    IF TG_TABLE_NAME = 'reserve_claim_event' THEN
        dated := NEW.on_date;
    ELSE
        dated := NEW.effective_date;
    END IF;
    IF through IS NOT NULL AND dated <= through THEN
        RAISE EXCEPTION USING MESSAGE = 'reserve month closed: ' || TG_TABLE_NAME || ' dated ' || dated
            || ' is not after ' || through;
    END IF;
    RETURN NEW;
END
$$""",
)


def _triggers() -> list[str]:
    statements = []
    for table in APPEND_ONLY_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION reserve_refuse_change()"
        )
    for table, function in (
        ("reserve_claim", "reserve_claim_guard"),
        ("reserve_ledger", "reserve_ledger_guard"),
    ):
        statements.append(
            f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
    for table in (*APPEND_ONLY_TABLES, "reserve_claim", "reserve_ledger"):
        statements.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION reserve_refuse_change()"
        )
    for table in ("reserve_transaction", "reserve_claim_event"):
        statements.append(
            f"CREATE TRIGGER {table}_open_month BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION reserve_open_month_only()"
        )
    return statements


def postgres_ddl() -> list[str]:
    """PostgreSQL-only DDL to run after the tables exist (the migration's ``upgrade`` executes these).

    Plain SQL strings with no ``%`` and no ``:name`` so that ``op.execute(sa.text(s))`` runs them as is.
    """
    return [*_FUNCTIONS, *_triggers()]


def postgres_drop_ddl() -> list[str]:
    """The inverse of :func:`postgres_ddl` for a migration's ``downgrade`` (before dropping tables)."""
    drops = []
    for statement in reversed(_triggers()):
        name, table = statement.split()[2], statement.split(" ON ")[1].split()[0]
        drops.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for function in (
        "reserve_open_month_only",
        "reserve_ledger_guard",
        "reserve_claim_guard",
        "reserve_refuse_change",
    ):
        drops.append(f"DROP FUNCTION IF EXISTS {function}()")
    return drops


def _postgres_only(statement: str) -> Any:
    return DDL(statement).execute_if(dialect="postgresql")  # type: ignore[no-untyped-call]


for _statement in postgres_ddl():
    event.listen(metadata, "after_create", _postgres_only(_statement))
for _statement in postgres_drop_ddl()[-4:]:
    event.listen(metadata, "after_drop", _postgres_only(_statement))


# --- every database: the code refuses to rewrite history ------------------------------------------

_APPEND_ONLY_CLASSES: tuple[type[ReserveBase], ...] = (
    AccountRow,
    TransactionRow,
    PostingRow,
    ClaimEventRow,
    RequestRow,
    MonthCloseRow,
)

#: Execution option naming one of the two sanctioned UPDATEs: a claim's status transition
#: (``"claim_transition"``) and moving the close date forward (``"month_close"``).
SANCTIONED_WRITE = "reserve_sanctioned_write"
_SANCTIONED = {"reserve_claim": "claim_transition", "reserve_ledger": "month_close"}


def _refuse(mapper: Any, connection: Any, target: Any) -> None:
    raise LedgerImmutable(f"{type(target).__name__} rows are append-only; post a reversal instead")


def _claim_status_only(mapper: Any, connection: Any, target: ClaimRow) -> None:
    raise LedgerImmutable("a claim changes only through reserve.claims (its status transition)")


for _cls in _APPEND_ONLY_CLASSES:
    event.listen(_cls, "before_update", _refuse)
    event.listen(_cls, "before_delete", _refuse)
event.listen(ClaimRow, "before_update", _claim_status_only)
event.listen(ClaimRow, "before_delete", _refuse)

_GUARDED_TABLES = frozenset({*APPEND_ONLY_TABLES, "reserve_claim", "reserve_ledger"})


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_rewrites(state: ORMExecuteState) -> None:
    """Refuse ``session.execute(update(PostingRow)...)`` and the like, not only ORM flushes."""
    statement = state.statement
    if not isinstance(statement, (Update, Delete)):
        return
    table = getattr(statement.table, "name", None)
    if table not in _GUARDED_TABLES:
        return
    sanctioned = state.execution_options.get(SANCTIONED_WRITE)
    if not (
        isinstance(statement, Update) and sanctioned is not None and _SANCTIONED.get(table) == sanctioned
    ):
        raise LedgerImmutable(f"{table} is append-only; {type(statement).__name__.upper()} refused")
