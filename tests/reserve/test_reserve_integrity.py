"""History cannot be rewritten, and reserve.check notices when derived figures drift."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import reserve as r
from reserve.check import main as check_main
from reserve.schema import DailyTotalRow, MonthlyTotalRow, PostingRow, TransactionRow
from tests.reserve.reserve_support import ON_POSTGRES

needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL triggers")


def books(session: Session) -> r.Transaction:
    r.record_deposit(
        session, key="d", actor_id=1, funder="ESD", grant="G1", amount="1000", received_on=date(2016, 1, 4)
    )
    return r.commit_reserve(
        session, key="c", actor_id=2, loan_id=5, principal="2000", effective_date=date(2016, 1, 5)
    )


def test_orm_changes_to_posted_rows_are_refused(session: Session) -> None:
    books(session)
    posting = session.scalars(select(PostingRow)).first()
    assert posting is not None
    posting.amount_cents += 1
    with pytest.raises(r.LedgerImmutable):
        session.flush()


def test_orm_delete_of_a_transaction_is_refused(session: Session) -> None:
    books(session)
    transaction = session.scalars(select(TransactionRow)).first()
    session.delete(transaction)
    with pytest.raises(r.LedgerImmutable):
        session.flush()


def test_bulk_update_and_delete_of_posted_rows_are_refused(session: Session) -> None:
    books(session)
    with pytest.raises(r.LedgerImmutable):
        session.execute(update(PostingRow).values(amount_cents=0))
    with pytest.raises(r.LedgerImmutable):
        session.execute(delete(TransactionRow))


def test_verify_finds_a_clean_ledger_clean(session: Session) -> None:
    books(session)
    assert r.verify(session, live_loan_ids={5}) == []


def test_verify_reports_stored_totals_that_differ_from_the_postings(session: Session) -> None:
    books(session)
    session.execute(
        update(DailyTotalRow)
        .where(DailyTotalRow.day == date(2016, 1, 5))
        .values(net_cents=DailyTotalRow.net_cents + 7)
    )
    session.execute(update(MonthlyTotalRow).where(MonthlyTotalRow.kind == "deposit").values(net_cents=0))
    codes = {p.code for p in r.verify(session)}
    assert {"daily_total", "monthly_total"} <= codes


def test_verify_reports_commitments_of_loans_that_are_not_live(session: Session) -> None:
    books(session)
    problems = r.verify(session, live_loan_ids={6})
    assert [p.code for p in problems] == ["commitment_without_loan"]
    assert "loan 5" in problems[0].message


def test_verify_reports_unbalanced_transactions_and_negative_pools(session: Session) -> None:
    books(session)
    # Bypass the ORM guard with a raw insert: what a bad migration or a console could do.
    transaction_id = session.scalar(select(TransactionRow.id).where(TransactionRow.kind == "commitment"))
    available = session.scalar(text("SELECT id FROM reserve_account WHERE code = 'available'"))
    session.execute(
        text(
            "INSERT INTO reserve_posting (transaction_id, account_id, amount_cents) VALUES (:t, :a, -500000)"
        ),
        {"t": transaction_id, "a": available},
    )
    codes = {p.code for p in r.verify(session)}
    assert {"unbalanced", "negative_balance", "daily_total"} <= codes


def test_check_command_exits_nonzero_on_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy.orm import Session as PlainSession

    from tests.reserve.reserve_support import sqlite_engine

    path = tmp_path / "check.sqlite"
    engine = sqlite_engine(str(path))
    with PlainSession(engine) as own:
        books(own)
        own.commit()
    assert check_main(["--database-url", f"sqlite:///{path}"]) == 0
    live = tmp_path / "live.txt"
    live.write_text("6\n")
    assert check_main(["--database-url", f"sqlite:///{path}", "--live-loans", str(live)]) == 1
    assert "commitment_without_loan" in capsys.readouterr().out
    engine.dispose()


@needs_postgres
@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE reserve_posting SET amount_cents = amount_cents + 1",
        "DELETE FROM reserve_posting",
        "UPDATE reserve_transaction SET memo = 'edited'",
        "DELETE FROM reserve_transaction",
        "TRUNCATE reserve_posting CASCADE",
        "UPDATE reserve_account SET code = 'x'",
        "DELETE FROM reserve_request",
        "UPDATE reserve_claim SET loss_cents = 1",
        "UPDATE reserve_ledger SET closed_through = NULL",
    ],
)
def test_postgres_refuses_rewriting_history_even_from_raw_sql(session: Session, statement: str) -> None:
    books(session)
    claim = r.file_claim(
        session,
        key="f",
        actor_id=2,
        charge_off=r.ChargeOffRecord(5, date(2016, 3, 1), "100"),
        filed_on=date(2016, 3, 1),
    )
    assert claim.id
    r.close_month(session, 2016, 1, actor_id=9, today=date(2016, 2, 2))
    with pytest.raises(DBAPIError, match="reserve|append-only"), session.begin_nested():
        session.execute(text(statement))


@needs_postgres
@pytest.mark.postgres
def test_postgres_refuses_a_transaction_dated_in_a_closed_month(session: Session) -> None:
    books(session)
    r.close_month(session, 2016, 1, actor_id=9, today=date(2016, 2, 2))
    with pytest.raises(DBAPIError, match="month closed"), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO reserve_transaction (kind, effective_date, recorded_at, actor_id, memo)"
                " VALUES ('interest', DATE '2016-01-15', now(), 1, 'sneaky')"
            )
        )


@needs_postgres
@pytest.mark.postgres
def test_postgres_lets_a_claim_status_move_only_along_the_state_machine(session: Session) -> None:
    books(session)
    claim = r.file_claim(
        session,
        key="f",
        actor_id=2,
        charge_off=r.ChargeOffRecord(5, date(2016, 3, 1), "100"),
        filed_on=date(2016, 3, 1),
    )
    with pytest.raises(DBAPIError, match="illegal reserve claim move"), session.begin_nested():
        session.execute(text("UPDATE reserve_claim SET status = 'pending' WHERE id = :i"), {"i": claim.id})


def test_postgres_ddl_is_exposed_for_the_migration() -> None:
    from reserve.schema import postgres_ddl, postgres_drop_ddl

    ddl = postgres_ddl()
    assert any("reserve_posting_append_only" in s for s in ddl)
    assert all("%" not in s for s in ddl)
    assert len(postgres_drop_ddl()) == len(ddl)


def test_an_unconfigured_sqlite_engine_is_refused_rather_than_committing_behind_the_caller(
    tmp_path: Path,
) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session as PlainSession

    from reserve.schema import metadata

    engine = create_engine(f"sqlite:///{tmp_path / 'plain.sqlite'}")
    metadata.create_all(engine)
    with PlainSession(engine) as own, pytest.raises(RuntimeError, match="configure_sqlite"):
        books(own)
    engine.dispose()


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL's trigger refuses the insert itself")
def test_verify_reports_a_transaction_slipped_into_a_closed_month(session: Session) -> None:
    books(session)
    r.close_month(session, 2016, 1, actor_id=9, today=date(2016, 2, 2))
    session.execute(
        text(
            "INSERT INTO reserve_transaction (kind, effective_date, recorded_at, actor_id, memo)"
            " VALUES ('interest', '2016-01-15', '2999-01-01 00:00:00.000000', 1, 'sneaky')"
        )
    )
    assert "posted_in_closed_month" in {p.code for p in r.verify(session)}
