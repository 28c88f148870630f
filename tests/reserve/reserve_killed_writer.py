"""Test helper run as a subprocess: posts reserve operations, says so, then waits to be SIGKILLed.

``python -m tests.reserve.reserve_killed_writer URL SCHEMA`` — never commits: the parent kills it
after the postings are written and before any commit, to show nothing partial survives.
"""

from __future__ import annotations

import sys
import time
from datetime import date

from sqlalchemy.orm import Session

import reserve as r
from tests.reserve.reserve_support import schema_engine


def main(url: str, schema: str) -> None:
    engine = schema_engine(url, schema)
    with Session(engine) as session:
        r.record_deposit(
            session,
            key="killed-deposit",
            actor_id=1,
            funder="ESD",
            grant="G",
            amount="5000",
            received_on=date(2016, 2, 1),
        )
        r.commit_reserve(
            session,
            key="killed-commit",
            actor_id=2,
            loan_id=77,
            principal="10000",
            effective_date=date(2016, 2, 2),
        )
        session.flush()
        print("POSTED", flush=True)
        time.sleep(120)  # the parent kills us here, mid-transaction
        session.commit()  # never reached


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
