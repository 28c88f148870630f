from __future__ import annotations


def test_worker_estimate_uses_the_standard_rate_and_shows_the_disclosure(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/estimate", data={"amount_financed": "10000", "term_months": "60", "annual_rate": "1.00"}
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Truth-in-Lending disclosure" in text
    # 10,000 at the standard 8.99% over 60 months: 207.54 (P*r/(1-(1+r)^-n), r = 0.0899/12).
    assert "$207.54" in text
    assert "<svg" in text


def test_officer_may_quote_another_rate(client, auth) -> None:  # type: ignore[no-untyped-def]
    auth.login("officer")
    text = client.post(
        "/estimate", data={"amount_financed": "10000", "term_months": "60", "annual_rate": "9.00"}
    ).get_data(as_text=True)
    assert "$207.58" in text


def test_bad_amount_rerenders_the_form_with_the_message(client) -> None:  # type: ignore[no-untyped-def]
    for amount, message in (
        ("", "Enter an amount."),
        ("12.345", "Use dollars and cents, at most two decimals."),
        ("90000", "The program lends at most $30,000.00."),
    ):
        response = client.post("/estimate", data={"amount_financed": amount, "term_months": "60"})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)


def test_estimate_page_in_spanish(client) -> None:  # type: ignore[no-untyped-def]
    text = client.get("/estimate", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Calcule su pago mensual" in text
