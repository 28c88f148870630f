"""Hardship plans on a booked loan: preview and confirm, the loan current again with the preview's
figures, limits and bad input refused by field, the API, and the replay property with plans
interleaved (stored state equals recomputation in date order)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from loanapp.accounts.models import User
from loanapp.audit.models import AuditEvent
from loanapp.collections import operations, plans
from loanapp.collections.models import HardshipPlan
from loanapp.extensions import db
from loanapp.servicing import queries
from loanapp.servicing.errors import InvalidInput
from loanapp.servicing.models import LoanServicing
from loanapp.servicing.operations import scoped_key
from tests.app.servicing.conftest import BOOKED, fund, make_loan, pay
from tests.app.servicing.test_payments import snapshot

TODAY = dt.date(2026, 3, 17)


def plan(people: dict[str, Any], loan: Any, key: str = "plan", **fields: Any) -> Any:
    data = operations.PlanInput(reason=fields.pop("reason", "Hours cut at the plant"), **fields)
    return operations.create_plan(
        loan.id, data, actor=people["officer"], key=scoped_key(people["officer"], key)
    ).row


def test_a_one_month_deferral_brings_the_loan_current_with_the_previewed_figures(
    people: dict[str, Any], loan: Any, on_date: Any
) -> None:
    on_date(TODAY)
    pay(loan, "205.52", dt.date(2026, 2, 5), people["officer"])
    assert db.session.get(LoanServicing, loan.id).days_past_due == 12
    preview = operations.preview_plan(loan.id, operations.PlanInput("deferral", installments=1))
    assert (preview.before.days_past_due, preview.after.days_past_due) == (12, 0)
    assert preview.after.next_due_date == dt.date(2026, 4, 5) and preview.after.maturity_date == dt.date(
        2030, 2, 5
    )
    assert preview.after.interest > preview.before.interest
    assert db.session.scalar(select(func.count()).select_from(HardshipPlan)) == 0  # a preview writes nothing

    made = plan(people, loan, kind="deferral", installments=1)
    row = db.session.get(LoanServicing, loan.id)
    assert (row.days_past_due, row.bucket) == (0, "current")
    assert made.preview["after"]["total_of_payments"] == str(preview.after.total_of_payments)
    assert made.resumes_on == dt.date(2026, 4, 5)
    position = queries.loan_position(loan, TODAY)
    assert position.standing.days_past_due == 0 and position.standing.next_due_date == dt.date(2026, 4, 5)
    # Bucket history: late from March 6 until the plan, current from it.
    assert [(h.bucket, h.opened_on) for h in queries.bucket_history(loan)][-2:] == [
        ("1-29", dt.date(2026, 3, 6)),
        ("current", TODAY),
    ]
    lines = queries.installments_of(loan)
    assert lines[1].due_date == dt.date(2026, 4, 5) and lines[-1].due_date == dt.date(2030, 2, 5)
    assert str(lines[-1].payment) == made.preview["lines"][-1]["payment"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "loan.hardship_plan"))
    assert event.details["kind"] == "deferral" and event.details["after"]["days_past_due"] == 0


REFUSALS = [
    ({"kind": "deferral", "installments": 4}, "installments"),
    ({"kind": "deferral"}, "installments"),
    ({"kind": "due_day", "due_day": 31}, "due_day"),
    ({"kind": "due_day", "due_day": 0}, "due_day"),
    ({"kind": "reamortize", "term_months": 85}, "term_months"),
    ({"kind": "reamortize", "term_months": 83}, "term_months"),  # ends 84+ months after the first payment
    ({"kind": "deferral", "installments": 1, "effective_on": dt.date(2026, 3, 18)}, "effective_on"),
    ({"kind": "deferral", "installments": 1, "reason": " "}, "reason"),
    ({"kind": "reage"}, "kind"),  # no run of on-time payments
]


def test_a_plan_out_of_bounds_names_the_field_and_changes_nothing(
    people: dict[str, Any], loan: Any, on_date: Any
) -> None:
    on_date(TODAY)
    pay(loan, "205.52", dt.date(2026, 2, 5), people["officer"])
    for fields, field in REFUSALS:
        with pytest.raises(InvalidInput) as refused:
            plan(people, loan, **fields)
        assert field in refused.value.errors, fields
    assert db.session.scalar(select(func.count()).select_from(HardshipPlan)) == 0
    assert db.session.get(LoanServicing, loan.id).days_past_due == 12


def test_deferrals_are_limited_per_twelve_months(people: dict[str, Any], loan: Any, on_date: Any) -> None:
    on_date(TODAY)
    plan(people, loan, "a", kind="deferral", installments=1)
    plan(people, loan, "b", kind="deferral", installments=1)
    with pytest.raises(InvalidInput) as refused:
        plan(people, loan, "c", kind="deferral", installments=1)
    assert "kind" in refused.value.errors


def test_a_re_age_after_three_on_time_months(people: dict[str, Any], loan: Any, on_date: Any) -> None:
    on_date(dt.date(2026, 6, 20))
    for month in (3, 4, 5, 6):  # February was missed; then four full payments
        pay(loan, "205.52", dt.date(2026, month, 5), people["officer"])
    assert db.session.get(LoanServicing, loan.id).days_past_due == 15
    plan(people, loan, kind="reage")
    assert db.session.get(LoanServicing, loan.id).days_past_due == 0


def test_a_backdated_payment_before_a_plan_re_derives_it(
    people: dict[str, Any], loan: Any, on_date: Any
) -> None:
    on_date(dt.date(2026, 4, 20))
    plan(people, loan, kind="reamortize", term_months=60, effective_on=dt.date(2026, 4, 10))
    before = plans.plans_of(loan)[0]
    pay(loan, "205.52", dt.date(2026, 2, 5), people["officer"])  # found in the drawer
    lines = queries.installments_of(loan)
    # The re-amortisation now spreads less: its level payment is lower than the one first confirmed.
    assert lines[-2].payment < Decimal(before.preview["after"]["payment"])
    assert db.session.get(LoanServicing, loan.id).days_past_due == 0


@pytest.fixture
def booked(app: Flask, users: dict[str, int], on_date: Any) -> Iterator[SimpleNamespace]:
    on_date(TODAY)
    with app.test_request_context():
        people = {role: db.session.get(User, user_id) for role, user_id in users.items()}
        fund(people)
        loan = make_loan(people)
        pay(loan, "205.52", dt.date(2026, 2, 5), people["officer"])
        db.session.commit()
        loan_id = loan.id
    yield SimpleNamespace(id=loan_id)


def test_the_plan_api_previews_then_records(client: Any, token_for: Any, booked: SimpleNamespace) -> None:
    officer = token_for("officer")
    body = {"kind": "deferral", "installments": 1, "effective_on": "2026-03-17", "reason": "Hours cut"}
    preview = client.post(f"/api/v1/loans/{booked.id}/plans/preview", json=body, headers=officer)
    assert preview.status_code == 200, preview.get_json()
    figures = preview.get_json()
    assert figures["before"]["days_past_due"] == 12 and figures["after"]["days_past_due"] == 0
    bad = client.post(
        f"/api/v1/loans/{booked.id}/plans",
        json={**body, "kind": "due_day", "due_day": 31},
        headers={**officer, "Idempotency-Key": "p0"},
    )
    assert bad.status_code == 422 and "due_day" in bad.get_json()["errors"]
    made = client.post(
        f"/api/v1/loans/{booked.id}/plans", json=body, headers={**officer, "Idempotency-Key": "p1"}
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["after"] == figures["after"] and made.get_json()["lines"] == figures["lines"]
    again = client.post(
        f"/api/v1/loans/{booked.id}/plans", json=body, headers={**officer, "Idempotency-Key": "p1"}
    )
    assert again.status_code == 200 and again.get_json()["id"] == made.get_json()["id"]
    listed = client.get(f"/api/v1/loans/{booked.id}/plans", headers=officer).get_json()
    assert [p["kind"] for p in listed] == ["deferral"]
    summary = client.get(f"/api/v1/loans/{booked.id}", headers=officer).get_json()
    assert summary["servicing"]["days_past_due"] == 0


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.tuples(st.integers(27, 300), st.integers(5000, 40000)), min_size=1, max_size=5),
    st.sampled_from(
        [
            {"kind": "deferral", "installments": 2},
            {"kind": "due_day", "due_day": 20},
            {"kind": "reamortize", "term_months": 60},
        ]
    ),
    st.integers(40, 250),
    st.data(),
)
def test_property_plans_interleaved_with_payments_in_any_order_store_the_date_order_state(
    loan: Any,
    people: dict[str, Any],
    on_date: Any,
    payments: list[tuple[int, int]],
    fields: dict[str, Any],
    plan_day: int,
    data: Any,
) -> None:
    on_date(BOOKED + dt.timedelta(days=320))
    officer = people["officer"]
    effective = BOOKED + dt.timedelta(days=plan_day)
    dated = sorted(
        ((BOOKED + dt.timedelta(days=o), f"{Decimal(c) / 100:.2f}") for o, c in payments), key=lambda p: p[0]
    )
    events: list[Any] = [("pay", day, amount) for day, amount in dated]
    position = sum(1 for day, _ in dated if day <= effective)
    in_date_order = [*events[:position], ("plan", effective, None), *events[position:]]
    arrival = data.draw(st.permutations(in_date_order))

    def run(order: list[Any]) -> dict[str, Any] | None:
        for kind, day, amount in order:
            if kind == "pay":
                pay(loan, amount, day, officer)
            else:
                try:
                    plan(people, loan, f"plan-{len(order)}", effective_on=day, **fields)
                except InvalidInput:
                    return None
        return snapshot(loan)

    with db.session.begin_nested() as first:
        expected = run(in_date_order)
        first.rollback()
    if expected is None:  # the plan does not apply to this loan in date order (e.g. already paid ahead)
        return
    with db.session.begin_nested() as second:
        got = run(arrival)
        second.rollback()
    if got is not None:
        assert got == expected


def test_the_worker_sees_the_plan_summary_in_spanish(
    client: Any, auth: Any, token_for: Any, booked: SimpleNamespace
) -> None:
    body = {"kind": "deferral", "installments": 1, "reason": "Horas recortadas"}
    made = client.post(
        f"/api/v1/loans/{booked.id}/plans",
        json=body,
        headers={**token_for("officer"), "Idempotency-Key": "p"},
    )
    after = made.get_json()["after"]
    auth.login("worker")
    client.get("/language/es")
    page = client.get(f"/my/loans/{booked.id}").text
    assert "Su nuevo plan de pagos" in page and "1 pago pasó al final de su préstamo" in page
    assert "5 de abril de 2026" in page and f"${float(after['total_of_payments']):,.2f}" in page
    assert "Interest keeps" not in page and "Days late" not in page


def test_staff_see_plans_in_the_delinquency_and_program_reports(
    client: Any, auth: Any, token_for: Any, booked: SimpleNamespace
) -> None:
    body = {"kind": "deferral", "installments": 1, "reason": "Hours cut"}
    client.post(
        f"/api/v1/loans/{booked.id}/plans",
        json=body,
        headers={**token_for("officer"), "Idempotency-Key": "p"},
    )
    auth.login("staff")
    for path in ("/servicing/delinquency", "/reports/program"):
        page = client.get(path)
        assert page.status_code == 200
        row = page.text.split("Payment deferral</th>", 1)[1].split("</tr>", 1)[0]
        assert [cell.split(">")[-1] for cell in row.split("</td>")[:3]] == ["1", "1", "1"], path
