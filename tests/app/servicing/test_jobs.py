"""The nightly aging and the job framework: idempotent per date, catch-up, crashes, one run at a time."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from loanapp.extensions import db
from loanapp.jobs import runner
from loanapp.jobs.models import JobLock, JobRun
from loanapp.servicing.models import BucketHistory, DelinquencySnapshot, LoanServicing
from tests.app.servicing.conftest import make_loan, pay

NY = ZoneInfo("America/New_York")


def at(day: dt.date, hour: int = 2, minute: int = 30) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


def history(loan_id: int) -> list[tuple[str, dt.date, dt.date | None]]:
    return [
        tuple(r)  # type: ignore[misc]
        for r in db.session.execute(
            select(BucketHistory.bucket, BucketHistory.opened_on, BucketHistory.closed_on)
            .where(BucketHistory.loan_id == loan_id)
            .order_by(BucketHistory.opened_on)
        )
    ]


@pytest.fixture
def portfolio(people: dict[str, Any], funded: None) -> dict[str, Any]:
    """Three loans booked 2026-01-05 (due the 5th): one paid on time, one never paid, one paid once."""
    on_time = make_loan(people)
    never = make_loan(people, amount="6000.00")
    once = make_loan(people, amount="4000.00")
    return {"on_time": on_time, "never": never, "once": once}


def test_aging_sets_days_past_due_buckets_and_history(
    portfolio: dict[str, Any], people: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 4, 5))
    officer = people["officer"]
    for day in (dt.date(2026, 2, 5), dt.date(2026, 3, 5), dt.date(2026, 4, 5)):
        pay(portfolio["on_time"], str(portfolio["on_time"].payment_amount), day, officer)
    pay(portfolio["once"], str(portfolio["once"].payment_amount), dt.date(2026, 2, 5), officer)
    result = runner.run_job("aging", dt.date(2026, 5, 10))
    assert result.outcome is runner.Outcome.SUCCEEDED
    rows = {r.loan_id: r for r in db.session.scalars(select(LoanServicing))}
    assert (rows[portfolio["on_time"].id].days_past_due, rows[portfolio["on_time"].id].bucket) == (5, "1-29")
    assert (rows[portfolio["never"].id].days_past_due, rows[portfolio["never"].id].bucket) == (94, "90-119")
    assert (rows[portfolio["once"].id].days_past_due, rows[portfolio["once"].id].bucket) == (66, "60-89")
    assert {r.aged_on for r in rows.values()} == {dt.date(2026, 5, 10)}
    assert result.counts["aged"] == 3 and result.counts["servicing_rows_created"] == 1
    # A loan aged for the first time while already late opens its history on the aging date.
    assert history(portfolio["never"].id) == [("90-119", dt.date(2026, 5, 10), None)]
    run = db.session.scalar(select(JobRun))
    assert (run.job, run.status, run.attempts, run.trigger) == ("aging", "succeeded", 1, "manual")


def test_a_rerun_for_the_same_date_does_nothing(portfolio: dict[str, Any], on_date: Any) -> None:
    on_date(dt.date(2026, 2, 10))
    assert runner.run_job("aging", dt.date(2026, 2, 10)).outcome is runner.Outcome.SUCCEEDED
    before = {loan.id: history(loan.id) for loan in portfolio.values()}
    again = runner.run_job("aging", dt.date(2026, 2, 10))
    assert again.outcome is runner.Outcome.ALREADY_DONE
    forced = runner.run_job("aging", dt.date(2026, 2, 10), force=True)
    assert forced.outcome is runner.Outcome.SUCCEEDED and forced.counts["bucket_changes"] == 0
    assert {loan.id: history(loan.id) for loan in portfolio.values()} == before
    run = db.session.scalar(select(JobRun))
    assert run.attempts == 2 and db.session.scalar(select(func.count()).select_from(JobRun)) == 1


def test_missed_days_are_caught_up_one_date_at_a_time(portfolio: dict[str, Any], on_date: Any) -> None:
    on_date(dt.date(2026, 3, 3))
    assert runner.run_job("aging", dt.date(2026, 3, 3)).outcome is runner.Outcome.SUCCEEDED
    never = portfolio["never"].id
    assert history(never)[-1] == ("1-29", dt.date(2026, 3, 3), None)
    # The scheduler was down from March 4 to March 7; it comes back at 02:30 on the 8th.
    on_date(dt.date(2026, 3, 8))
    results = runner.run_pending("aging", at(dt.date(2026, 3, 8)))
    assert [(r.business_date.day, r.outcome.value) for r in results] == [
        (4, "succeeded"),
        (5, "succeeded"),
        (6, "succeeded"),
        (7, "succeeded"),
        (8, "succeeded"),
    ]
    triggers = db.session.scalars(select(JobRun.trigger).order_by(JobRun.business_date)).all()
    assert triggers == ["manual", "catch-up", "catch-up", "catch-up", "catch-up", "schedule"]
    # 30 days past the February 5 installment on March 7: the bucket changed on its own date.
    assert history(never)[-2:] == [
        ("1-29", dt.date(2026, 3, 3), dt.date(2026, 3, 7)),
        ("30-59", dt.date(2026, 3, 7), None),
    ]
    assert runner.run_pending("aging", at(dt.date(2026, 3, 8), 9)) == []


def test_due_dates_follow_the_cron_expression(app: Flask, people: dict[str, Any]) -> None:
    assert runner.due_dates("aging", at(dt.date(2026, 3, 8), 1)) == []  # before 02:00: not yet
    assert runner.due_dates("aging", at(dt.date(2026, 3, 8), 2, 0)) == [dt.date(2026, 3, 8)]
    db.session.add(
        JobRun(
            job="delinquency_snapshot",
            business_date=dt.date(2026, 1, 1),
            status="succeeded",
            trigger="schedule",
        )
    )
    db.session.flush()
    assert runner.due_dates("delinquency_snapshot", at(dt.date(2026, 4, 2))) == [
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 1),
    ]


def test_a_backfill_of_an_old_date_never_rewinds_the_current_state(
    portfolio: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 4, 1))
    runner.run_job("aging", dt.date(2026, 4, 1))
    before = [
        (r.loan_id, r.days_past_due, r.aged_on, r.version) for r in db.session.scalars(select(LoanServicing))
    ]
    result = runner.run_job("aging", dt.date(2026, 3, 1))
    assert result.outcome is runner.Outcome.SUCCEEDED and result.counts["aged"] == 0
    db.session.expire_all()
    after = [
        (r.loan_id, r.days_past_due, r.aged_on, r.version) for r in db.session.scalars(select(LoanServicing))
    ]
    assert after == before


def test_a_lock_held_by_another_process_makes_the_job_busy(app: Flask, people: dict[str, Any]) -> None:
    if db.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL uses advisory locks: see the two-scheduler test")
    from loanapp.db import utcnow

    db.session.add(JobLock(job="aging", holder="elsewhere:1", expires_at=utcnow() + dt.timedelta(hours=1)))
    db.session.commit()
    assert runner.run_job("aging", dt.date(2026, 2, 1)).outcome is runner.Outcome.BUSY
    # A lock left by a crashed run expires and is taken over.
    db.session.execute(JobLock.__table__.update().values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    assert runner.run_job("aging", dt.date(2026, 2, 1)).outcome is runner.Outcome.SUCCEEDED
    assert db.session.scalar(select(func.count()).select_from(JobLock)) == 0


def test_the_snapshot_job_stores_month_end_delinquency_and_a_rerun_replaces_it(
    portfolio: dict[str, Any], on_date: Any
) -> None:
    on_date(dt.date(2026, 4, 1))
    result = runner.run_job("delinquency_snapshot", dt.date(2026, 4, 1))
    assert result.outcome is runner.Outcome.SUCCEEDED and result.counts["as_of"] == "2026-03-31"
    rows = db.session.scalars(
        select(DelinquencySnapshot).where(DelinquencySnapshot.scheme == "program")
    ).all()
    assert {r.bucket: r.loan_count for r in rows}["30-59"] == 3  # nobody paid: due Feb 5, 54 days on Mar 31
    count = db.session.scalar(select(func.count()).select_from(DelinquencySnapshot))
    runner.run_job("delinquency_snapshot", dt.date(2026, 4, 1), force=True)
    assert db.session.scalar(select(func.count()).select_from(DelinquencySnapshot)) == count


def test_run_job_command(runner_cli: Any, portfolio: dict[str, Any]) -> None:
    result = runner_cli.invoke(args=["run-job", "aging", "--date", "2026-02-10", "--through", "2026-02-12"])
    assert result.exit_code == 0, result.output
    assert "aging 2026-02-10: succeeded" in result.output and "aging 2026-02-12: succeeded" in result.output
    again = runner_cli.invoke(args=["run-job", "aging", "--date", "2026-02-11"])
    assert "already_done" in again.output
    assert runner_cli.invoke(args=["run-job", "nonsense"]).exit_code != 0
    assert runner_cli.invoke(args=["run-job", "aging", "--date", "2026-13-01"]).exit_code != 0


@pytest.fixture
def runner_cli(app: Flask) -> Any:
    return app.test_cli_runner()


def test_the_scheduler_runs_each_job_on_its_cron_in_new_york(app: Flask) -> None:
    from loanapp.jobs.scheduler import build_scheduler

    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "aging",
        "delinquency_snapshot",
        "projection_snapshot",
        "projection_queue",
        "notices",
        "check_ins",
        "reserve_check",
    }
    aging = jobs["aging"].trigger
    assert str(aging.timezone) == "America/New_York"
    assert aging.get_next_fire_time(None, at(dt.date(2026, 3, 8), 3)) == at(dt.date(2026, 3, 9), 2, 0)
    snapshot = jobs["delinquency_snapshot"].trigger
    assert snapshot.get_next_fire_time(None, at(dt.date(2026, 3, 8))) == at(dt.date(2026, 4, 1), 3, 0)
    projection = jobs["projection_snapshot"].trigger
    assert projection.get_next_fire_time(None, at(dt.date(2026, 3, 8))) == at(dt.date(2026, 4, 1), 4, 0)
    assert jobs["projection_queue"].trigger.interval == dt.timedelta(minutes=1)


# --- real commits: a database of our own --------------------------------------------------------------


def seed_committed(app: Flask) -> list[int]:
    """Users, reference lists, a funded reserve and three loans, committed."""
    import secrets

    from loanapp.accounts.models import User
    from loanapp.accounts.operations import create_user
    from loanapp.programs.reference import seed_reference_lists
    from reserve.operations import record_deposit

    app.config["BUSINESS_DATE"] = dt.date(2026, 4, 10)
    with app.test_request_context():
        seed_reference_lists()
        people = {
            role: create_user(f"{role}@example.org", "password-123456", role, role.title())
            for role in ("worker", "officer", "staff")
        }
        db.session.flush()
        record_deposit(
            db.session,
            key=secrets.token_hex(6),
            actor_id=people["staff"].id,
            funder="ESD",
            grant="G",
            amount="100000.00",
            received_on=dt.date(2025, 12, 1),
        )
        loans = [make_loan(people, amount=amount) for amount in ("8500.00", "6000.00", "4000.00")]
        pay(loans[0], "205.52", dt.date(2026, 2, 5), people["officer"])
        db.session.commit()
        ids = [loan.id for loan in loans]
        assert db.session.scalar(select(func.count()).select_from(User)) == 3
        return ids


def test_a_job_that_crashes_halfway_leaves_the_database_as_before_and_its_rerun_completes(
    committed_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loanapp.servicing import bulk

    seed_committed(committed_app)
    with committed_app.app_context():
        before = [
            (r.loan_id, r.days_past_due, r.bucket, r.aged_on, r.version)
            for r in db.session.scalars(select(LoanServicing).order_by(LoanServicing.loan_id))
        ]
        history_before = db.session.scalar(select(func.count()).select_from(BucketHistory))

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("disk full (simulated)")

    # The servicing rows and the bucket history are written; dropping the temporary table crashes.
    monkeypatch.setattr(bulk, "drop_temp_table", crash)
    with committed_app.app_context():
        failed = runner.run_job("aging", dt.date(2026, 4, 10))
    assert failed.outcome is runner.Outcome.FAILED and "disk full" in failed.error
    with committed_app.app_context():
        after = [
            (r.loan_id, r.days_past_due, r.bucket, r.aged_on, r.version)
            for r in db.session.scalars(select(LoanServicing).order_by(LoanServicing.loan_id))
        ]
        assert after == before
        assert db.session.scalar(select(func.count()).select_from(BucketHistory)) == history_before
        run = db.session.scalar(select(JobRun))
        assert (run.status, run.attempts) == ("failed", 1) and "disk full" in run.error
    monkeypatch.undo()
    with committed_app.app_context():
        rerun = runner.run_job("aging", dt.date(2026, 4, 10))
        assert rerun.outcome is runner.Outcome.SUCCEEDED
        run = db.session.scalar(select(JobRun))
        assert (run.status, run.attempts, run.error) == ("succeeded", 2, "")
        assert (
            db.session.scalar(select(func.count()).where(LoanServicing.aged_on == dt.date(2026, 4, 10))) == 3
        )


@pytest.mark.postgres
def test_two_schedulers_at_once_run_a_job_exactly_once(
    committed_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loanapp.servicing import aging

    seed_committed(committed_app)
    original = aging.age_portfolio

    def slow(as_of: dt.date, **kwargs: Any) -> dict[str, Any]:
        time.sleep(1.0)  # long enough for the other scheduler to arrive while this one works
        return original(as_of, **kwargs)

    monkeypatch.setattr(aging, "age_portfolio", slow)
    start = threading.Barrier(2)
    outcomes: list[runner.Outcome] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            with committed_app.app_context():
                start.wait()
                outcomes.append(runner.run_job("aging", dt.date(2026, 4, 10), trigger="schedule").outcome)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(outcomes) == sorted([runner.Outcome.SUCCEEDED, runner.Outcome.BUSY])
    with committed_app.app_context():
        run = db.session.scalar(select(JobRun))
        assert (run.status, run.attempts) == ("succeeded", 1)
        # A third scheduler arriving afterwards finds the date done.
        assert runner.run_job("aging", dt.date(2026, 4, 10)).outcome is runner.Outcome.ALREADY_DONE
