"""Benchmark: servicing at portfolio scale on PostgreSQL (run: python bench/aging.py).

Builds a database of its own on the server of ``DATABASE_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; the database is created and dropped here), through
the migrations, and bulk-loads with COPY:

* 100,000 loans ($3,000-15,000, 5-12%, 48 months) with their disclosed schedules
  (``risk.amortization.portfolio_schedules``), booked 24-25 months before the aging date, for 1,000
  workers;
* 24 months of payment history (about 2.3 million payments and allocations): most borrowers pay on
  time, some are one to five installments behind, a few stopped a year ago. Allocations follow the
  daily simple-interest rule in integer cents (interest = balance x rate x days / 365, half-up), so
  balances, credits and the servicing state agree with each other;
* each loan's servicing state and open bucket-history row as of the day before.

Then it times, and prints:

1. the nightly aging (``flask run-job aging``'s code path: one job run, committed) for the next day,
   target under 60 s; and again the following night;
2. the delinquency report as of the aged date (stored figures), target under 2 s; as of a past
   month end computed from the credits received by then (the old way), then the monthly snapshot job
   that stores every live loan's position that day, then the report read from those (target under
   1 s, issue #16), with the ratio; and the projection's data feed (``projection_inputs``) today and
   on that month end, from the stored positions and computed (target under 2 s);
3. the worker's loan page: the app served by waitress in subprocesses (``BENCH_WEB_PROCESSES``,
   default 2: one per CPU, as behind a load balancer; 4 threads each), loaded by 1, 4 and 8 concurrent
   clients (threads, each signed in as a different worker on its own
   keep-alive connection), 1,200 requests of ``/my/loans/<id>`` per level; p50/p95/p99, target p95
   under 50 ms, and the servers' CPU per request (from /proc), target under 3 ms.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from typing import Any

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

N_LOANS = int(os.environ.get("BENCH_LOANS", "100000"))
N_WORKERS = 1000
TERM = 48
AS_OF = dt.date(2026, 11, 20)  # the night being aged
PAGE_REQUESTS = 1200  # per concurrency level
PAGE_THREADS = 8
PAGE_CONCURRENCY = (1, 4, 8)
WEB_PROCESSES = int(os.environ.get("BENCH_WEB_PROCESSES", "2"))  # one per CPU of this 2-CPU box
PASSWORD = "bench-password-1"
TARGETS = {
    "aging": 60.0,
    "report": 2.0,
    "past_report": 1.0,
    "feed": 2.0,
    "page_p95_ms": 50.0,
    "page_cpu_ms": 3.0,
}


def log(message: str) -> None:
    print(message, flush=True)


# --- database ------------------------------------------------------------------------------------------


def create_database(server_url: str) -> str:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"loanapp_bench_aging_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def make_app(url: str, **extra: Any) -> Any:
    from loanapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret", **extra})


_PG_EPOCH = dt.date(2000, 1, 1).toordinal()
_WIDTH = {"int4": (">i4", 4), "int8": (">i8", 8), "date": (">i4", 4)}


def copy_binary(raw: Any, table: str, columns: list[tuple[str, str, np.ndarray]]) -> None:
    """COPY ... FROM STDIN (FORMAT binary) straight from numpy arrays: no Python object per value.

    Kinds: int4, int8, date (day ordinals). No NULLs (stage into a table of ints, convert in SQL).
    """
    n = len(columns[0][2])
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for index, (_name, kind, _values) in enumerate(columns):
        fields += [(f"len{index}", ">i4"), (f"v{index}", _WIDTH[kind][0])]
    record = np.empty(n, dtype=np.dtype(fields))
    record["count"] = len(columns)
    for index, (_name, kind, values) in enumerate(columns):
        record[f"len{index}"] = _WIDTH[kind][1]
        record[f"v{index}"] = values - _PG_EPOCH if kind == "date" else values
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    data = memoryview(header + record.tobytes() + (-1).to_bytes(2, "big", signed=True))
    names = ", ".join(name for name, _kind, _values in columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT binary)") as copy:
        for offset in range(0, len(data), 8 * 1024 * 1024):
            copy.write(data[offset : offset + 8 * 1024 * 1024])


def stage(session: Any, name: str, columns: list[tuple[str, str, np.ndarray]]) -> None:
    """An unlogged table of integer and date columns, filled by binary COPY."""
    types = {"int4": "integer", "int8": "bigint", "date": "date"}
    session.execute(_text(f"DROP TABLE IF EXISTS {name}"))
    session.execute(
        _text(f"CREATE UNLOGGED TABLE {name} (" + ", ".join(f"{c} {types[k]}" for c, k, _ in columns) + ")")
    )
    copy_binary(session.connection().connection.driver_connection, name, columns)


def _text(sql: str) -> Any:
    from sqlalchemy import text

    return text(sql)


def add_months_ordinal(first: np.ndarray, months: int) -> np.ndarray:
    """Same day of month (all days here are 1..28), ``months`` later."""
    epoch = dt.date(1970, 1, 1).toordinal()
    d = (first - epoch).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day = (d - month.astype("datetime64[D]")).astype(np.int64)
    shifted = (month + np.timedelta64(months, "M")).astype("datetime64[D]").astype(np.int64) + day
    return shifted + epoch


def load(app: Any) -> dict[str, Any]:
    """Bulk-load the portfolio; returns the sample of (loan, worker) for the page benchmark."""
    from werkzeug.security import generate_password_hash

    from loanapp.accounts.operations import create_user
    from loanapp.extensions import db
    from loanapp.programs.reference import seed_reference_lists
    from risk.amortization import portfolio_schedules
    from risk.delinquency import PROGRAM_BUCKETS, days_past_due_many

    rng = np.random.default_rng(20261120)
    with app.app_context():
        session = db.session
        seed_reference_lists()
        officer = create_user("bench.officer@example.org", PASSWORD, "officer", "Bench Officer")
        session.commit()
        officer_id = officer.id
        employer_ids = np.asarray(
            [r[0] for r in session.execute(_text("SELECT id FROM employers ORDER BY id"))]
        )
        program_ids = np.asarray(
            [r[0] for r in session.execute(_text("SELECT id FROM training_programs ORDER BY id"))]
        )
        password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        # A bulk load of rows built consistent here: skip the foreign-key triggers while loading (the
        # constraints themselves stay), and do not wait for the WAL flush on each statement.
        session.execute(_text("SET session_replication_role = replica"))
        session.execute(_text("SET synchronous_commit = off"))

        t0 = time.perf_counter()
        session.execute(
            _text(
                "INSERT INTO users (email, full_name, password_hash, role, active, created_at) "
                "SELECT 'bench.worker' || k || '@example.org', 'Bench Worker ' || k, :hash, 'worker', true, now() "
                "FROM generate_series(0, :n - 1) AS k ORDER BY k"
            ),
            {"hash": password_hash, "n": N_WORKERS},
        )
        first_worker = session.execute(_text("SELECT min(id) FROM users WHERE role = 'worker'")).scalar_one()

        n = N_LOANS
        ids = np.arange(1, n + 1, dtype=np.int64)
        worker = first_worker + (ids - 1) % N_WORKERS
        principal = rng.integers(3000, 15001, n).astype(np.int64) * 100
        rate_bp = rng.integers(500, 1201, n).astype(np.int64)
        day = rng.integers(1, 29, n)
        first_due = np.full(n, dt.date(AS_OF.year - 2, AS_OF.month, 1).toordinal()) + day - 1
        contract = add_months_ordinal(first_due, -1)
        sched = portfolio_schedules(principal, rate_bp, np.full(n, TERM))
        due = np.stack([add_months_ordinal(first_due, k) for k in range(TERM)], axis=1)
        employer = employer_ids[rng.integers(0, len(employer_ids), n)]
        program = np.where(rng.random(n) < 0.3, program_ids[rng.integers(0, len(program_ids), n)], 0)
        stage(
            session,
            "bench_loans",
            [
                ("id", "int8", ids), ("worker", "int8", worker), ("principal", "int8", principal),
                ("rate_bp", "int8", rate_bp), ("contract", "date", contract), ("first_due", "date", first_due),
                ("maturity", "date", due[:, -1]), ("payment", "int8", sched.payment[:, 0].astype(np.int64)),
                ("final", "int8", sched.payment[:, -1].astype(np.int64)),
                ("finance", "int8", sched.interest.astype(np.int64).sum(axis=1)),
                ("total", "int8", sched.payment.astype(np.int64).sum(axis=1)),
                ("employer", "int8", employer.astype(np.int64)), ("program", "int8", program.astype(np.int64)),
            ],
        )  # fmt: skip
        session.execute(
            _text(
                "INSERT INTO applications (id, worker_id, status, version, submission_key, created_at, submitted_at, "
                "updated_at, first_name, last_name, date_of_birth, ssn_last4, phone, street, city, state, postal_code, "
                "household_size, employment_status, employer_id, employer_other, training_program_id, monthly_income, "
                "monthly_debts, requested_amount, requested_term_months, vehicle_year, vehicle_make, vehicle_model, "
                "vehicle_mileage, vehicle_price, sale_type, dealer_name, down_payment, consent_at, documents_requested, "
                "documents_note) "
                "SELECT id, worker, 'booked', 1, 'bench-' || id, now(), now(), now(), 'Bench', 'Borrower ' || id, "
                "DATE '1990-05-17', '0000', '315-555-0100', '1 Salina St', 'Syracuse', 'NY', '13202', 2, 'employed', "
                "employer, '', NULLIF(program, 0), 2400, 100, principal::numeric / 100, :term, 2016, 'Honda', 'Civic', "
                "90000, principal::numeric / 100 + 1000, 'dealer', 'Northside Auto', 500, now(), '[]', '' "
                "FROM bench_loans ORDER BY id"
            ),
            {"term": TERM},
        )
        session.execute(
            _text(
                "INSERT INTO loans (id, application_id, borrower_id, employer_id, status, version, principal, annual_rate, "
                "term_months, contract_date, first_payment_date, maturity_date, payment_amount, final_payment_amount, "
                "amount_financed, prepaid_finance_charge, finance_charge, total_of_payments, apr, payment_summary, "
                "reserve_commitment, reserve_transaction_id, booked_by, booked_at, updated_at) "
                "SELECT id, id, worker, employer, 'active', 1, principal::numeric / 100, rate_bp::numeric / 100, :term, "
                "contract, first_due, maturity, payment::numeric / 100, final::numeric / 100, principal::numeric / 100, 0, "
                "finance::numeric / 100, total::numeric / 100, rate_bp::numeric / 100, '48 monthly payments', "
                "round(principal * 0.15) / 100, 0, :officer, now(), now() FROM bench_loans ORDER BY id"
            ),
            {"term": TERM, "officer": officer_id},
        )
        log(f"  users, applications, loans: {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        stage(
            session,
            "bench_installments",
            [
                ("loan_id", "int8", np.repeat(ids, TERM)), ("number", "int4", np.tile(np.arange(1, TERM + 1), n)),
                ("due", "date", due.ravel()), ("payment", "int8", sched.payment.ravel().astype(np.int64)),
                ("interest", "int8", sched.interest.ravel().astype(np.int64)),
                ("principal", "int8", sched.principal.ravel().astype(np.int64)),
                ("balance", "int8", sched.balance.ravel().astype(np.int64)),
            ],
        )  # fmt: skip
        session.execute(
            _text(
                "INSERT INTO loan_installments (loan_id, number, due_date, payment, interest, principal, balance) "
                "SELECT loan_id, number, due, payment::numeric / 100, interest::numeric / 100, principal::numeric / 100, "
                "balance::numeric / 100 FROM bench_installments"
            )
        )
        log(f"  {n * TERM:,} installments: {time.perf_counter() - t0:.1f} s")

        # Payment behaviour: how many of the installments due by yesterday each borrower paid.
        t0 = time.perf_counter()
        yesterday = AS_OF.toordinal() - 1
        due_count = (due <= yesterday).sum(axis=1)
        roll = rng.random(n)
        behind = np.select(
            [roll < 0.80, roll < 0.92, roll < 0.96, roll < 0.98, roll < 0.995], [0, 1, 2, 3, 5], default=12
        )
        paid = np.maximum(due_count - behind, 0)
        max_paid = int(paid.max())
        pay_day = due[:, :max_paid] + rng.integers(-3, 13, (n, max_paid))
        pay_day = np.minimum(np.maximum(pay_day, contract[:, None] + 1), yesterday)
        pay_day = np.maximum.accumulate(pay_day, axis=1)  # never before the previous payment
        amount = sched.payment[:, :max_paid].astype(np.int64)

        balance = principal.copy()
        last = contract.copy()
        credited = np.zeros(n, dtype=np.int64)
        total_interest = np.zeros(n, dtype=np.int64)
        total_paid = np.zeros(n, dtype=np.int64)
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("loan", "seq", "day", "amt", "int", "prin", "bal", "cred")
        }
        for j in range(max_paid):
            live = paid > j
            days = pay_day[:, j] - last
            interest = (
                balance * rate_bp * days * 2 + 3_650_000
            ) // 7_300_000  # half-up of b x r x d / 3,650,000
            to_interest = np.minimum(amount[:, j], interest)
            to_principal = np.minimum(amount[:, j] - to_interest, balance)
            balance = np.where(live, balance - to_principal, balance)
            credited = np.where(live, credited + to_interest + to_principal, credited)
            total_interest = np.where(live, total_interest + to_interest, total_interest)
            total_paid = np.where(live, total_paid + amount[:, j], total_paid)
            last = np.where(live, pay_day[:, j], last)
            idx = np.flatnonzero(live)
            for key, values in (
                ("loan", ids[idx]), ("seq", np.full(len(idx), j + 1)), ("day", pay_day[idx, j]),
                ("amt", amount[idx, j]), ("int", to_interest[idx]), ("prin", to_principal[idx]),
                ("bal", balance[idx]), ("cred", credited[idx]),
            ):  # fmt: skip
                parts[key].append(values)
        cols = {key: np.concatenate(values) for key, values in parts.items()}
        order = np.lexsort((cols["seq"], cols["loan"]))
        cols = {key: values[order].astype(np.int64) for key, values in cols.items()}
        m = len(cols["loan"])
        stage(
            session,
            "bench_payments",
            [
                ("id", "int8", np.arange(1, m + 1, dtype=np.int64)), ("loan_id", "int8", cols["loan"]),
                ("seq", "int8", cols["seq"]), ("day", "date", cols["day"]), ("amt", "int8", cols["amt"]),
                ("interest", "int8", cols["int"]), ("principal", "int8", cols["prin"]), ("bal", "int8", cols["bal"]),
                ("cred", "int8", cols["cred"]),
            ],
        )  # fmt: skip
        session.execute(
            _text(
                "INSERT INTO loan_payments (id, loan_id, kind, amount, received_on, method, reference, source, "
                "idempotency_key, request_hash, reason, posted_on, recorded_by, recorded_at) "
                "SELECT id, loan_id, 'payment', amt::numeric / 100, day, 'ach', 'CORE-' || id, 'import', "
                "'core:CORE-' || id, 'bench', '', day, :officer, now() FROM bench_payments ORDER BY id"
            ),
            {"officer": officer_id},
        )
        session.execute(
            _text(
                "INSERT INTO payment_allocations (payment_id, loan_id, sequence, received_on, to_fees, to_interest, "
                "to_principal, excess, principal_after, accrued_after, fees_after, credited_after) "
                "SELECT id, loan_id, seq, day, 0, interest::numeric / 100, principal::numeric / 100, 0, "
                "bal::numeric / 100, 0, 0, cred::numeric / 100 FROM bench_payments"
            )
        )
        session.execute(_text(f"SELECT setval('loan_payments_id_seq', {m})"))
        log(f"  {m:,} payments and allocations: {time.perf_counter() - t0:.1f} s")

        # Servicing state and the open bucket-history row, as the aging of yesterday left them.
        t0 = time.perf_counter()
        mask = due.ravel() <= yesterday
        final = np.tile(np.arange(1, TERM + 1) == TERM, n)
        dpd = days_past_due_many(
            yesterday, np.repeat(np.arange(n), TERM)[mask], due.ravel()[mask],
            sched.payment.ravel()[mask].astype(np.int64), final[mask], credited, balance, 500,
        )  # fmt: skip
        bucket_index = PROGRAM_BUCKETS.indexes_for(dpd)
        opened = np.where(dpd == 0, contract, yesterday - np.minimum(dpd, 29))
        stage(
            session,
            "bench_state",
            [
                ("loan_id", "int8", ids), ("balance", "int8", balance), ("interest_as_of", "date", last),
                ("paid", "int8", total_paid), ("interest", "int8", total_interest), ("credited", "int8", credited),
                ("payments", "int8", paid.astype(np.int64)), ("dpd", "int4", dpd.astype(np.int64)),
                ("bucket", "int4", bucket_index), ("opened", "date", opened),
            ],
        )  # fmt: skip
        labels = "ARRAY[" + ", ".join(f"'{label}'" for label in PROGRAM_BUCKETS.labels) + "]"
        session.execute(
            _text(
                "INSERT INTO loan_servicing (loan_id, principal_balance, accrued_interest, interest_as_of, fees_due, "
                "total_paid, total_to_fees, total_to_interest, total_to_principal, total_excess, last_payment_on, "
                "days_past_due, bucket, aged_on, version, updated_at) "
                "SELECT loan_id, balance::numeric / 100, 0, interest_as_of, 0, paid::numeric / 100, 0, "
                "interest::numeric / 100, (credited - interest)::numeric / 100, 0, "
                "CASE WHEN payments > 0 THEN interest_as_of END, dpd, "
                f"({labels})[bucket + 1], :yesterday, 1, now() FROM bench_state"
            ),
            {"yesterday": dt.date.fromordinal(yesterday)},
        )
        session.execute(
            _text(
                "INSERT INTO loan_bucket_history (loan_id, bucket, opened_on) "
                f"SELECT loan_id, ({labels})[bucket + 1], opened FROM bench_state ORDER BY loan_id"
            )
        )
        for table in ("applications", "loans", "loan_installments", "users", "loan_bucket_history"):
            session.execute(
                _text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            )
        for table in ("bench_loans", "bench_installments", "bench_payments", "bench_state"):
            session.execute(_text(f"DROP TABLE {table}"))
        session.execute(_text("RESET session_replication_role"))
        session.execute(_text("RESET synchronous_commit"))
        session.commit()
        log(f"  servicing state and bucket history: {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        session.execute(_text("ANALYZE"))
        session.commit()
        log(f"  analyze: {time.perf_counter() - t0:.1f} s")
        sample = rng.choice(n, PAGE_THREADS * 4, replace=False) + 1
        return {
            "payments": m,
            "pages": [
                (int(loan_id), f"bench.worker{int((loan_id - 1) % N_WORKERS)}@example.org")
                for loan_id in sample
            ],
            "by_bucket": {
                label: int((bucket_index == k).sum()) for k, label in enumerate(PROGRAM_BUCKETS.labels)
            },
        }


# --- timings -------------------------------------------------------------------------------------------


def time_aging(app: Any, day: dt.date) -> tuple[float, dict[str, Any]]:
    from loanapp.jobs.runner import run_job

    with app.app_context():
        start = time.perf_counter()
        result = run_job("aging", day, trigger="manual")
        elapsed = time.perf_counter() - start
    assert result.outcome == "succeeded", result
    return elapsed, result.counts


def time_report(app: Any, day: dt.date, repeat: int = 5) -> tuple[float, Any]:
    from loanapp.servicing.reports import delinquency_report

    times = []
    report = None
    with app.app_context():
        for _ in range(repeat):
            start = time.perf_counter()
            report = delinquency_report(day)
            times.append(time.perf_counter() - start)
    return statistics.median(times), report


def time_month_end(app: Any, month_end: dt.date, today: dt.date) -> dict[str, Any]:
    """The report of a past month end computed (old path), then the monthly snapshot job that stores
    every live loan's position, then the report read from them."""
    from loanapp.jobs.runner import run_job
    from loanapp.servicing import positions, reports
    from loanapp.servicing.policy import current_policy

    with app.app_context():
        start = time.perf_counter()
        computed = reports._report(positions.computed(month_end), current_policy())
        computed_time = time.perf_counter() - start
        start = time.perf_counter()
        result = run_job("delinquency_snapshot", month_end + dt.timedelta(days=1), trigger="manual")
        job_time = time.perf_counter() - start
        assert result.outcome == "succeeded", result
    stored_time, stored = time_report(app, month_end)
    same = stored == computed.__class__(**{**computed.__dict__, "source": stored.source})
    return {
        "computed": computed_time,
        "snapshot_job": job_time,
        "month_end": stored_time,
        "source": stored.source,
        "same": same,
    }


