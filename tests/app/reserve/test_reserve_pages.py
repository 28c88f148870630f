from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select

from loanapp.extensions import db
from reserve.schema import TransactionRow


def _key(page_text: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page_text).group(1)  # type: ignore[union-attr]


def test_staff_records_a_deposit_from_the_page_and_a_double_submit_posts_once(
    app: Flask, client, auth
) -> None:  # type: ignore[no-untyped-def]
    auth.login("staff")
    key = _key(client.get("/reserve/deposits").get_data(as_text=True))
    form = {
        "idempotency_key": key,
        "funder": "NY State Assembly",
        "grant": "Member item 2026",
        "amount": "50000.00",
        "received_on": "2026-11-02",
        "memo": "",
    }
    assert client.post("/reserve/deposits", data=form).status_code == 302
    assert client.post("/reserve/deposits", data=form).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TransactionRow)) == 1
    dashboard = client.get("/reserve?as_of=2026-11-30").get_data(as_text=True)
    assert "$50,000.00" in dashboard and "<svg" in dashboard


def test_a_bad_deposit_rerenders_the_form_with_messages(app: Flask, client, auth) -> None:  # type: ignore[no-untyped-def]
    auth.login("staff")
    response = client.post(
        "/reserve/deposits",
        data={"idempotency_key": "k", "funder": "", "grant": "G", "amount": "10.999", "received_on": ""},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This field is required." in text and "at most two decimals" in text and "Enter the date" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TransactionRow)) == 0


def test_statement_balances_and_exports_csv(client, auth) -> None:  # type: ignore[no-untyped-def]
    auth.login("staff")
    key = _key(client.get("/reserve/deposits").get_data(as_text=True))
    client.post(
        "/reserve/deposits",
        data={
            "idempotency_key": key,
            "funder": "ESD",
            "grant": "G1",
            "amount": "1200.00",
            "received_on": "2026-10-05",
        },
    )
    page = client.get("/reserve/statement?month=2026-10").get_data(as_text=True)
    assert "Closing per the ledger" in page and "$1,200.00" in page
    csv_text = client.get("/reserve/statement.csv?month=2026-10").get_data(as_text=True)
    assert "line,balance,committed,available" in csv_text
    assert "Opening,0.00,0.00,0.00" in csv_text and "Closing,1200.00,0.00,1200.00" in csv_text
    assert "Difference,0.00,0.00,0.00" in csv_text
    assert "Deposits: ESD / G1,1200.00,0.00,1200.00" in csv_text


def test_a_closed_month_refuses_postings_dated_in_it(app: Flask, client, auth) -> None:  # type: ignore[no-untyped-def]
    app.config["BUSINESS_DATE"] = "2026-11-15"
    try:
        auth.login("staff")
        assert client.post("/reserve/months", data={"month": "2026-10"}).status_code == 302
        key = _key(client.get("/reserve/deposits").get_data(as_text=True))
        response = client.post(
            "/reserve/deposits",
            data={
                "idempotency_key": key,
                "funder": "ESD",
                "grant": "G1",
                "amount": "10.00",
                "received_on": "2026-10-20",
            },
        )
        assert response.status_code == 409
        assert "closed" in response.get_data(as_text=True)
    finally:
        app.config.pop("BUSINESS_DATE")


def test_journal_page_and_csv(client, auth) -> None:  # type: ignore[no-untyped-def]
    auth.login("staff")
    key = _key(client.get("/reserve/deposits").get_data(as_text=True))
    client.post(
        "/reserve/deposits",
        data={
            "idempotency_key": key,
            "funder": "ESD",
            "grant": "G1",
            "amount": "75.00",
            "received_on": "2026-10-05",
        },
    )
    assert "deposit" in client.get("/reserve/journal").get_data(as_text=True)
    csv_text = client.get("/reserve/journal.csv?kind=deposit").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("transaction_id,effective_date")
    assert "75.00" in csv_text and "-75.00" in csv_text
    assert client.get("/reserve/journal?date_from=not-a-date").status_code == 400


def test_reserve_check_passes_on_a_consistent_ledger(client, auth, runner) -> None:  # type: ignore[no-untyped-def]
    auth.login("staff")
    key = _key(client.get("/reserve/deposits").get_data(as_text=True))
    client.post(
        "/reserve/deposits",
        data={
            "idempotency_key": key,
            "funder": "ESD",
            "grant": "G1",
            "amount": "75.00",
            "received_on": "2026-10-05",
        },
    )
    result = runner.invoke(args=["reserve-check"])
    assert result.exit_code == 0, result.output
    assert "all invariants hold" in result.output
