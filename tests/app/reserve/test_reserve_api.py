from __future__ import annotations

from decimal import Decimal

from flask import Flask
from sqlalchemy import func, select

from loanapp.audit.models import AuditEvent
from loanapp.extensions import db
from reserve.schema import TransactionRow

DEPOSIT = {
    "funder": "Empire State Development",
    "grant": "ESD-2026-1",
    "amount": "250000.00",
    "received_on": "2026-10-01",
}


def _deposit(client, headers, key="dep-1", **change):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/reserve/deposits", json={**DEPOSIT, **change}, headers={**headers, "Idempotency-Key": key}
    )


def _transactions(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TransactionRow))


def test_staff_records_a_deposit_and_the_position_shows_it(app: Flask, client, token_for) -> None:  # type: ignore[no-untyped-def]
    staff = token_for("staff")
    response = _deposit(client, staff)
    assert response.status_code == 201
    body = response.get_json()
    assert body["kind"] == "deposit" and sum(Decimal(p["amount"]) for p in body["postings"]) == 0
    position = client.get("/api/v1/reserve?as_of=2026-10-31", headers=staff).get_json()
    assert position["available"] == "250000.00" and position["balance"] == "250000.00"
    assert client.get("/api/v1/reserve?as_of=2026-09-30", headers=staff).get_json()["balance"] == "0.00"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reserve.deposit"))
        assert event is not None and event.actor_label == "staff@example.org"


def test_a_retried_deposit_posts_once_and_a_changed_retry_conflicts(app: Flask, client, token_for) -> None:  # type: ignore[no-untyped-def]
    staff = token_for("staff")
    first = _deposit(client, staff).get_json()
    again = _deposit(client, staff)
    assert again.status_code == 201 and again.get_json()["id"] == first["id"]
    changed = _deposit(client, staff, amount="1.00")
    assert changed.status_code == 409
    assert _transactions(app) == 1
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "reserve.deposit")
            )
            == 1
        )


def test_idempotency_keys_of_different_users_do_not_collide(app: Flask, client, token_for, runner) -> None:  # type: ignore[no-untyped-def]
    from loanapp.accounts.operations import create_user

    with app.app_context():
        create_user("staff2@example.org", "staff-pass-123", "staff")
        db.session.commit()
    other = {
        "Authorization": "Bearer " + runner.invoke(args=["create-token", "staff2@example.org"]).output.strip()
    }
    assert _deposit(client, token_for("staff")).status_code == 201
    assert _deposit(client, other, amount="10.00").status_code == 201
    assert _transactions(app) == 2


def test_a_deposit_without_an_idempotency_key_is_refused(app: Flask, client, token_for) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/reserve/deposits", json=DEPOSIT, headers=token_for("staff"))
    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert _transactions(app) == 0


def test_bad_deposits_get_field_errors_and_change_nothing(app: Flask, client, token_for) -> None:  # type: ignore[no-untyped-def]
    staff = token_for("staff")
    for change, field in (
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"funder": ""}, "funder"),
        ({"received_on": "yesterday"}, "received_on"),
    ):
        response = _deposit(client, staff, key=f"bad-{field}-{change[field]}", **change)
        assert response.status_code == 422, (change, response.get_json())
        assert field in response.get_json()["errors"]
    assert _transactions(app) == 0


def test_officers_and_workers_cannot_deposit(client, token_for) -> None:  # type: ignore[no-untyped-def]
    assert _deposit(client, token_for("officer")).status_code == 403
    assert _deposit(client, token_for("worker")).status_code == 403
    assert client.get("/api/v1/reserve", headers=token_for("worker")).status_code == 403


def test_reversal_posts_the_opposite_once(app: Flask, client, token_for) -> None:  # type: ignore[no-untyped-def]
    staff = token_for("staff")
    deposit = _deposit(client, staff).get_json()
    url = f"/api/v1/reserve/transactions/{deposit['id']}/reversal"
    reversal = client.post(
        url,
        json={"reason": "entered twice", "effective_date": "2026-10-02"},
        headers={**staff, "Idempotency-Key": "rev-1"},
    )
    assert reversal.status_code == 201
    assert reversal.get_json()["reverses_id"] == deposit["id"]
    again = client.post(url, json={"reason": "entered twice"}, headers={**staff, "Idempotency-Key": "rev-2"})
    assert again.status_code == 409
    assert client.get("/api/v1/reserve?as_of=2026-10-31", headers=staff).get_json()["balance"] == "0.00"
    missing = client.post(
        "/api/v1/reserve/transactions/99999/reversal",
        json={"reason": "nope"},
        headers={**staff, "Idempotency-Key": "rev-3"},
    )
    assert missing.status_code == 404


def test_journal_filters_and_pages(client, token_for) -> None:  # type: ignore[no-untyped-def]
    staff = token_for("staff")
    for n in range(3):
        _deposit(client, staff, key=f"d{n}", amount=f"{n + 1}000.00", received_on=f"2026-10-0{n + 1}")
    page = client.get(
        "/api/v1/reserve/transactions?per_page=2&date_from=2026-10-02", headers=staff
    ).get_json()
    assert page["total"] == 2 and page["pages"] == 1
    assert [t["effective_date"] for t in page["items"]] == ["2026-10-03", "2026-10-02"]
    bad = client.get("/api/v1/reserve/transactions?kind=bogus", headers=staff)
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]
