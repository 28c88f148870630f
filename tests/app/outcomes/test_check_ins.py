"""Check-ins: the schedule and its states, answers by the worker and by officers, corrections,
refusals that change nothing, and the API."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
from sqlalchemy import func, select

from loanapp.extensions import db
from loanapp.outcomes import operations
from loanapp.outcomes.errors import AlreadyAnswered, AlreadyCorrected, InvalidInput, NotAllowed, NothingDue
from loanapp.outcomes.models import CheckIn, CheckInDue
from tests.app.outcomes.conftest import answer, refresh


def rows(loan: Any) -> dict[str, CheckInDue]:
    return {
        r.milestone: r for r in db.session.scalars(select(CheckInDue).where(CheckInDue.loan_id == loan.id))
    }


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(CheckIn)) or 0


def record(loan: Any, actor: Any, data: Any, key: str | None = None) -> Any:
    return operations.record_check_in(
        loan.id, data, actor=actor, key=operations.scoped_key(actor, key or secrets.token_hex(8))
    )


def test_a_booked_loan_gets_check_ins_at_3_6_12_and_24_months_and_at_payoff(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    schedule = rows(loan)
    assert {code: r.due_on for code, r in schedule.items()} == {
        "3": dt.date(2026, 4, 5),
        "6": dt.date(2026, 7, 5),
        "12": dt.date(2027, 1, 5),
        "24": dt.date(2028, 1, 5),
    }
    assert schedule["3"].state == "due" and schedule["6"].state == "upcoming"
    refresh(dt.date(2026, 4, 19))
    assert rows(loan)["3"].state == "overdue" and rows(loan)["3"].state_since == dt.date(2026, 4, 19)
    refresh(dt.date(2026, 6, 4))
    assert rows(loan)["3"].state == "missed"

    from loanapp.servicing.queries import payoff_quote
    from tests.app.servicing.conftest import pay

    on_date(dt.date(2026, 6, 4))
    pay(loan, str(payoff_quote(loan, dt.date(2026, 6, 4))), dt.date(2026, 6, 4), people["officer"])
    refresh(dt.date(2026, 6, 5))
    payoff = rows(loan)["payoff"]
    assert payoff.due_on == dt.date(2026, 6, 4) and payoff.state == "due"


def test_the_configured_months_make_the_schedule(
    app: Any, loan: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "OUTCOME_CHECK_IN_MONTHS", [1, 18])
    refresh(dt.date(2026, 4, 10))
    assert set(rows(loan)) == {"1", "3", "6", "12", "18", "24"}  # answered history is never dropped
    assert rows(loan)["1"].state == "missed"


def test_the_worker_answers_once_and_a_second_answer_is_refused_with_nothing_changed(
    loan: Any, people: dict[str, Any]
) -> None:
    result = record(loan, people["worker"], answer())
    check_in = result.check_in
    assert result.created and check_in.source == "self_report" and check_in.due.milestone == "3"
    assert check_in.hourly_wage == pytest.approx(16.25) and str(check_in.hourly_wage) == "16.25"
    assert rows(loan)["3"].state == "answered"
    with pytest.raises(AlreadyAnswered, match="already answered on 2026-04-10"):
        record(loan, people["worker"], answer(milestone="3"))
    with pytest.raises(NothingDue, match="next is due on 2026-07-05"):
        record(loan, people["worker"], answer())
    assert count() == 1


def test_a_retry_with_the_same_key_returns_the_first_answer(loan: Any, people: dict[str, Any]) -> None:
    first = record(loan, people["worker"], answer(), key="k1")
    again = record(loan, people["worker"], answer(), key="k1")
    assert again.check_in.id == first.check_in.id and not again.created and count() == 1


BAD_ANSWERS = [
    ({"hourly_wage": "200.01"}, "hourly_wage"),
    ({"hourly_wage": "-1"}, "hourly_wage"),
    ({"hourly_wage": "15.555"}, "hourly_wage"),
    ({"hourly_wage": 15.5}, "hourly_wage"),
    ({"hours_per_week": "81"}, "hours_per_week"),
    ({"hours_per_week": "-2"}, "hours_per_week"),
    ({"checked_on": "2026-04-11"}, "checked_on"),
    ({"checked_on": "2026-01-04"}, "checked_on"),
    ({"started_on": "2026-01-01"}, "started_on"),
    ({"started_on": "2026-05-01"}, "started_on"),
    ({"started_job": None}, "started_job"),
    ({"employed": "maybe"}, "employed"),
    ({"car_running": None}, "car_running"),
    ({"commute": "teleport"}, "commute"),
    ({"commute": None}, "commute"),
    ({"employer_other": ""}, "employer_id"),
    ({"employer_id": 99999, "employer_other": ""}, "employer_id"),
    ({"employed": False}, "hourly_wage"),
    ({"source": "officer_call"}, "source"),
    ({"comment": "x" * 1001}, "comment"),
]


def test_bad_answers_name_the_field_and_write_nothing(loan: Any, people: dict[str, Any]) -> None:
    for overrides, field in BAD_ANSWERS:
        with pytest.raises(InvalidInput) as refused:
            record(loan, people["worker"], answer(**overrides))
        assert field in refused.value.errors, (overrides, refused.value.errors)
    assert count() == 0 and rows(loan)["3"].state == "due"


def test_wages_and_hours_at_the_edges_are_accepted(loan: Any, people: dict[str, Any]) -> None:
    check_in = record(loan, people["worker"], answer(hourly_wage="200", hours_per_week="0")).check_in
    assert str(check_in.hourly_wage) == "200.00" and str(check_in.hours_per_week) == "0.00"


def test_an_unemployed_worker_answers_without_job_details(loan: Any, people: dict[str, Any]) -> None:
    data = answer(
        employed=False, employer_other="", hourly_wage=None, hours_per_week=None, commute=None,
        started_job=False, started_on=None, car_running=False, comment="Laid off in March",
    )  # fmt: skip
    check_in = record(loan, people["worker"], data).check_in
    assert not check_in.employed and check_in.hourly_wage is None and check_in.started_job is False


def test_an_officer_records_a_call_and_corrects_it_with_a_new_record(
    loan: Any, people: dict[str, Any]
) -> None:
    officer = people["officer"]
    first = record(loan, officer, answer(source="officer_call", hourly_wage="15.00")).check_in
    correction = record(
        loan, officer, answer(source="pay_stub", hourly_wage="15.75", corrects_id=first.id)
    ).check_in
    assert correction.corrects_id == first.id and correction.schedule_id == first.schedule_id
    assert db.session.get(CheckIn, first.id).hourly_wage == pytest.approx(15)  # the original stays
    assert [c.id for c in operations.current_answers(loan.id)] == [correction.id]
    with pytest.raises(AlreadyCorrected):
        record(loan, officer, answer(source="pay_stub", corrects_id=first.id))
    with pytest.raises(NotAllowed):
        record(loan, people["worker"], answer(corrects_id=correction.id))
    assert count() == 2


def test_an_officer_may_record_a_late_answer_after_the_window_closes(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 6, 20))
    refresh(dt.date(2026, 6, 20))
    assert rows(loan)["3"].state == "missed"
    from loanapp.outcomes.errors import CheckInClosed

    with pytest.raises(CheckInClosed):
        record(loan, people["worker"], answer(milestone="3"))
    late = record(loan, people["officer"], answer(milestone="3", source="employer_confirmation")).check_in
    assert late.checked_on == dt.date(2026, 6, 20) and rows(loan)["3"].state == "answered"


def test_once_the_start_is_recorded_later_check_ins_do_not_ask_again(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    record(loan, people["worker"], answer())
    on_date(dt.date(2026, 7, 6))
    with pytest.raises(InvalidInput) as refused:
        record(loan, people["worker"], answer())  # started_job given again
    assert "started_job" in refused.value.errors
    later = record(loan, people["worker"], answer(started_job=None, started_on=None)).check_in
    assert later.due.milestone == "6"


def test_answers_are_audited(loan: Any, people: dict[str, Any]) -> None:
    from loanapp.audit.models import AuditEvent

    check_in = record(loan, people["worker"], answer()).check_in
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "check_in.recorded"))
    assert event is not None and event.entity_id == str(check_in.id) and event.details["milestone"] == "3"


@pytest.mark.postgres
def test_the_database_refuses_to_change_an_answer(loan: Any, people: dict[str, Any]) -> None:
    import sqlalchemy as sa

    record(loan, people["worker"], answer())
    with pytest.raises(sa.exc.DBAPIError), db.session.begin_nested():
        db.session.execute(sa.text("UPDATE check_ins SET hourly_wage = 99"))


def test_the_day_a_check_in_comes_due_the_worker_gets_a_message_with_its_link(
    loan: Any, people: dict[str, Any], on_date: Any
) -> None:
    from loanapp.notices.models import Notice
    from loanapp.outcomes.operations import queue_reminders

    def notices() -> list[Notice]:
        return list(db.session.scalars(select(Notice).where(Notice.event == "check_in_due")))

    assert queue_reminders(dt.date(2026, 4, 10)) == 0  # the 3-month check-in came due on April 5
    on_date(dt.date(2026, 7, 5))
    refresh(dt.date(2026, 7, 5))
    queued = queue_reminders(dt.date(2026, 7, 5))
    sent = notices()
    assert queued == len(sent) >= 1 and all(n.loan_id == loan.id for n in sent)
    assert f"/my/loans/{loan.id}/check-in" in sent[0].body
    assert queue_reminders(dt.date(2026, 7, 5)) == 0 and len(notices()) == len(sent)  # once per check-in