def time_feed(app: Any, day: dt.date) -> dict[str, Any]:
    """``projection_inputs`` as served (stored positions) and with every position computed (old path)."""
    from unittest import mock

    from loanapp.projections.book import projection_inputs
    from loanapp.servicing import positions

    with app.app_context():
        source = positions.positions_on(day).source
        times = []
        for _ in range(3):
            start = time.perf_counter()
            stored = projection_inputs(day, app.config)
            times.append(time.perf_counter() - start)
        with mock.patch.object(positions, "positions_on", lambda as_of, **_kw: positions.computed(as_of)):
            start = time.perf_counter()
            computed = projection_inputs(day, app.config)
            computed_time = time.perf_counter() - start
    same = all(
        np.array_equal(getattr(stored.portfolio, name), getattr(computed.portfolio, name))
        for name in ("loan_id", "state", "balance_cents", "remaining_term", "employer", "commitment_cents")
    ) and np.array_equal(stored.counts, computed.counts)
    return {"stored": statistics.median(times), "computed": computed_time, "source": source, "same": same}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    """A signed-in session over one keep-alive connection (http.client; loopback only)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            # The server dropped the idle keep-alive connection (a busy machine): once more, anew.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text

    def sign_in(self, email: str) -> None:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        fields = {"email": email, "password": PASSWORD, **({"csrf_token": token.group(1)} if token else {})}
        status, _ = self.request("POST", "/login", urllib.parse.urlencode(fields))
        assert status == 302, f"sign-in as {email} answered {status}"


def time_pages(url: str, pages: list[tuple[int, str]], day: dt.date) -> list[dict[str, float]]:
    """Serve the app with waitress (``WEB_PROCESSES`` processes of 4 threads, as behind a load balancer)
    and load the worker's loan page at 1, 4 and 8 concurrent signed-in clients (each its own worker and
    keep-alive connection, spread over the processes)."""
    ports = [free_port() for _ in range(WEB_PROCESSES)]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOANAPP_SECRET_KEY": "bench-secret",
        "LOANAPP_BUSINESS_DATE": day.isoformat(),
        "PYTHONPATH": ROOT,
    }
    waitress = os.path.join(os.path.dirname(sys.executable), "waitress-serve")
    servers = [
        subprocess.Popen(
            [waitress, "--listen", f"127.0.0.1:{port}", "--threads", "4", "--call", "loanapp:create_app"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    results = []
    try:
        for port in ports:
            for _ in range(600):  # a loaded machine imports slowly
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
        browsers = []
        for index, (loan_id, email) in enumerate(pages[:PAGE_THREADS]):
            browser = Browser(ports[index % len(ports)])
            browser.sign_in(email)
            for _ in range(10):  # warm up this connection and the server's caches
                browser.request("GET", f"/my/loans/{loan_id}")
            browsers.append((browser, loan_id))
        for clients in PAGE_CONCURRENCY:
            latencies: list[float] = []
            per_client = PAGE_REQUESTS // clients

            def client(
                browser: Browser, loan_id: int, count: int, latencies: list[float] = latencies
            ) -> None:
                local = []
                for _ in range(count):
                    start = time.perf_counter()
                    status, text = browser.request("GET", f"/my/loans/{loan_id}")
                    local.append(time.perf_counter() - start)
                    assert status == 200 and "Where you stand today" in text, status
                latencies.extend(local)  # list.extend is atomic under the GIL

            threads = [
                threading.Thread(target=client, args=(browser, loan_id, per_client))
                for browser, loan_id in browsers[:clients]
            ]
            cpu_before = sum(cpu_seconds(server.pid) for server in servers)
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - start
            server_cpu = sum(cpu_seconds(server.pid) for server in servers) - cpu_before
            ms = np.asarray(latencies) * 1000
            results.append(
                {
                    "clients": float(clients),
                    "requests": float(len(ms)),
                    "p50": float(np.percentile(ms, 50)),
                    "p95": float(np.percentile(ms, 95)),
                    "p99": float(np.percentile(ms, 99)),
                    "rps": len(ms) / wall,
                    "cpu_ms": server_cpu * 1000 / len(ms),
                }
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
    return results


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = make_app(url)
    with app.app_context():
        upgrade()
        from loanapp.extensions import db

        db.engine.dispose()


def verdict(value: float, target: float) -> str:
    return "ok" if value < target else "OVER TARGET"


def main() -> None:
    import logging

    from loanapp.config import sqlalchemy_url

    logging.getLogger("alembic").setLevel(logging.WARNING)
    server = sqlalchemy_url(
        os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    url = create_database(server)
    log(f"database {url.rsplit('/', 1)[-1]} on {server.rsplit('@', 1)[-1]}")
    try:
        migrate(url)
        app = make_app(url, BUSINESS_DATE=AS_OF)
        start = time.perf_counter()
        loaded = load(app)
        log(
            f"loaded {N_LOANS:,} loans, {loaded['payments']:,} payments in {time.perf_counter() - start:.1f} s"
        )
        log("  buckets the day before: " + ", ".join(f"{k} {v:,}" for k, v in loaded["by_bucket"].items()))

        first, counts = time_aging(app, AS_OF)
        log(
            f"nightly aging {AS_OF}: {first:.2f} s  [{verdict(first, TARGETS['aging'])}: target < {TARGETS['aging']:.0f} s]"
        )
        log("  " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        next_day = AS_OF + dt.timedelta(days=1)
        app.config["BUSINESS_DATE"] = next_day
        second, counts = time_aging(app, next_day)
        log(f"nightly aging {next_day}: {second:.2f} s  (bucket changes {counts['bucket_changes']})")

        report_time, report = time_report(app, next_day)
        log(
            f"delinquency report as of {next_day} ({report.source}): {report_time * 1000:.0f} ms median of 5  "
            f"[{verdict(report_time, TARGETS['report'])}: target < {TARGETS['report']:.0f} s]"
        )
        log(
            f"  {report.loans:,} loans, ${report.balance:,} principal; 60+ ratio {report.ratio_balance}% of principal, "
            f"{report.ratio_loans}% of loans"
        )
        month_end = AS_OF.replace(day=1) - dt.timedelta(days=1)
        timed = time_month_end(app, month_end, next_day)
        log(
            f"delinquency report as of {month_end}, computed from the credits received by then (the old way, "
            f"still the path of a date with no snapshot): {timed['computed']:.2f} s"
        )
        log(
            f"monthly delinquency snapshot job for {month_end} (stores every live loan's position): "
            f"{timed['snapshot_job']:.2f} s"
        )
        log(
            f"delinquency report as of {month_end} ({timed['source']}): {timed['month_end'] * 1000:.0f} ms median of 5, "
            f"x{timed['computed'] / timed['month_end']:.0f} faster  "
            f"[{verdict(timed['month_end'], TARGETS['past_report'])}: target < {TARGETS['past_report']:.0f} s]"
        )
        log(f"  same figures as computed: {timed['same']}")
        for day, label in ((next_day, "today, after the nightly aging"), (month_end, "a month end")):
            feed = time_feed(app, day)
            log(
                f"projection data feed (projection_inputs) as of {day} ({label}): {feed['stored']:.2f} s from "
                f"{feed['source']}, {feed['computed']:.2f} s computing every position (old path), "
                f"x{feed['computed'] / feed['stored']:.1f}  "
                f"[{verdict(feed['stored'], TARGETS['feed'])}: target < {TARGETS['feed']:.0f} s]; same book: {feed['same']}"
            )

        for level in time_pages(url, loaded["pages"], next_day):
            log(
                f"worker loan page /my/loans/<id> (waitress, {WEB_PROCESSES} process(es) x 4 threads), {level['clients']:.0f} concurrent "
                f"client(s), {level['requests']:.0f} requests: p50 {level['p50']:.1f} ms, p95 {level['p95']:.1f} ms, "
                f"p99 {level['p99']:.1f} ms, {level['rps']:.0f} req/s, server CPU {level['cpu_ms']:.1f} ms a request  "
                f"[{verdict(level['p95'], TARGETS['page_p95_ms'])}: target p95 < {TARGETS['page_p95_ms']:.0f} ms; "
                f"{verdict(level['cpu_ms'], TARGETS['page_cpu_ms'])}: target CPU < {TARGETS['page_cpu_ms']:.0f} ms]"
            )
        with app.app_context():
            from loanapp.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        if os.environ.get("BENCH_KEEP"):
            log(f"database kept: {url}")
        else:
            drop_database(server, url)
            log("database dropped")


if __name__ == "__main__":
    main()
