"""Issue #17 (LOW): hostile input is a 4xx, never a 500, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

DEEP = "[" * 100_000 + "]" * 100_000
QUOTE = '{"amount": "12000.00", "annual_rate": "8.99", "term_months": 60'


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '{"amount": ' + "9" * 5000 + "}",
        QUOTE + ', "extra": ' + "9" * 5000 + "}",
        QUOTE + ', "contract_date": "9999-12-31"}',
        QUOTE + ', "first_payment_date": "9999-12-31"}',
    ],
)
def test_hostile_json_on_the_public_quote_is_a_4xx(client, body: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/quotes", data=body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.is_json


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reserve/claims/99999999999999999999",
        "/api/v1/reserve/claims?loan_id=99999999999999999999",
        "/api/v1/reserve/transactions?loan_id=9223372036854775808",
        "/api/v1/reserve/transactions?page=99999999999999999999",
        "/api/v1/loans/99999999999999999999",
        "/api/v1/applications/2147483648",
        "/reserve/claims/99999999999999999999",
    ],
)
def test_ids_beyond_the_columns_range_are_a_4xx(client, auth, token_for, path: str) -> None:  # type: ignore[no-untyped-def]
    auth.login("staff")
    response = client.get(path, headers=token_for("staff") if path.startswith("/api/") else {})
    assert 400 <= response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize(
    "body",
    [
        '{"funder": "ESD\\u0000", "grant": "G", "amount": "1.00", "received_on": "2026-12-01"}',
        '{"funder": "ESD", "grant": "G", "amount": "1.00", "received_on": "2026-12-01", "memo": "a\\u0000b"}',
    ],
)
def test_a_nul_byte_in_any_text_is_a_400_and_nothing_is_written(client, token_for, body: str) -> None:  # type: ignore[no-untyped-def]
    staff = token_for("staff")
    response = client.post(
        "/api/v1/reserve/deposits",
        data=body,
        content_type="application/json",
        headers={**staff, "Idempotency-Key": "nul"},
    )
    assert response.status_code == 400
    assert client.get("/api/v1/reserve/transactions", headers=staff).get_json()["total"] == 0


def test_a_nul_byte_in_a_form_or_query_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/estimate?amount=1%00").status_code == 400
    assert client.post("/login", data={"email": "a\x00@b.org", "password": "x"}).status_code == 400


def test_a_newline_in_next_does_not_reach_the_location_header(client, users) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import PASSWORDS

    response = client.post(
        "/login?next=/home%0d%0aSet-Cookie:%20x=1",
        data={"email": "officer@example.org", "password": PASSWORDS["officer"]},
    )
    assert response.status_code == 302
    assert "\n" not in response.headers["Location"] and "Set-Cookie" not in response.headers["Location"]
