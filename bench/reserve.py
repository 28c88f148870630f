"""Benchmark: the reserve ledger with 1,000,000 postings (run: python bench/reserve.py).

Reads ``DATABASE_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``), works in a
schema of its own (``reserve_bench_<pid>``) and drops it afterwards (unless ``RESERVE_BENCH_KEEP`` is
set, to look at the data).

1. Loads five years of synthetic history (loans booked, paid off or charged off and claimed,
   recoveries, monthly interest, grant deposits whenever the reserve runs short) with ``COPY``, then
   builds the per-day and per-month totals from the postings in SQL, closes every month before the
   current one through ``close_month`` and runs ``reserve.check.verify`` (which must find nothing).
2. Times ``reserve_position`` as of today and as of a past date (target < 20 ms each), the monthly
   statement (target < 500 ms), a journal page and a loan's commitment balance.
3. Measures the sustained posting rate through the real operations (commitments, releases,
   deposits; one database transaction each) with 1 and with 4 concurrent writer processes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

# Run as a script, this file's folder leads sys.path and its name would shadow the reserve package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import reserve as r  # noqa: E402
from reserve.schema import metadata  # noqa: E402

URL = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_POSTINGS = 1_000_000
MONTHS = 60
WRITE_SECONDS = 8.0
SEED = 20160104

ACCOUNTS = {"available": 1, "claims_paid": 2, "recoveries": 3, "interest": 4}
GRANTS = {5: ("Empire State Development", "ESD-2020"), 6: ("Assembly member", "Member item 2020")}


def month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class History:
    """Synthetic ledger rows, generated in effective-date order so no pool is ever negative."""

    def __init__(self, today: date, rng: random.Random, target: int = TARGET_POSTINGS) -> None:
        self.target = target
        self.today = today
        self.start = month_add(today.replace(day=1), -(MONTHS - 1))
        self.rng = rng
        self.accounts: list[tuple[Any, ...]] = []
        self.transactions: list[tuple[Any, ...]] = []
        self.postings: list[tuple[int, int, int, int]] = []
        self.claims: list[tuple[Any, ...]] = []
        self.claim_events: list[tuple[Any, ...]] = []
        self.available = 0
        self.recorded_at = datetime(2020, 1, 1, tzinfo=UTC)
        self.next_grant = 5

    def post(
        self,
        kind: str,
        day: date,
        legs: list[tuple[int, int]],
        loan_id: int | None = None,
        claim_id: int | None = None,
    ) -> int:
        transaction_id = len(self.transactions) + 1
        self.recorded_at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        self.transactions.append((transaction_id, kind, day, self.recorded_at, 1, "", loan_id, claim_id))
        for account_id, cents in legs:
            self.postings.append((len(self.postings) + 1, transaction_id, account_id, cents))
            if account_id == ACCOUNTS["available"]:
                self.available += cents
        return transaction_id

    def ensure_available(self, day: date, cents: int) -> None:
        if self.available >= cents:
            return
        grant = self.next_grant
        self.next_grant = 11 - grant  # alternate funders
        amount = max(cents - self.available, 0) + 50_000_000
        self.post("deposit", day, [(grant, -amount), (ACCOUNTS["available"], amount)])

    def build(self) -> None:
        rng, today = self.rng, self.today
        created = datetime(2020, 1, 1, tzinfo=UTC)
        for code, account_id in ACCOUNTS.items():
            self.accounts.append((account_id, code, code, None, None, None, created))
        for account_id, (funder, grant) in GRANTS.items():
            self.accounts.append(
                (account_id, f"grant:{funder}:{grant}", "grant_funding", None, funder, grant, created)
            )
        span = (today - self.start).days
        # Events: (day, order, kind, loan, amount). Loans are booked until their postings reach the
        # target: a commitment 2, a payoff 2, a claim 3 (5 with a release), a recovery 2 (3 claims in 10).
        events: list[tuple[date, int, str, int, int]] = []
        commitment: dict[int, int] = {}
        expected = 6.0 * MONTHS  # interest and deposits, roughly
        loan = 0
        while expected < self.target:
            loan += 1
            booked = self.start + timedelta(days=rng.randrange(span))
            principal = rng.randrange(400_000, 2_000_001)
            commitment[loan] = (principal * 15 + 50) // 100
            events.append((booked, 0, "commit", loan, 0))
            expected += 2
            if rng.random() < 0.08:
                charged_off = booked + timedelta(days=rng.randrange(150, 900))
                loss = rng.randrange(200_000, 1_200_000)
                if charged_off + timedelta(days=5) <= today:
                    events.append((charged_off + timedelta(days=5), 1, "claim", loan, loss))
                    expected += 3.6 + (2 if loss < commitment[loan] else 0)
            else:
                paid_off = booked + timedelta(days=rng.randrange(200, 1800))
                if paid_off <= today:
                    events.append((paid_off, 1, "release", loan, 0))
                    expected += 2
        month = self.start
        while month <= today:
            end = month_add(month, 1) - timedelta(days=1)
            if end <= today:
                events.append((end, 9, "interest", 0, 0))
            month = month_add(month, 1)
        events.sort()
        account_of: dict[int, int] = {}
        recoveries: list[tuple[date, int, int]] = []
        for day, _, kind, loan, amount in events:
            while recoveries and recoveries[0][0] <= day:
                rec_day, claim_id, cents = recoveries.pop(0)
                self.post(
                    "recovery",
                    rec_day,
                    [(ACCOUNTS["recoveries"], -cents), (ACCOUNTS["available"], cents)],
                    claim_id=claim_id,
                )
            if kind == "commit":
                account_id = len(self.accounts) + 1
                account_of[loan] = account_id
                self.accounts.append(
                    (account_id, f"committed:{loan}", "committed", loan, None, None, created)
                )
                self.ensure_available(day, commitment[loan])
                self.post(
                    "commitment",
                    day,
                    [(ACCOUNTS["available"], -commitment[loan]), (account_id, commitment[loan])],
                    loan,
                )
            elif kind == "release":
                self.post(
                    "release",
                    day,
                    [(account_of[loan], -commitment[loan]), (ACCOUNTS["available"], commitment[loan])],
                    loan,
                )
            elif kind == "claim":
                self.claim(day, loan, account_of[loan], commitment[loan], amount, recoveries)
            else:
                cents = self.available // 1000  # about 1.2% a year
                if cents:
                    self.post(
                        "interest", day, [(ACCOUNTS["interest"], -cents), (ACCOUNTS["available"], cents)]
                    )

    def claim(
        self,
        day: date,
        loan: int,
        account_id: int,
        committed: int,
        loss: int,
        recoveries: list[tuple[date, int, int]],
    ) -> None:
        claim_id = len(self.claims) + 1
        filed = day - timedelta(days=5)
        self.claims.append((claim_id, loan, "paid", filed, loss, 0, 0, loss, 2, "charged off"))
        from_commitment = min(loss, committed)
        from_available = loss - from_commitment
        self.ensure_available(day, from_available)
        legs = [(ACCOUNTS["claims_paid"], loss), (account_id, -from_commitment)]
        if from_available:
            legs.append((ACCOUNTS["available"], -from_available))
        payment = self.post("claim_payment", day, legs, loan, claim_id)
        release = None
        if committed > from_commitment:
            left = committed - from_commitment
            release = self.post(
                "release", day, [(account_id, -left), (ACCOUNTS["available"], left)], loan, claim_id
            )
        event_id = len(self.claim_events)
        self.claim_events.append(
            (
                event_id + 1,
                claim_id,
                "filed",
                "pending",
                filed,
                2,
                self.recorded_at,
                None,
                None,
                loss,
                None,
                None,
                "",
            )
        )
        self.claim_events.append(
            (
                event_id + 2,
                claim_id,
                "paid",
                "paid",
                day,
                3,
                self.recorded_at,
                payment,
                release,
                -loss,
                loss,
                loss,
                "",
            )
        )
        if self.rng.random() < 0.3:
            back = day + timedelta(days=self.rng.randrange(30, 120))
            if back <= self.today:
                recoveries.append((back, claim_id, self.rng.randrange(1, loss // 3)))
                recoveries.sort()


def copy_rows(connection: Any, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None:
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(engine: Any, history: History) -> None:
    raw = engine.raw_connection()
    stage = time.perf_counter()

    def lap(label: str) -> None:
        nonlocal stage
        now = time.perf_counter()
        print(f"  {label:<36} {now - stage:6.1f} s")
        stage = now

    try:
        connection = raw.driver_connection
        copy_rows(
            connection,
            "reserve_account",
            "id, code, kind, loan_id, funder, grant_name, created_at",
            history.accounts,
        )
        copy_rows(
            connection,
            "reserve_claim",
            "id, loan_id, status, charged_off_on, balance_at_charge_off_cents, allowed_costs_cents, collateral_proceeds_cents, loss_cents, filed_by, memo",
            history.claims,
        )
        copy_rows(
            connection,
            "reserve_transaction",
            "id, kind, effective_date, recorded_at, actor_id, memo, loan_id, claim_id",
            history.transactions,
        )
        copy_rows(
            connection, "reserve_posting", "id, transaction_id, account_id, amount_cents", history.postings
        )
        copy_rows(
            connection,
            "reserve_claim_event",
            "id, claim_id, kind, status, on_date, actor_id, recorded_at, transaction_id, release_transaction_id, pending_delta_cents, cap_cents, paid_cents, note",
            history.claim_events,
        )
        lap("COPY accounts, claims, transactions, postings")
        with connection.cursor() as cursor:
            # The totals are derived from the postings in one pass each, exactly as reserve.check recomputes them.
            cursor.execute(
                "INSERT INTO reserve_daily_total (account_id, day, net_cents)"
                " SELECT p.account_id, t.effective_date, SUM(p.amount_cents) FROM reserve_posting p"
                " JOIN reserve_transaction t ON t.id = p.transaction_id GROUP BY p.account_id, t.effective_date"
            )
            cursor.execute(
                "INSERT INTO reserve_monthly_total (account_id, month, kind, net_cents)"
                " SELECT p.account_id, date_trunc('month', t.effective_date)::date, t.kind, SUM(p.amount_cents)"
                " FROM reserve_posting p JOIN reserve_transaction t ON t.id = p.transaction_id"
                " GROUP BY p.account_id, date_trunc('month', t.effective_date)::date, t.kind"
            )
            lap("per-day and per-month totals")
            for table in (
                "reserve_account",
                "reserve_claim",
                "reserve_transaction",
                "reserve_posting",
                "reserve_claim_event",
            ):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
        connection.commit()
        lap("commit")
        connection.autocommit = True  # VACUUM cannot run in a transaction
        try:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        finally:
            connection.autocommit = False
        lap("VACUUM ANALYZE")
    finally:
        raw.close()


def timed(label: str, runs: int, call: Callable[[], Any], target_ms: float | None = None) -> float:
    call()  # warm: statement cache, buffers
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    median = statistics.median(samples)
    verdict = (
        "" if target_ms is None else ("  OK" if median < target_ms else f"  OVER the {target_ms:g} ms target")
    )
    print(
        f"  {label:<44} median {median:8.2f} ms   p95 {sorted(samples)[int(runs * 0.95) - 1]:8.2f} ms{verdict}"
    )
    return median


def writer(
    schema: str, index: int, today: date, seconds: float, first_loan: int, ready: Any, results: Any
) -> None:
    """One writer process: a loan's commitment then its release, over and over, and now and then a deposit."""
    engine = create_engine(URL, connect_args={"options": f"-csearch_path={schema}"}, pool_size=1)
    loan = first_loan + index * 1_000_000
    previous: int | None = None
    latencies: list[float] = []
    error = ""
    n = 0
    with Session(engine) as session:
        session.execute(text("SELECT 1"))  # connected before the clock starts
        session.rollback()
        ready.wait()
        stop = time.perf_counter() + seconds
        try:
            while time.perf_counter() < stop:
                n += 1
                key = f"bench-{first_loan}-{index}-{n}"
                start = time.perf_counter()
                if previous is not None:
                    r.release_commitment(session, key=key, actor_id=2, loan_id=previous, effective_date=today)
                    previous = None
                elif n % 10 == 1:
                    r.record_deposit(
                        session,
                        key=key,
                        actor_id=1,
                        funder="ESD",
                        grant="bench",
                        amount="1000",
                        received_on=today,
                    )
                else:
                    loan += 1
                    r.commit_reserve(
                        session, key=key, actor_id=2, loan_id=loan, principal="12000", effective_date=today
                    )
                    previous = loan
                session.commit()
                latencies.append((time.perf_counter() - start) * 1000)
        except Exception as exc:  # noqa: BLE001 - reported by the parent
            error = repr(exc)
    engine.dispose()
    results.put((latencies, error))


