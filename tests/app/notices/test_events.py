"""Which events tell the worker what, in their language: documents, decisions (with Reg B notices),
booking, payments, payoff, and the daily reminders."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from loanapp.extensions import db
from loanapp.notices.models import AdverseActionNotice, Notice
from tests.app.applications.conftest import submit
from tests.app.notices.conftest import worker_with
from tests.app.servicing.conftest import fund, make_loan, pay


def _bodies(event: str, channel: str = "email") -> list[Notice]:
    return list(
        db.session.scalars(
            select(Notice).where(Notice.event == event, Notice.channel == channel).order_by(Notice.id)
        )
    )


def test_documents_requested_carries_the_officers_message_in_spanish(
    app: Flask, people: dict[str, Any]
) -> None:
    from loanapp.applications.operations import request_documents

    worker = worker_with(people, language="es")
    application = submit(worker)
    request_documents(
        application,
        version=application.version,
        kinds=["pay_stub"],
        note="Por favor envíe su talón de pago más reciente.",
        actor=people["officer"],
    )
    [email] = _bodies("documents_requested")
    [sms] = _bodies("documents_requested", "sms")
    assert email.subject == "Necesitamos un documento para continuar con su solicitud"
    assert "Por favor envíe su talón de pago más reciente." in email.body and "Talón de pago" in email.body
    assert sms.body.startswith("Cooperative Federal: para continuar su solicitud")


def test_a_decline_keeps_a_reg_b_notice_as_sent_and_tells_the_worker(
    app: Flask, client: FlaskClient, auth: Any, people: dict[str, Any]
) -> None:
    from loanapp.applications.operations import decide
    from loanapp.applications.rules import DecisionInput

    worker = worker_with(people, language="en", sms=False)
    application = submit(worker)
    decide(
        application,
        version=application.version,
        data=DecisionInput(kind="decline", reasons=("insufficient_income", "excessive_obligations")),
        actor=people["officer"],
    )
    db.session.commit()
    [notice] = db.session.scalars(select(AdverseActionNotice)).all()
    assert notice.kind == "declined" and notice.sha256 == hashlib.sha256(notice.content.encode()).hexdigest()
    assert "Income insufficient for the amount of credit requested" in notice.content
    assert (
        "National Credit Union Administration" in notice.content
        and "Equal Credit Opportunity Act" in notice.content
    )
    assert "Cooperative Federal, 723 Westcott Street" in notice.content
    assert (notice.retain_until - notice.notice_date).days >= 25 * 30
    [email] = _bodies("decision_declined")
    assert f"/my-application/{application.id}/notice/{notice.id}" in email.body
    auth.login("worker")
    page = client.get(f"/my-application/{application.id}/notice/{notice.id}")
    assert page.status_code == 200 and "Notice of action taken on your credit application" in page.get_data(
        as_text=True
    )
    auth.logout()
    auth.login("worker2")
    assert client.get(f"/my-application/{application.id}/notice/{notice.id}").status_code == 404


def test_a_counter_offer_says_what_changed_and_a_refusal_gets_its_notice(
    app: Flask, people: dict[str, Any]
) -> None:
    from loanapp.applications.operations import decide, respond_to_offer
    from loanapp.applications.rules import DecisionInput

    worker = worker_with(people, language="es", sms=False)
    application = submit(worker)
    decide(
        application,
        version=application.version,
        data=DecisionInput(
            kind="counter_offer",
            amount=Decimal("6000.00"),
            annual_rate=Decimal("7.50"),
            term_months=36,
            reasons=("excessive_obligations",),
        ),
        actor=people["officer"],
    )
    [email] = _bodies("decision_counter_offer")
    assert "Usted pidió $8,500.00 a 48 meses; le ofrecemos $6,000.00 a 36 meses" in email.body
    assert "Por qué:\n- " in email.body  # the counter-offer's reason, in Spanish
    respond_to_offer(application, version=application.version, accept=False, actor=worker)
    [notice] = db.session.scalars(select(AdverseActionNotice)).all()
    assert notice.kind == "counter_offer_refused" and notice.language == "es"
    assert "Le ofrecimos crédito en condiciones distintas" in notice.content
    assert notice.reasons and "\n" not in notice.reasons  # the counter-offer's one reason


def test_booking_payments_and_payoff_tell_the_borrower(app: Flask, people: dict[str, Any]) -> None:
    worker_with(people, language="en", sms=False)
    fund(people)
    loan = make_loan(people, amount="1200.00", term=12)
    [booked] = _bodies("loan_booked")
    assert booked.loan_id == loan.id and "How to pay:" in booked.body and "Payroll deduction" in booked.body
    pay(loan, "150.00", dt.date(2026, 2, 5), people["officer"])
    [receipt] = _bodies("payment_received")
    assert "$150.00" in receipt.subject + receipt.body and receipt.loan_id == loan.id
    pay(loan, "1200.00", dt.date(2026, 2, 20), people["officer"])
    [payoff] = _bodies("payoff_complete")
    assert "lien" in payoff.body


def test_reminders_before_the_due_date_and_after_a_missed_payment(app: Flask, people: dict[str, Any]) -> None:
    from loanapp.notices.events import queue_reminders
    from loanapp.servicing.models import LoanServicing

    worker_with(people, language="es", sms=True)
    fund(people)
    loan = make_loan(people, amount="1200.00", term=12)
    first_due = loan.first_payment_date
    counts = queue_reminders(first_due - dt.timedelta(days=5))
    assert counts["due_reminders"] == 2  # email and SMS
    assert queue_reminders(first_due - dt.timedelta(days=5))["due_reminders"] == 0  # once
    [due] = _bodies("payment_due")
    assert due.subject.startswith("Su pago del préstamo de auto vence el")

    pay(loan, "1.00", first_due - dt.timedelta(days=3), people["officer"])  # a servicing row, still owing
    row = db.session.get(LoanServicing, loan.id)
    assert row is not None
    row.days_past_due = 10
    db.session.flush()
    counts = queue_reminders(first_due + dt.timedelta(days=10))
    assert counts["missed_notices"] == 2
    [late] = _bodies("payment_missed")
    assert "10 días de atraso" in late.subject and "(315) 476-1500" in late.body
    row.days_past_due = 30
    db.session.flush()
    queue_reminders(first_due + dt.timedelta(days=30))
    firm = _bodies("payment_missed")[-1]
    assert firm.subject.startswith("Importante") and "10 días" in firm.body


def test_officers_see_the_workers_language_and_failed_messages(
    app: Flask, client: FlaskClient, auth: Any, people: dict[str, Any]
) -> None:
    worker = worker_with(people, language="es")
    application = submit(worker)
    sms = _bodies("application_received", "sms")[0]
    sms.status, sms.last_error = "failed", "SMS provider answered 400: number not reachable"
    db.session.commit()
    auth.login("officer")
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Español" in page and "SMS failed: SMS provider answered 400: number not reachable" in page


def test_notices_and_reg_b_text_render_in_jobs_and_commands_outside_any_request(
    app: Flask, users: Any
) -> None:
    from loanapp.accounts.models import User
    from loanapp.notices import messages
    from loanapp.notices import operations as ops

    with app.app_context():  # what the scheduler and seed-demo have: no request, no session
        worker = db.session.get(User, users["worker"])
        assert messages.contact()["hours"].startswith("Mon-Fri")
        text = ops.adverse_action_text(
            kind="declined",
            applicant="Ana Reyes",
            address="1 Main St",
            day=dt.date(2026, 12, 1),
            reasons=["Ingresos"],
            language="es",
        )
        assert "Acción tomada" in text and "Acreedor: Cooperative Federal" in text
        [notice] = ops.queue(
            worker, "payment_due", "test:job", {"amount": "1.00", "date": dt.date(2026, 12, 9)}
        )
        assert notice.subject.startswith("Your car loan payment is due")
        db.session.rollback()
