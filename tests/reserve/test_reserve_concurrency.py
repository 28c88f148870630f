"""Concurrency on PostgreSQL: real parallel connections, each committing its own unit of work.

Each test gets a private schema (committed data, many connections), dropped afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import reserve as r
from reserve.schema import PostingRow, RequestRow, TransactionRow
from tests.reserve.reserve_support import TEST_DATABASE_URL

pytestmark = pytest.mark.postgres

Database = Callable[..., AbstractContextManager[tuple[Engine, str]]]
ROOT = Path(__file__).resolve().parents[2]


def run_at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; returns results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def target(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def committed(engine: Engine, operation: Callable[[Session], Any]) -> Any:
    with Session(engine) as session:
        result = operation(session)
        session.commit()
        return result


def test_fifty_concurrent_commitments_against_room_for_twenty(postgres_database: Database) -> None:
    with postgres_database(pool_size=60, max_overflow=0) as (engine, _):
        # 20 commitments of 1,500 (15% of 10,000) fit in 30,700; the 21st does not.
        committed(
            engine,
            lambda s: r.record_deposit(
                s,
                key="dep",
                actor_id=1,
                funder="ESD",
                grant="G",
                amount="30700",
                received_on=date(2016, 1, 4),
            ),
        )
        lowest: list[Decimal] = []
        running = threading.Event()
        running.set()

        def watch() -> None:
            with Session(engine) as session:
                while running.is_set():
                    lowest.append(r.reserve_position(session, date(2016, 1, 31)).available)
                    session.rollback()

        watcher = threading.Thread(target=watch)
        watcher.start()

        def book(i: int) -> r.Transaction:
            return committed(
                engine,
                lambda s: r.commit_reserve(
                    s,
                    key=f"c-{i}",
                    actor_id=2,
                    loan_id=1000 + i,
                    principal="10000",
                    effective_date=date(2016, 1, 10),
                ),
            )

        try:
            results = run_at_once(50, book)
        finally:
            running.clear()
            watcher.join()
        outcomes = Counter(type(x).__name__ for x in results)
        assert outcomes == {"Transaction": 20, "InsufficientReserve": 30}
        refusal = next(x for x in results if isinstance(x, r.InsufficientReserve))
        assert "reserve available is $700.00" in str(refusal)
        with Session(engine) as session:
            position = r.reserve_position(session, date(2016, 1, 31))
            assert position.available == Decimal("700.00")
            assert position.committed == Decimal("30000.00")
            assert r.verify(session, live_loan_ids={1000 + i for i in range(50)}) == []
        assert lowest and min(lowest) >= 0


def test_the_same_deposit_sent_twenty_times_at_once_posts_once(postgres_database: Database) -> None:
    with postgres_database(pool_size=25, max_overflow=0) as (engine, _):

        def send(i: int) -> r.Transaction:
            return committed(
                engine,
                lambda s: r.record_deposit(
                    s,
                    key="wire-2016-001",
                    actor_id=1,
                    funder="ESD",
                    grant="G",
                    amount="2500",
                    received_on=date(2016, 1, 4),
                ),
            )

        results = run_at_once(20, send)
        assert all(isinstance(x, r.Transaction) for x in results), results
        assert len({x.id for x in results}) == 1
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(TransactionRow)) == 1
            assert session.scalar(select(func.count()).select_from(RequestRow)) == 1
            assert r.reserve_position(session, date(2016, 1, 31)).available == Decimal("2500.00")


def test_the_same_claim_filed_twenty_times_at_once_is_one_claim(postgres_database: Database) -> None:
    with postgres_database(pool_size=25, max_overflow=0) as (engine, _):
        committed(
            engine,
            lambda s: r.record_deposit(
                s, key="dep", actor_id=1, funder="ESD", grant="G", amount="5000", received_on=date(2016, 1, 4)
            ),
        )
        committed(  # the reserve backs loan 9: a claim is only for a loan it committed to
            engine,
            lambda s: r.commit_reserve(
                s, key="c-9", actor_id=2, loan_id=9, principal="3000", effective_date=date(2016, 1, 10)
            ),
        )

        def send(i: int) -> r.Claim:
            return committed(
                engine,
                lambda s: r.file_claim(
                    s,
                    key="claim-9",
                    actor_id=5,
                    charge_off=r.ChargeOffRecord(9, date(2016, 5, 1), "800"),
                    filed_on=date(2016, 5, 1),
                ),
            )

        results = run_at_once(20, send)
        assert all(isinstance(x, r.Claim) for x in results), results
        assert len({x.id for x in results}) == 1


def test_a_killed_writer_leaves_no_partial_transaction(postgres_database: Database) -> None:
    with postgres_database() as (engine, schema):
        seed = committed(
            engine,
            lambda s: r.record_deposit(
                s, key="seed", actor_id=1, funder="ESD", grant="G", amount="100", received_on=date(2016, 1, 4)
            ),
        )
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.reserve.reserve_killed_writer", TEST_DATABASE_URL, schema],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "POSTED"
            with engine.connect() as connection:
                # The child is mid-transaction: it holds the available account's lock, and its
                # postings are invisible to everyone else.
                with pytest.raises(OperationalError, match="could not obtain lock"):
                    connection.execute(
                        text("SELECT id FROM reserve_account WHERE code = 'available' FOR UPDATE NOWAIT")
                    )
                connection.rollback()
                assert connection.scalar(select(func.count()).select_from(TransactionRow)) == 1
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            if child.stdout is not None:
                child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        with Session(engine) as session:
            session.execute(text("SET lock_timeout = '10s'"))  # the dead writer's locks must be gone
            assert session.scalars(select(TransactionRow.id)).all() == [seed.id]
            assert session.scalar(select(func.count()).select_from(PostingRow)) == 2
            assert session.scalar(select(func.count()).select_from(RequestRow)) == 1
            assert r.verify(session) == []
            assert r.reserve_position(session, date(2016, 12, 31)).balance == Decimal("100.00")
            again = r.record_deposit(
                session,
                key="killed-deposit",
                actor_id=1,
                funder="ESD",
                grant="G",
                amount="5000",
                received_on=date(2016, 2, 1),
            )
            session.commit()
            assert again.id is not None
            assert r.verify(session) == []


def test_mixed_writers_do_not_deadlock_and_keep_the_books_straight(postgres_database: Database) -> None:
    with postgres_database(pool_size=12, max_overflow=0) as (engine, _):
        committed(
            engine,
            lambda s: r.record_deposit(
                s,
                key="dep",
                actor_id=1,
                funder="ESD",
                grant="G",
                amount="100000",
                received_on=date(2016, 1, 4),
            ),
        )

        def life_of_a_loan(i: int) -> str:
            loan = 500 + i
            for step in range(6):
                loan_id = loan * 100 + step
                committed(
                    engine,
                    lambda s, n=loan_id: r.commit_reserve(
                        s,
                        key=f"c-{n}",
                        actor_id=2,
                        loan_id=n,
                        principal="3000",
                        effective_date=date(2016, 1, 10),
                    ),
                )
                if step % 3 == 0:
                    claim = committed(
                        engine,
                        lambda s, n=loan_id: r.file_claim(
                            s,
                            key=f"f-{n}",
                            actor_id=2,
                            charge_off=r.ChargeOffRecord(n, date(2016, 1, 20), "700"),
                            filed_on=date(2016, 1, 20),
                        ),
                    )
                    committed(
                        engine,
                        lambda s, c=claim: r.approve_claim(
                            s, key=f"a-{c.id}", actor_id=3, claim_id=c.id, effective_date=date(2016, 1, 21)
                        ),
                    )
                else:
                    committed(
                        engine,
                        lambda s, n=loan_id: r.release_commitment(
                            s, key=f"r-{n}", actor_id=2, loan_id=n, effective_date=date(2016, 1, 25)
                        ),
                    )
                committed(
                    engine,
                    lambda s, n=loan_id: r.record_interest(
                        s, key=f"i-{n}", actor_id=1, amount="0.01", earned_on=date(2016, 1, 31)
                    ),
                )
            return "ok"

        results = run_at_once(10, life_of_a_loan)
        assert results == ["ok"] * 10
        with Session(engine) as session:
            assert r.verify(session, live_loan_ids=set()) == []
            position = r.reserve_position(session, date(2016, 1, 31))
            assert position.committed == 0
            # 20 claims of 700 paid; 60 cents of interest
            assert position.balance == Decimal("100000.00") - 20 * Decimal("700.00") + Decimal("0.60")


def test_month_close_waits_for_postings_in_flight(postgres_database: Database) -> None:
    with postgres_database(pool_size=5, max_overflow=0) as (engine, _):
        writer = Session(engine)
        r.record_deposit(
            writer, key="dep", actor_id=1, funder="ESD", grant="G", amount="10", received_on=date(2016, 1, 30)
        )
        closer_done = threading.Event()

        def close() -> None:
            committed(engine, lambda s: r.close_month(s, 2016, 1, actor_id=9, today=date(2016, 2, 1)))
            closer_done.set()

        closer = threading.Thread(target=close)
        closer.start()
        assert not closer_done.wait(1.0), "the close must wait for the January posting in flight"
        writer.commit()
        writer.close()
        closer.join(timeout=30)
        assert closer_done.is_set()
        with Session(engine) as session:
            with pytest.raises(r.MonthClosed):
                r.record_interest(session, key="late", actor_id=1, amount="1", earned_on=date(2016, 1, 31))
            assert r.verify(session) == []
