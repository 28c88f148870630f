"""The contact log and promises to pay: append-only, audited, idempotent, refusals by field, and a
promise kept or broken by the payments (a returned payment breaks it again)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from loanapp.audit.models import AuditEvent
from loanapp.collections import operations, queries
from loanapp.collections.models import ContactLog, PromiseToPay
from loanapp.extensions import db
from loanapp.servicing import queries as servicing_queries
from loanapp.servicing.errors import IdempotencyConflict, InvalidInput, LoanClosed
from loanapp.servicing.operations import reverse_payment, scoped_key
from tests.app.servicing.conftest import pay


def _key(people: dict[str, Any], text: str) -> str:
    return scoped_key(people["officer"], text)


def test_a_contact_is_logged_once_per_key_and_audited(
    people: dict[str, Any], loan: Any, on_date: Any
) -> None:
    on_date(dt.date(2026, 3, 17))
    data = operations.ContactInput(
        "call", "outbound", "promised", "Hours cut; pays Friday", dt.date(2026, 3, 20)
    )
    first = operations.log_contact(loan.id, data, actor=people["officer"], key=_key(people, "c1"))
    again = operations.log_contact(loan.id, data, actor=people["officer"], key=_key(people, "c1"))
    assert first.created and not again.created and again.row.id == first.row.id
    assert first.row.contacted_on == dt.date(2026, 3, 17)
    with pytest.raises(IdempotencyConflict):
        operations.log_contact(
            loan.id,
            operations.ContactInput("sms", "outbound", "reached"),
            actor=people["officer"],
            key=_key(people, "c1"),
        )
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "collections.contact_logged")
    ).all()
    assert len(events) == 1 and events[0].details["outcome"] == "promised"
    [(row, name)] = queries.contacts_of(loan)
    assert row.note == "Hours cut; pays Friday" and name == people["officer"].full_name


BAD_CONTACTS = [
    (operations.ContactInput("fax", "outbound", "reached"), "channel"),
    (operations.ContactInput("call", "sideways", "reached"), "direction"),
    (operations.ContactInput("call", "outbound", "maybe"), "outcome"),
    (operations.ContactInput("call", "outbound", "reached", "x" * 2001), "note"),
    (operations.ContactInput("call", "outbound", "reached", "", dt.date(2026, 3, 16)), "next_action_on"),
]


def test_a_bad_contact_names_the_field_and_writes_nothing(
    people: dict[str, Any], loan: Any, on_date: Any
) -> None:
    on_date(dt.date(2026, 3, 17))
    for data, field in BAD_CONTACTS:
        with pytest.raises(InvalidInput) as refused:
            operations.log_contact(loan.id, data, actor=people["officer"], key=_key(people, "bad"))
        assert field in refused.value.errors, data
    assert db.session.scalar(select(func.count()).select_from(ContactLog)) == 0


BAD_PROMISES = [
    (Decimal("0"), dt.date(2026, 3, 20), "amount"),
    (Decimal("10.001"), dt.date(2026, 3, 20), "amount"),
    (Decimal("100.00"), dt.date(2026, 3, 16), "promised_on"),
    (Decimal("100.00"), dt.date(2026, 6, 30), "promised_on"),
]


def test_a_promise_in_the_past_or_of_a_bad_amount_is_refused(
    people: dict[str, Any], loan: Any, on_date: Any
) -> None:
    on_date(dt.date(2026, 3, 17))
    for amount, promised_on, field in BAD_PROMISES:
        with pytest.raises(InvalidInput) as refused:
            operations.make_promise(
                loan.id,
                operations.PromiseInput(amount, promised_on),
                actor=people["officer"],
                key=_key(people, "p"),
            )
        assert list(refused.value.errors) == [field], (amount, promised_on)
    assert db.session.scalar(select(func.count()).select_from(PromiseToPay)) == 0


def test_a_promise_is_kept_by_payments_by_its_date_plus_grace_and_broken_again_when_one_comes_back(
    people: dict[str, Any], loan: Any, on_date: Any
) -> None:
    on_date(dt.date(2026, 3, 17))
    promise = operations.make_promise(
        loan.id,
        operations.PromiseInput(Decimal("205.52"), dt.date(2026, 3, 20)),
        actor=people["officer"],
        key=_key(people, "p1"),
    ).row
    [view] = queries.promises_of(loan, dt.date(2026, 3, 17))
    assert view.status == "open" and view.paid == 0 and view.grace_until == dt.date(2026, 3, 23)
    on_date(dt.date(2026, 3, 23))
    first = pay(loan, "100.00", dt.date(2026, 3, 19), people["officer"])
    pay(loan, "105.52", dt.date(2026, 3, 23), people["officer"])  # the last day of grace
    [view] = queries.promises_of(loan, dt.date(2026, 3, 24))
    assert (view.status, view.paid, view.kept_on) == ("kept", Decimal("205.52"), dt.date(2026, 3, 23))
    reverse_payment(loan.id, first.id, actor=people["officer"], key=_key(people, "r1"), reason="NSF")
    [view] = queries.promises_of(loan, dt.date(2026, 3, 24))
    assert (view.status, view.paid) == ("broken", Decimal("105.52"))
    assert promise.made_on == dt.date(2026, 3, 17)


def test_a_payment_after_the_grace_does_not_keep_the_promise(
    people: dict[str, Any], loan: Any, on_date: Any
) -> None:
    on_date(dt.date(2026, 3, 17))
    operations.make_promise(
        loan.id,
        operations.PromiseInput(Decimal("50.00"), dt.date(2026, 3, 17)),
        actor=people["officer"],
        key=_key(people, "p"),
    )
    on_date(dt.date(2026, 3, 21))
    pay(loan, "50.00", dt.date(2026, 3, 21), people["officer"])
    [view] = queries.promises_of(loan, dt.date(2026, 3, 21))
    assert view.status == "broken" and view.paid == 0


def test_a_closed_loan_takes_no_promise(people: dict[str, Any], loan: Any, on_date: Any) -> None:
    on_date(dt.date(2026, 3, 17))
    pay(
        loan,
        str(servicing_queries.payoff_quote(loan, dt.date(2026, 3, 17))),
        dt.date(2026, 3, 17),
        people["officer"],
    )
    with pytest.raises(LoanClosed):
        operations.make_promise(
            loan.id,
            operations.PromiseInput(Decimal("50.00"), dt.date(2026, 3, 20)),
            actor=people["officer"],
            key=_key(people, "p"),
        )


def test_contacts_are_append_only_in_the_database(people: dict[str, Any], loan: Any, on_date: Any) -> None:
    from tests import databases

    if not databases.is_postgres(str(db.engine.url)):
        pytest.skip("the trigger is PostgreSQL's")
    on_date(dt.date(2026, 3, 17))
    row = operations.log_contact(
        loan.id,
        operations.ContactInput("call", "outbound", "no_answer"),
        actor=people["officer"],
        key=_key(people, "c"),
    ).row
    db.session.flush()
    with pytest.raises(Exception, match="append-only"), db.session.begin_nested():
        db.session.execute(ContactLog.__table__.update().where(ContactLog.id == row.id).values(note="edited"))
