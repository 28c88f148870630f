"""The officer's worklist: who is on it and why, search ignoring accents and case, filters, sort,
assignment, and the API's contract (``GET /api/v1/collections/worklist``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from loanapp.accounts.models import User
from loanapp.collections import operations, queries
from loanapp.extensions import db
from loanapp.servicing.aging import age_portfolio
from loanapp.servicing.errors import InvalidInput
from loanapp.servicing.operations import scoped_key
from tests.app.collections.conftest import book
from tests.app.servicing.conftest import fund, pay

TODAY = dt.date(2026, 3, 17)


def _book_two(people: dict[str, Any]) -> SimpleNamespace:
    """María Hernández: one payment, 12 days late on March 17. Ana Reyes: paid up, current."""
    fund(people)
    late = book(people, first_name="María", last_name="Hernández", phone="(315) 555-0199")
    current = book(people, worker="worker2")
    pay(late, "205.52", dt.date(2026, 2, 5), people["officer"])
    pay(current, "205.52", dt.date(2026, 2, 5), people["officer"])
    pay(current, "205.52", dt.date(2026, 3, 5), people["officer"])
    age_portfolio(TODAY)
    return SimpleNamespace(late=late, current=current)


@pytest.fixture
def two(people: dict[str, Any], on_date: Any) -> SimpleNamespace:
    on_date(TODAY)
    return _book_two(people)


def _ids(filters: queries.WorklistFilters) -> list[int]:
    items, total = queries.worklist(filters, TODAY)
    assert total == len(items)
    return [i.loan_id for i in items]


def test_a_late_loan_is_on_the_worklist_with_what_the_officer_needs(two: SimpleNamespace) -> None:
    items, total = queries.worklist(queries.WorklistFilters(), TODAY)
    assert total == 1
    [item] = items
    assert item.loan_id == two.late.id and item.reasons == ["past_due"]
    assert item.days_past_due == 12 and item.bucket == "1-29"
    assert item.borrower_name == "María Hernández" and item.phone_link == "tel:+13155550199"
    assert item.amount_to_catch_up == Decimal("205.52") and item.last_contact_at is None


def test_search_ignores_accents_and_case_and_finds_loan_numbers_and_phones(two: SimpleNamespace) -> None:
    late = two.late.id
    for text in ["hernandez", "HERNÁNDEZ", "maria hern", "555-0199", "3155550199", f"#{late}", f"{late}"]:
        assert _ids(queries.WorklistFilters(search=text)) == [late], text


def test_search_for_someone_else_finds_nothing(two: SimpleNamespace) -> None:
    assert _ids(queries.WorklistFilters(search="reyes")) == []


def test_a_promise_due_a_broken_one_and_a_follow_up_bring_loans_onto_the_list(
    two: SimpleNamespace, people: dict[str, Any], on_date: Any
) -> None:
    officer = people["officer"]
    operations.make_promise(
        two.current.id,
        operations.PromiseInput(Decimal("205.52"), TODAY),
        actor=officer,
        key=scoped_key(officer, "p"),
    )
    items, _ = queries.worklist(queries.WorklistFilters(reason="promise_due"), TODAY)
    assert [(i.loan_id, i.reasons, i.promise.status) for i in items] == [
        (two.current.id, ["promise_due"], "open")
    ]
    later = TODAY + dt.timedelta(days=4)  # past the 3 days' grace
    on_date(later)
    items, _ = queries.worklist(queries.WorklistFilters(reason="promise_broken"), later)
    assert [i.loan_id for i in items] == [two.current.id] and items[0].promise.status == "broken"
    operations.log_contact(
        two.current.id,
        operations.ContactInput("call", "outbound", "left_message", "", later),
        actor=officer,
        key=scoped_key(officer, "c"),
    )
    items, _ = queries.worklist(queries.WorklistFilters(), later)
    reasons = {i.loan_id: i.reasons for i in items}
    assert reasons[two.current.id] == ["follow_up"]  # the broken promise was followed up
    assert reasons[two.late.id] == ["past_due"]


def test_assignment_filters_the_list_and_is_audited(two: SimpleNamespace, people: dict[str, Any]) -> None:
    officer = people["officer"]
    assert _ids(queries.WorklistFilters(assigned=officer.id)) == []
    operations.assign(two.late.id, officer.id, actor=officer)
    assert _ids(queries.WorklistFilters(assigned=officer.id)) == [two.late.id]
    assert _ids(queries.WorklistFilters(assigned="unassigned")) == []
    with pytest.raises(InvalidInput) as refused:
        operations.assign(two.late.id, people["worker"].id, actor=officer)
    assert "officer_id" in refused.value.errors


def test_sorting_by_days_past_due_and_by_name(two: SimpleNamespace, people: dict[str, Any]) -> None:
    officer = people["officer"]
    operations.log_contact(
        two.current.id,
        operations.ContactInput("call", "outbound", "reached", "", TODAY),
        actor=officer,
        key=scoped_key(officer, "c"),
    )
    assert _ids(queries.WorklistFilters(sort="days_past_due")) == [two.late.id, two.current.id]
    assert _ids(queries.WorklistFilters(sort="days_past_due", descending=False)) == [
        two.current.id,
        two.late.id,
    ]
    assert _ids(queries.WorklistFilters(sort="name", descending=False)) == [two.late.id, two.current.id]


@pytest.fixture
def booked(app: Flask, users: dict[str, int], on_date: Any) -> Iterator[SimpleNamespace]:
    on_date(TODAY)
    with app.test_request_context():
        people = {role: db.session.get(User, user_id) for role, user_id in users.items()}
        two = _book_two(people)
        db.session.commit()
        ids = SimpleNamespace(late=two.late.id, current=two.current.id)
    yield ids


def test_the_api_worklist_contacts_and_promises(client: Any, token_for: Any, booked: SimpleNamespace) -> None:
    officer = token_for("officer")
    body = client.get("/api/v1/collections/worklist?q=hernandez", headers=officer).get_json()
    [item] = body["items"]
    assert {k: item[k] for k in ("loan_id", "days_past_due", "phone", "next_action_on", "reasons")} == {
        "loan_id": booked.late,
        "days_past_due": 12,
        "phone": "(315) 555-0199",
        "next_action_on": None,
        "reasons": ["past_due"],
    }
    path = f"/api/v1/loans/{booked.late}/contacts"
    contact = {
        "channel": "call",
        "direction": "outbound",
        "outcome": "promised",
        "next_action_on": "2026-03-20",
    }
    made = client.post(path, json=contact, headers={**officer, "Idempotency-Key": "c-1"})
    assert made.status_code == 201, made.get_json()
    again = client.post(path, json=contact, headers={**officer, "Idempotency-Key": "c-1"})
    assert again.status_code == 200 and again.get_json()["id"] == made.get_json()["id"]
    assert [c["outcome"] for c in client.get(path, headers=officer).get_json()] == ["promised"]
    bad = client.post(path, json={**contact, "channel": "fax"}, headers={**officer, "Idempotency-Key": "c-2"})
    assert bad.status_code == 422 and "channel" in bad.get_json()["errors"]

    promises = f"/api/v1/loans/{booked.late}/promises"
    past = client.post(
        promises,
        json={"amount": "205.52", "promised_on": "2026-03-16"},
        headers={**officer, "Idempotency-Key": "p-0"},
    )
    assert past.status_code == 422 and "promised_on" in past.get_json()["errors"]
    made = client.post(
        promises,
        json={"amount": "205.52", "promised_on": "2026-03-20"},
        headers={**officer, "Idempotency-Key": "p-1"},
    )
    assert made.status_code == 201 and made.get_json()["status"] == "open"
    assert [p["status"] for p in client.get(promises, headers=officer).get_json()] == ["open"]
    body = client.get("/api/v1/collections/worklist", headers=officer).get_json()
    assert body["items"][0]["next_action_on"] == "2026-03-20"
    worker = token_for("worker")
    assert client.get("/api/v1/collections/worklist", headers=worker).status_code == 403
    assert (
        client.post(
            promises,
            json={"amount": "1.00", "promised_on": "2026-03-20"},
            headers={**token_for("staff"), "Idempotency-Key": "x"},
        ).status_code
        == 403
    )


def test_the_worklist_and_loan_pages(client: Any, auth: Any, booked: SimpleNamespace) -> None:
    auth.login("officer")
    page = client.get("/collections/?assigned=all&q=Hernandez")
    assert (
        page.status_code == 200 and "María Hernández" in page.text and 'href="tel:+13155550199"' in page.text
    )
    loan_page = client.get(f"/collections/loans/{booked.late}")
    assert loan_page.status_code == 200 and "412 Butternut St" in loan_page.text
    servicing_page = client.get(f"/servicing/loans/{booked.late}")
    assert "Borrower contact" in servicing_page.text and "(315) 555-0199" in servicing_page.text
    refused = client.post(
        f"/collections/loans/{booked.late}/promises",
        data={"amount": "10.00", "promised_on": "2026-03-01", "idempotency_key": "k"},
    )
    assert refused.status_code == 422 and "A promise cannot be in the past." in refused.text


def test_a_failed_message_puts_the_loan_on_the_list_until_someone_makes_contact(
    two: SimpleNamespace, people: dict[str, Any]
) -> None:
    from loanapp.notices.models import Notice

    db.session.add(
        Notice(
            user_id=two.current.borrower_id,
            event="payment_reminder",
            event_key="test-failed",
            channel="sms",
            language="es",
            recipient="+13155550142",
            body="Recordatorio",
            loan_id=two.current.id,
            status="failed",
            last_error="number not valid",
        )
    )
    db.session.flush()
    items, _ = queries.worklist(queries.WorklistFilters(reason="message_failed"), TODAY)
    assert [(i.loan_id, i.reasons) for i in items] == [(two.current.id, ["message_failed"])]
    officer = people["officer"]
    operations.log_contact(
        two.current.id,
        operations.ContactInput("call", "outbound", "wrong_number"),
        actor=officer,
        key=scoped_key(officer, "c"),
    )
    assert queries.worklist(queries.WorklistFilters(reason="message_failed"), TODAY)[1] == 0
