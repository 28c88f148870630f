"""The application operations without HTTP: submission, state machine, verification, decision."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from loanapp.applications import operations as ops
from loanapp.applications.errors import (
    InvalidApplication,
    NotAnApplicant,
    OpenApplicationExists,
    StaleApplication,
)
from loanapp.applications.models import Application, ApplicationDraft
from loanapp.applications.rules import ApplicationInput, DecisionInput
from loanapp.applications.states import ApplicationAlreadyDecided, IllegalTransition, Status
from loanapp.audit.models import AuditEvent
from loanapp.clock import business_date
from loanapp.extensions import db
from tests.app.applications.conftest import answers, approve, submit, training_program_id, verify


def _events(application_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == "application", AuditEvent.entity_id == str(application_id))
            .order_by(AuditEvent.id)
        )
    )


def test_submission_creates_the_worker_account_and_an_audited_application(people: dict[str, Any]) -> None:
    result = ops.submit_application(
        ApplicationInput.from_mapping(answers()),
        applicant=None,
        new_account=ops.NewAccount("ana.reyes@example.org", "a-long-password"),
        submission_key="key-1",
    )
    application = result.application
    assert result.created and application.status == "submitted" and application.version == 1
    assert application.worker.email == "ana.reyes@example.org" and application.worker.role == "worker"
    assert application.worker.full_name == "Ana Reyes"
    assert application.phone == "3155550142"
    assert _events(application.id) == ["application.submitted"]


def test_same_submission_key_returns_the_first_application(people: dict[str, Any]) -> None:
    data = ApplicationInput.from_mapping(answers())
    first = ops.submit_application(data, applicant=people["worker"], new_account=None, submission_key="same")
    second = ops.submit_application(data, applicant=people["worker"], new_account=None, submission_key="same")
    assert second.application.id == first.application.id and not second.created
    assert db.session.scalar(select(func.count()).select_from(Application)) == 1


def test_invalid_answers_are_refused_field_by_field_and_nothing_is_written(people: dict[str, Any]) -> None:
    data = ApplicationInput.from_mapping(
        answers(
            ssn_last4="123456789",
            phone="555",
            postal_code="ABCDE",
            requested_amount=Decimal("50000.00"),
            down_payment=Decimal("9500.00"),
            consent=False,
            hourly_wage=None,
        )
    )
    with pytest.raises(InvalidApplication) as refused:
        ops.submit_application(
            data, applicant=None, new_account=ops.NewAccount("", "short"), submission_key="k"
        )
    errors = refused.value.errors
    assert {
        "ssn_last4",
        "phone",
        "postal_code",
        "requested_amount",
        "down_payment",
        "consent",
        "hourly_wage",
        "email",
        "password",
    } <= set(errors)
    assert "last 4 digits" in str(errors["ssn_last4"][0])
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_each_employment_status_requires_its_own_facts(people: dict[str, Any]) -> None:
    def errors_for(**overrides: Any) -> set[str]:
        with pytest.raises(InvalidApplication) as refused:
            submit(people["worker"], **overrides)
        return set(refused.value.errors)

    assert errors_for(employment_status="employed", pay_frequency=None, start_date=None) == {
        "pay_frequency",
        "start_date",
    }
    assert errors_for(employment_status="job_offer", offer_date=None) == {"offer_date"}
    assert errors_for(employment_status="in_training", employer_id=None) == {
        "training_program_id",
        "expected_completion",
    }
    application = submit(
        people["worker"],
        employment_status="in_training",
        employer_id=None,
        hourly_wage=None,
        hours_per_week=None,
        start_date=None,
        offer_date=None,
        training_program_id=training_program_id(),
        expected_completion=business_date() + timedelta(days=60),
    )
    assert application.training_program.name == "Machine Operator Program"


def test_a_worker_with_an_open_application_cannot_start_another(people: dict[str, Any]) -> None:
    first = submit(people["worker"])
    with pytest.raises(OpenApplicationExists) as refused:
        submit(people["worker"])
    assert refused.value.application_id == first.id


def test_officers_cannot_apply(people: dict[str, Any]) -> None:
    with pytest.raises(NotAnApplicant):
        submit(people["officer"])


def test_state_machine_refuses_illegal_moves(people: dict[str, Any]) -> None:
    application = submit(people["worker"])
    with pytest.raises(IllegalTransition):
        ops.respond_to_offer(application, version=application.version, accept=True, actor=people["worker"])
    ops.withdraw(application, version=application.version, actor=people["worker"])
    with pytest.raises(IllegalTransition):
        ops.start_review(application, version=application.version, actor=people["officer"])
    assert application.status == "withdrawn"


def test_a_decision_is_final(people: dict[str, Any]) -> None:
    application = submit(people["worker"])
    approve(application, people["officer"])
    with pytest.raises(ApplicationAlreadyDecided):
        ops.decide(
            application,
            version=application.version,
            data=DecisionInput(kind="decline", reasons=("insufficient_income",)),
            actor=people["officer"],
        )
    assert application.decision.kind == "approve"


def test_stale_version_is_refused_without_writing(people: dict[str, Any]) -> None:
    application = submit(people["worker"])
    seen = application.version
    ops.start_review(application, version=seen, actor=people["officer"])
    with pytest.raises(StaleApplication):
        ops.request_documents(application, version=seen, kinds=["pay_stub"], note="", actor=people["officer"])
    assert application.status == "in_review"


def test_decision_stores_underwriting_from_verified_facts(people: dict[str, Any]) -> None:
    application = submit(people["worker"], monthly_income=Decimal("1000.00"))
    verify(application, people["officer"], hourly_wage=Decimal("15.00"), hours_per_week=Decimal("40"))
    decision = approve(application, people["officer"])
    assert decision.income_source == "verified"
    assert decision.monthly_income == Decimal("2600.00")  # 15 x 40 x 52 / 12, not the stated 1,000
    assert decision.payment == Decimal("205.52")
    assert decision.payment_to_income == Decimal("7.90")
    assert decision.loan_to_value == Decimal("89.47")
    assert decision.flags == []
    assert application.status == "approved" and application.decided_at is not None
    assert _events(application.id)[-2:] == ["application.status_changed", "application.decided"]


def test_rules_flag_but_the_officer_may_still_approve(people: dict[str, Any]) -> None:
    application = submit(people["worker"], monthly_income=Decimal("900.00"), hours_per_week=Decimal("12"))
    decision = approve(application, people["officer"])
    codes = {flag["code"] for flag in decision.flags}
    assert {"income_below_minimum", "hours_below_minimum", "employment_not_verified"} <= codes
    assert application.status == "approved"


def test_decline_needs_principal_reasons_and_counter_offer_needs_changed_terms(
    people: dict[str, Any],
) -> None:
    application = submit(people["worker"])
    officer = people["officer"]
    with pytest.raises(InvalidApplication) as refused:
        ops.decide(
            application, version=application.version, data=DecisionInput(kind="decline"), actor=officer
        )
    assert "reasons" in refused.value.errors
    same = DecisionInput(
        kind="counter_offer",
        amount=application.requested_amount,
        annual_rate=Decimal("8.00"),
        term_months=application.requested_term_months,
    )
    with pytest.raises(InvalidApplication) as refused:
        ops.decide(application, version=application.version, data=same, actor=officer)
    assert "amount" in refused.value.errors
    changed = DecisionInput(
        kind="counter_offer", amount=Decimal("7000.00"), annual_rate=Decimal("8.00"), term_months=48
    )
    decision = ops.decide(application, version=application.version, data=changed, actor=officer)
    assert decision.kind == "counter_offer" and application.status == "counter_offered"


def test_declined_application_keeps_its_reasons(people: dict[str, Any]) -> None:
    application = submit(people["worker"])
    decision = ops.decide(
        application,
        version=application.version,
        data=DecisionInput(kind="decline", reasons=("insufficient_income", "unable_to_verify_employment")),
        actor=people["officer"],
    )
    assert decision.reasons == ["insufficient_income", "unable_to_verify_employment"]
    assert decision.amount is None and application.status == "declined"


def test_worker_answers_the_offer(people: dict[str, Any]) -> None:
    application = submit(people["worker"])
    approve(application, people["officer"])
    ops.respond_to_offer(application, version=application.version, accept=False, actor=people["worker"])
    assert application.status == "offer_refused" and application.decision.response == "refused"


def test_requested_documents_received_send_the_application_back_to_review(people: dict[str, Any]) -> None:
    import io

    from tests.app.applications.conftest import PDF

    application = submit(people["worker"])
    ops.request_documents(
        application,
        version=application.version,
        kinds=["pay_stub"],
        note="Your latest stub",
        actor=people["officer"],
    )
    assert application.status == "needs_documents"
    ops.add_document(
        application, upload=ops.Upload("pay_stub", "stub.pdf", io.BytesIO(PDF)), actor=people["worker"]
    )
    assert application.status == "in_review"


def test_verification_cannot_be_dated_in_the_future_or_beyond_its_validity(people: dict[str, Any]) -> None:
    from loanapp.clock import business_date

    application = submit(people["worker"])
    with pytest.raises(InvalidApplication) as refused:
        verify(application, people["officer"], verified_on=business_date() + timedelta(days=1))
    assert "verified_on" in refused.value.errors
    with pytest.raises(InvalidApplication) as refused:
        verify(application, people["officer"], verified_on=business_date() - timedelta(days=31))
    assert "expired" in refused.value.errors["verified_on"][0]
    with pytest.raises(InvalidApplication) as refused:
        verify(application, people["officer"], hours_per_week=None)
    assert "hours_per_week" in refused.value.errors


def test_officer_adds_an_unknown_employer_and_links_it(people: dict[str, Any]) -> None:
    application = submit(people["worker"], employer_id=None, employer_other="Syracuse Castings")
    employer = ops.add_employer(
        "Syracuse  Castings",
        city="Syracuse",
        actor=people["officer"],
        application=application,
        version=application.version,
    )
    assert employer.name == "Syracuse Castings" and not employer.partner
    assert application.employer_id == employer.id and application.employer_other == ""
    from loanapp.applications.errors import DuplicateEmployer

    with pytest.raises(DuplicateEmployer):
        ops.add_employer("syracuse castings", actor=people["officer"])


def test_drafts_keep_answers_but_never_passwords_or_full_ssns(people: dict[str, Any]) -> None:
    token = ops.save_draft(
        None,
        {"first_name": "Ana", "password": "secret-secret", "ssn_last4": "123456789", "csrf_token": "x"},
        user=None,
    )
    assert ops.load_draft(token, user=None) == {"first_name": "Ana"}
    ops.save_draft(token, {"first_name": "Ana", "ssn_last4": "4821"}, user=None)
    assert ops.load_draft(token, user=None) == {"first_name": "Ana", "ssn_last4": "4821"}
    assert db.session.scalar(select(func.count()).select_from(ApplicationDraft)) == 1
    assert ops.load_draft(secrets.token_urlsafe(8), user=None) is None


def test_submitting_discards_the_draft(people: dict[str, Any]) -> None:
    token = ops.save_draft(None, {"first_name": "Ana"}, user=None)
    ops.submit_application(
        ApplicationInput.from_mapping(answers()),
        applicant=people["worker"],
        new_account=None,
        submission_key="k2",
        draft_token=token,
    )
    assert ops.load_draft(token, user=None) is None


def test_status_values_are_the_ones_the_database_accepts() -> None:
    from loanapp.applications.states import TRANSITIONS

    assert set(TRANSITIONS) == set(Status)
