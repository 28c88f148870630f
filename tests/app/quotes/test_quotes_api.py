from __future__ import annotations

from decimal import Decimal

import pytest

GOOD = {
    "amount_financed": "10000.00",
    "annual_rate": "9.00",
    "term_months": 60,
    "contract_date": "2026-12-15",
}


def test_quote_gives_payment_apr_and_a_schedule_that_sums_to_the_cent(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/quotes", json=GOOD)
    assert response.status_code == 200
    body = response.get_json()
    # 10,000 at 9% over 60 months: the textbook level payment is 207.58 (P*r/(1-(1+r)^-n), r = 0.0075).
    assert body["payment"] == "207.58"
    assert body["apr"] == "9.00"
    assert body["amount_financed"] == "10000.00"
    schedule = body["schedule"]
    assert len(schedule) == 60 and schedule[0]["due_date"] == "2027-01-15"
    assert sum(Decimal(row["principal"]) for row in schedule) == Decimal("10000.00")
    assert sum(Decimal(row["payment"]) for row in schedule) == Decimal(body["total_of_payments"])
    assert Decimal(body["total_of_payments"]) - Decimal("10000.00") == Decimal(body["finance_charge"])
    assert schedule[-1]["balance"] == "0.00"


def test_json_numbers_are_read_exactly(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/quotes",
        data='{"amount_financed": 12500.10, "annual_rate": 7.25, "term_months": 48}',
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.get_json()["amount_financed"] == "12500.10"


def test_a_prepaid_finance_charge_raises_the_apr_above_the_note_rate(client) -> None:  # type: ignore[no-untyped-def]
    body = client.post("/api/v1/quotes", json={**GOOD, "prepaid_finance_charge": "150.00"}).get_json()
    assert body["amount_financed"] == "10000.00"
    assert Decimal(body["apr"]) > Decimal("9.00")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_financed": "-100.00"}, "amount_financed"),
        ({"amount_financed": "0"}, "amount_financed"),
        ({"amount_financed": "ten thousand"}, "amount_financed"),
        ({"amount_financed": "10000.005"}, "amount_financed"),
        ({"amount_financed": "50000.00"}, "amount_financed"),
        ({"amount_financed": "200.00"}, "amount_financed"),
        ({"term_months": 0}, "term_months"),
        ({"term_months": 10000}, "term_months"),
        ({"term_months": "sixty"}, "term_months"),
        ({"term_months": 120}, "term_months"),
        ({"annual_rate": "19.00"}, "annual_rate"),
        ({"annual_rate": "-1"}, "annual_rate"),
        ({"annual_rate": "9.001"}, "annual_rate"),
        ({"first_payment_date": "2026-12-01"}, "first_payment_date"),
        ({"first_payment_date": "2027-06-15"}, "first_payment_date"),
        ({"contract_date": "15/12/2026"}, "contract_date"),
        ({"prepaid_finance_charge": "10000.00"}, "prepaid_finance_charge"),
    ],
)
def test_bad_terms_get_a_422_naming_the_field(client, change, field) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/quotes", json={**GOOD, **change})
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert field in body["errors"], body
    assert body["message"]


def test_the_program_limit_is_named_in_the_message(client) -> None:  # type: ignore[no-untyped-def]
    body = client.post("/api/v1/quotes", json={**GOOD, "amount_financed": "50000.00"}).get_json()
    assert body["errors"]["amount_financed"] == ["The program lends at most $30,000.00."]


def test_missing_fields_and_a_non_json_body_are_refused(client) -> None:  # type: ignore[no-untyped-def]
    body = client.post("/api/v1/quotes", json={}).get_json()
    assert set(body["errors"]) == {"amount_financed", "annual_rate", "term_months"}
    assert client.post("/api/v1/quotes", data="not json", content_type="application/json").status_code in (
        400,
        422,
    )


def test_a_quote_whose_apr_would_pass_the_ceiling_is_refused_with_the_apr_it_would_have(client) -> None:  # type: ignore[no-untyped-def]
    """$1,000 at 18% for 12 months with a $500 fee used to be quoted at 104.35%."""
    terms = {**GOOD, "amount_financed": "1000.00", "annual_rate": "18.00", "term_months": 12}
    response = client.post("/api/v1/quotes", json={**terms, "prepaid_finance_charge": "500.00"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == ["prepaid_finance_charge"]
    assert (
        "104.35%" in errors["prepaid_finance_charge"][0] and "18.00%" in errors["prepaid_finance_charge"][0]
    )
    assert client.post("/api/v1/quotes", json=terms).get_json()["apr"] == "18.00"
