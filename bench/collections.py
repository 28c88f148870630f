"""Benchmark: the officer's worklist on the 100,000-loan book, on PostgreSQL (run: python bench/collections.py).

Builds the book of ``bench/aging.py`` (100,000 loans with 24 months of payments and their servicing
state) in a database of its own on the server of ``DATABASE_URL``, then adds what collections needs:
the borrowers' search keys (``collection_cases``, folded names and phone digits: every 50th borrower
is a "Hernández", phones are distinct), 30,000 contact-log entries (a tenth with a follow-up due),
3,000 promises to pay (a third broken) and 5,000 loans assigned to the benchmark officer.

It prints the time of ``GET /api/v1/collections/worklist`` (Flask's test client, JSON serialised,
bearer token; median of 7 after one warm-up) for the first page of: everything, "assigned to me",
a name search ignoring accents ("hernandez"), a phone search, a reason filter and a sort by name.
Target: under 300 ms for the first page.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import aging as book  # noqa: E402  (bench/aging.py: the 100,000-loan book)

TARGET_MS = 300.0
QUERIES = [
    ("everything, most days past due first", ""),
    ("assigned to me", "?assigned=me"),
    ("name search 'hernandez' (accents ignored)", "?q=hernandez"),
    ("phone search '555-012'", "?q=555-012"),
    ("broken promises", "?reason=promise_broken"),
    ("sorted by last name", "?sort=name&order=asc"),
    ("page 40", "?page=40"),
]


def add_collections_data(app: Any) -> dict[str, Any]:
    from sqlalchemy import text

    from loanapp.accounts.models import User
    from loanapp.accounts.operations import issue_token
    from loanapp.collections.operations import open_missing_cases
    from loanapp.extensions import db

    today = book.AS_OF + dt.timedelta(days=1)
    with app.app_context():
        session = db.session
        session.execute(
            text(
                "UPDATE applications SET last_name = CASE WHEN id % 50 = 0 THEN 'Hernández' ELSE last_name END, "
                "first_name = CASE WHEN id % 50 = 0 THEN 'María' ELSE first_name END, "
                "phone = '315555' || lpad((id % 10000)::text, 4, '0')"
            )
        )
        start = time.perf_counter()
        cases = open_missing_cases()
        session.commit()
        book.log(f"  search keys for {cases:,} loans: {time.perf_counter() - start:.1f} s")
        officer = session.scalar(text("SELECT id FROM users WHERE role = 'officer' ORDER BY id LIMIT 1"))
        session.execute(
            text(
                "INSERT INTO collection_contacts (loan_id, channel, direction, outcome, note, next_action_on, "
                "contacted_on, contacted_at, recorded_by, idempotency_key, request_hash) "
                "SELECT 1 + (k * 7919) % :n, 'call', 'outbound', "
                "(ARRAY['reached','left_message','no_answer','promised'])[1 + k % 4], 'bench', "
                "CASE WHEN k % 10 = 0 THEN CAST(:today AS date) - (k % 5) ELSE NULL END, CAST(:today AS date) - (k % 60), "
                "now() - make_interval(days => k % 60), :officer, 'bench-contact-' || k, 'x' "
                "FROM generate_series(1, 30000) AS k"
            ),
            {"n": book.N_LOANS, "today": today.isoformat(), "officer": officer},
        )
        session.execute(
            text(
                "INSERT INTO collection_promises (loan_id, amount, promised_on, made_on, note, recorded_by, "
                "recorded_at, idempotency_key, request_hash) "
                "SELECT 1 + (k * 104729) % :n, 150.00, CAST(:today AS date) - (k % 20), CAST(:today AS date) - (k % 20) - 3, '', "
                ":officer, now(), 'bench-promise-' || k, 'x' FROM generate_series(1, 3000) AS k"
            ),
            {"n": book.N_LOANS, "today": today.isoformat(), "officer": officer},
        )
        session.execute(
            text(
                "UPDATE collection_cases SET assigned_to = :officer, assigned_at = now() "
                "WHERE loan_id IN (SELECT s.loan_id FROM loan_servicing s WHERE s.days_past_due > 0 "
                "ORDER BY s.loan_id LIMIT 5000)"
            ),
            {"officer": officer},
        )
        session.execute(text("ANALYZE"))
        session.commit()
        token = issue_token(session.get(User, officer))
        session.commit()
        return {"token": token, "today": today}


def time_worklist(app: Any, token: str, today: dt.date) -> list[tuple[str, float, int]]:
    app.config["BUSINESS_DATE"] = today
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    results = []
    for label, query in QUERIES:
        url = "/api/v1/collections/worklist" + query
        first = client.get(url, headers=headers)
        assert first.status_code == 200, first.get_json()
        times = []
        for _ in range(7):
            start = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        results.append((label, statistics.median(times) * 1000, int(first.get_json()["total"])))
    return results


def main() -> None:
    import logging

    from loanapp.config import sqlalchemy_url

    logging.getLogger("alembic").setLevel(logging.WARNING)
    server = sqlalchemy_url(
        os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    reuse = os.environ.get("BENCH_REUSE")  # a database kept by an earlier run (BENCH_KEEP=1): time only
    url = reuse or book.create_database(server)
    book.log(f"database {url.rsplit('/', 1)[-1]} on {server.rsplit('@', 1)[-1]}")
    try:
        if reuse:
            app = book.make_app(url, BUSINESS_DATE=book.AS_OF)
            with app.app_context():
                from loanapp.accounts.models import User
                from loanapp.accounts.operations import issue_token
                from loanapp.extensions import db

                officer = db.session.scalar(db.select(User).where(User.role == "officer").limit(1))
                extra = {"token": issue_token(officer), "today": book.AS_OF + dt.timedelta(days=1)}
                db.session.commit()
        else:
            book.migrate(url)
            app = book.make_app(url, BUSINESS_DATE=book.AS_OF)
            start = time.perf_counter()
            loaded = book.load(app)
            book.log(
                f"loaded {book.N_LOANS:,} loans, {loaded['payments']:,} payments in {time.perf_counter() - start:.1f} s"
            )
            extra = add_collections_data(app)
        for label, ms, total in time_worklist(app, extra["token"], extra["today"]):
            verdict = "ok" if ms < TARGET_MS else "OVER TARGET"
            book.log(
                f"worklist first page, {label}: {ms:.0f} ms median of 7 ({total:,} loans on the list)  "
                f"[{verdict}: target < {TARGET_MS:.0f} ms]"
            )
        with app.app_context():
            from loanapp.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        if os.environ.get("BENCH_KEEP") or reuse:
            book.log(f"database kept: {url}")
        else:
            book.drop_database(server, url)
            book.log("database dropped")


if __name__ == "__main__":
    main()
