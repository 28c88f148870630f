"""Issue #17, items 3 and 4 through the API: bounded amounts and dates of reserve postings, statements of
absurd months, and reversals that would break the ledger's own invariants."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from tests.app.reserve.test_reserve_api import DEPOSIT, _deposit, _transactions

TODAY = dt.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def _business_date(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "BUSINESS_DATE", TODAY)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "50000000000000000.00"}, "amount"),  # $5 x 10^16 overflowed SQLite's integers
        ({"amount": "5000000.01"}, "amount"),  # over RESERVE_MAX_DEPOSIT
        ({"received_on": "0001-01-01"}, "received_on"),
        ({"received_on": "9999-12-31"}, "received_on"),
        ({"received_on": "2026-12-08"}, "received_on"),  # tomorrow: RESERVE_MAX_FUTURE_DAYS is 0
        ({"received_on": "2025-12-05"}, "received_on"),  # beyond RESERVE_MAX_BACKDATE_DAYS
    ],
)
def test_out_of_bounds_deposits_are_refused_naming_the_field(
    app: Flask, client, token_for, change: dict[str, str], field: str
) -> None:  # type: ignore[no-untyped-def]
    before = _transactions(app)
    response = _deposit(client, token_for("staff"), key=f"bad-{field}-{change[field]}", **change)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert _transactions(app) == before
    assert client.get("/api/v1/reserve", headers=token_for("staff")).status_code == 200


def test_the_bounds_are_settings(app: Flask, client, token_for, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "RESERVE_MAX_DEPOSIT", "100000000.00")
    assert _deposit(client, token_for("staff"), key="big-ok", amount="6000000.00").status_code == 201
    staff = token_for("staff")
    deposit_in_window = _deposit(client, staff, key="in-window", received_on="2025-12-06")
    assert deposit_in_window.status_code == 201


@pytest.mark.parametrize("month", ["0001-01", "1999-12", "9999-12", "2026-13", "20x6-01"])
def test_statements_of_absurd_months_are_4xx(client, auth, month: str) -> None:  # type: ignore[no-untyped-def]
    auth.login("staff")
    for path in ("/reserve/statement", "/reserve/statement.csv"):
        response = client.get(f"{path}?month={month}")
        assert 400 <= response.status_code < 500, (path, month, response.status_code)


def test_a_loans_commitment_cannot_be_reversed_by_hand(app: Flask, client, token_for) -> None:  # type: ignore[no-untyped-def]
    """Reversing a live loan's commitment left it unbacked; a paid-off loan's release, committed to a
    closed loan (reserve-check: commitment_without_loan). Both are refused with a clear message."""
    import reserve
    from loanapp.extensions import db

    staff = token_for("staff")
    assert _deposit(client, staff, key="fund", **{**DEPOSIT, "amount": "20000.00"}).status_code == 201
    with app.app_context():
        commitment = reserve.commit_reserve(
            db.session, key="c-77", actor_id=1, loan_id=77, principal="10000", effective_date=TODAY
        )
        release = reserve.release_commitment(
            db.session, key="r-77", actor_id=1, loan_id=77, effective_date=TODAY
        )
        db.session.commit()
    for transaction in (commitment, release):
        response = client.post(
            f"/api/v1/reserve/transactions/{transaction.id}/reversal",
            json={"reason": "by hand"},
            headers={**staff, "Idempotency-Key": f"rv-{transaction.id}"},
        )
        assert response.status_code == 409, response.get_json()
        assert "follows the loan" in response.get_json()["message"]
    result = app.test_cli_runner().invoke(args=["reserve-check"])
    assert result.exit_code == 0, result.output
