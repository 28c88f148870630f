"""Issue #11, point 4: a payment far above the payoff is a typo until confirmed; a reversal entered in
error is not money returned to the borrower."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from loanapp.extensions import db
from loanapp.servicing.models import Adjustment, Payment
from tests.app.servicing.test_import import csv_text, payments, two_loans, write  # noqa: F401
from tests.app.servicing.test_web import booked, post_payment  # noqa: F401


def test_the_api_refuses_a_payment_above_the_payoff_unless_allow_excess_is_sent(
    app: Flask,
    client: Any,
    token_for: Any,
    booked: Any,  # noqa: F811
) -> None:
    officer = token_for("officer")
    typo = post_payment(client, officer, booked.id, key="typo", amount="50000.00", received_on="2026-03-17")
    assert typo.status_code == 422
    body = typo.get_json()
    assert list(body["errors"]) == ["amount"]
    payoff = client.get(f"/api/v1/loans/{booked.id}/payoff", headers=officer).get_json()["payoff_amount"]
    assert f"{float(payoff):,.2f}" in body["errors"]["amount"][0]  # the payoff is named
    with app.app_context():
        assert db.session.scalar(select(Payment.id).where(Payment.amount == 50000)) is None
        assert db.session.scalar(select(Adjustment.id)) is None
    confirmed = post_payment(
        client,
        officer,
        booked.id,
        key="typo-2",
        amount="8500.00",
        received_on="2026-03-17",
        allow_excess=True,
    )
    assert confirmed.status_code == 201
    result = confirmed.get_json()
    assert result["servicing"]["principal_balance"] == "0.00"
    excess = result["allocation"]["excess"]
    assert float(excess) > 0
    with app.app_context():
        (refund,) = db.session.scalars(select(Adjustment)).all()
        assert (refund.kind, str(refund.amount)) == ("refund_due", excess)


def test_the_page_asks_to_confirm_a_payment_above_the_payoff_showing_it(
    app: Flask,
    client: Any,
    auth: Any,
    booked: Any,  # noqa: F811
) -> None:
    auth.login("officer")
    data = {"amount": "50000.00", "received_on": "2026-03-17", "method": "check", "idempotency_key": "x1"}
    asked = client.post(f"/servicing/loans/{booked.id}/payments", data=data)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 422 and 'id="confirm-excess"' in text
    assert "is more than the payoff of" in text and 'name="allow_excess"' in text
    with app.app_context():
        assert payments() == 1
    done = client.post(f"/servicing/loans/{booked.id}/payments", data={**data, "allow_excess": "y"})
    with app.app_context():
        assert done.status_code == 302 and payments() == 2


def test_a_csv_row_above_the_payoff_is_reported_and_nothing_posts(
    app: Flask,
    two_loans: tuple[Any, Any],  # noqa: F811
    tmp_path: Any,
) -> None:
    first, _second = two_loans
    path = write(
        tmp_path,
        csv_text([f"{first.id},205.52,2026-02-05,ach,CORE-1", f"{first.id},50000.00,2026-03-05,ach,CORE-2"]),
    )
    result = app.test_cli_runner().invoke(args=["import-payments", path, "--as", "officer@example.org"])
    assert result.exit_code == 1 and "line 3:" in result.output and "more than the payoff" in result.output
    assert payments() == 0


def test_a_reversal_entered_in_error_does_not_show_the_borrower_money_returned(
    app: Flask,
    client: Any,
    token_for: Any,
    auth: Any,
    booked: Any,  # noqa: F811
) -> None:
    officer = token_for("officer")
    typo = post_payment(client, officer, booked.id, key="typo", amount="2050.00", received_on="2026-03-17")
    assert typo.status_code == 201
    payment_id = typo.get_json()["id"]
    reversal = client.post(
        f"/api/v1/loans/{booked.id}/payments/{payment_id}/reversal",
        json={"reason": "typed 2050.00 for 205.00", "entered_in_error": True},
        headers={**officer, "Idempotency-Key": "rev"},
    )
    assert reversal.status_code == 201
    worker_history = client.get(f"/api/v1/loans/{booked.id}/payments", headers=token_for("worker")).get_json()
    assert [p["amount"] for p in worker_history] == ["205.52"]
    officer_history = client.get(f"/api/v1/loans/{booked.id}/payments", headers=officer).get_json()
    assert [(p["amount"], p["entered_in_error"]) for p in officer_history] == [
        ("2050.00", True),
        ("205.52", False),
    ]
    auth.login("worker")
    page = client.get(f"/my/loans/{booked.id}").get_data(as_text=True)
    assert "2,050.00" not in page and "Returned" not in page