def writers(schema: str, count: int, today: date, seconds: float, first_loan: int) -> None:
    """``count`` writer processes (not threads: the app runs workers in processes, and one
    interpreter's lock would measure Python, not the database) started together."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(count + 1)
    results = context.Queue()
    processes = [
        context.Process(target=writer, args=(schema, i, today, seconds, first_loan, ready, results))
        for i in range(count)
    ]
    for process in processes:
        process.start()
    ready.wait()
    started = time.perf_counter()
    outcomes = [results.get() for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    every = sorted(x for latencies, _ in outcomes for x in latencies)
    errors = [error for _, error in outcomes if error]
    if not every:
        print(f"  {count} writer process(es): nothing committed; errors: {errors[:3]}")
        return
    print(
        f"  {count} writer process(es): {len(every):6d} transactions in {elapsed:5.1f} s"
        f" = {len(every) / elapsed:7.1f} transactions/s;"
        f" latency median {statistics.median(every):6.2f} ms, p95 {every[int(len(every) * 0.95)]:6.2f} ms,"
        f" errors {len(errors)}"
    )
    for error in errors[:3]:
        print(f"    error: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="reserve ledger benchmark (see the module docstring)")
    parser.add_argument("--postings", type=int, default=TARGET_POSTINGS, help="history to load")
    parser.add_argument("--writers", default="1,4", help="writer process counts to measure, e.g. 1,2,4")
    parser.add_argument("--seconds", type=float, default=WRITE_SECONDS, help="length of each write run")
    args = parser.parse_args(argv)
    schema = f"reserve_bench_{os.getpid()}"
    admin = create_engine(URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(URL, connect_args={"options": f"-csearch_path={schema}"}, pool_size=8)
    today = datetime.now(ZoneInfo("America/New_York")).date()
    try:
        metadata.create_all(engine)
        print(f"reserve ledger benchmark on {engine.url.render_as_string()} (schema {schema}), today {today}")
        start = time.perf_counter()
        history = History(today, random.Random(SEED), args.postings)
        history.build()
        generated = time.perf_counter() - start
        start = time.perf_counter()
        load(engine, history)
        loaded = time.perf_counter() - start
        print(
            f"load: {len(history.postings):,} postings in {len(history.transactions):,} transactions,"
            f" {len(history.accounts):,} accounts, {len(history.claims):,} claims;"
            f" generated in {generated:.1f} s, COPY + totals + ANALYZE in {loaded:.1f} s"
        )
        with Session(engine) as session:
            start = time.perf_counter()
            closes = 0
            month = history.start
            while month_add(month, 1) <= today.replace(day=1):
                r.close_month(session, month.year, month.month, actor_id=9, today=today)
                closes += 1
                month = month_add(month, 1)
            session.commit()
            print(
                f"closed {closes} months through {r.closed_through(session)} in {time.perf_counter() - start:.2f} s"
            )
            start = time.perf_counter()
            problems = r.verify(session)
            print(f"reserve.check.verify: {len(problems)} problems in {time.perf_counter() - start:.1f} s")
            for problem in problems[:5]:
                print(f"  {problem.code}: {problem.message}")

            past = month_add(history.start, 20) + timedelta(days=14)
            middle = month_add(history.start, MONTHS // 2)
            loan = MONTHS  # some early loan
            print("reads (warm, one session):")
            timed(
                f"reserve_position as of today ({today})", 50, lambda: r.reserve_position(session, today), 20
            )
            timed(f"reserve_position as of {past}", 50, lambda: r.reserve_position(session, past), 20)
            timed(
                f"monthly_statement {middle:%Y-%m}",
                20,
                lambda: r.monthly_statement(session, middle.year, middle.month),
                500,
            )
            timed(
                "monthly_statement current month (draft)",
                20,
                lambda: r.monthly_statement(session, today.year, today.month),
                500,
            )
            timed("journal first page (50, unfiltered)", 20, lambda: r.journal(session, per_page=50))
            timed(f"journal of loan {loan}", 20, lambda: r.journal(session, loan_id=loan))
            timed(
                f"commitment_balance of loan {loan} as of {past}",
                50,
                lambda: r.commitment_balance(session, loan, past),
            )
            position = r.reserve_position(session, today)
            print(
                f"position today: balance ${position.balance:,}, available ${position.available:,},"
                f" committed ${position.committed:,}, claims paid ${position.claims_paid:,}"
            )
            session.rollback()
        print(f"writes through the operations ({args.seconds:g} s each; commit per transaction):")
        for run, count in enumerate(int(n) for n in args.writers.split(",")):
            writers(schema, count, today, args.seconds, (run + 1) * 10_000_000)
        with Session(engine) as session:
            start = time.perf_counter()
            problems = r.verify(session)
            print(
                f"reserve.check.verify after the writers: {len(problems)} problems in {time.perf_counter() - start:.1f} s"
            )
            assert r.reserve_position(session, today).available >= Decimal(0)
        return 0 if not problems else 1
    finally:
        engine.dispose()
        if os.environ.get("RESERVE_BENCH_KEEP"):
            print(f"kept schema {schema} (RESERVE_BENCH_KEEP is set); drop it yourself")
        else:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
