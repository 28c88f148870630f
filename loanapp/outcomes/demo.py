"""Demo check-ins for ``flask seed-demo``: what happened after the loans of the demo history.

For each booked loan, each check-in whose date has come is answered (about 85%) or left unanswered
(the worker was not reached), on a day up to three weeks after it fell due, through the real
operation on that business date: about 60% are the worker's own answer from the loan page, the rest
officer calls, employer confirmations and pay stubs. Most workers are still employed, some changed
employer, wages grow a little each year, a few lost the job (more among charged-off loans), most
drive the car. Draws are seeded per loan and check-in, so a rerun gives the same answers (and the
idempotency keys make it write nothing twice). Demo data only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from sqlalchemy import select

from loanapp.accounts.models import User
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.outcomes import operations
from loanapp.outcomes.errors import OutcomeError
from loanapp.outcomes.schedule import milestones
from loanapp.programs.models import Employer
from loanapp.servicing.demo import on
from loanapp.servicing.models import LoanServicing

OFFICER_EMAIL = "officer@demo.coopfed.org"
QUARTER = Decimal("0.25")


def _wage(base: Decimal, months: int, rng: np.random.Generator, changed: bool) -> Decimal:
    """About 3% a year, a raise for a job change, and some noise; to the quarter dollar."""
    growth = 1 + 0.03 * months / 12 + (0.06 if changed else 0.0) + float(rng.normal(0, 0.02))
    return (base * Decimal(str(round(max(growth, 0.9), 4))) / QUARTER).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    ) * QUARTER


def seed_outcome_demo(echo: Callable[[str], Any] = print) -> int:
    """Answer the demo loans' due check-ins (safe to rerun); returns how many answers were added."""
    officer = db.session.scalar(select(User).where(User.email == OFFICER_EMAIL))
    if officer is None:
        return 0
    today = business_date()
    policy = operations.current_outcome_policy()
    employers = list(db.session.scalars(select(Employer.id).order_by(Employer.id)))
    loans = list(db.session.scalars(select(Loan).order_by(Loan.id)))
    added = 0
    plan: list[tuple[dt.date, Loan, str, int]] = []
    for loan in loans:
        servicing = db.session.get(LoanServicing, loan.id)
        paid_off_on = servicing.paid_off_on if servicing is not None and loan.status == "paid_off" else None
        for milestone in milestones(loan.contract_date, paid_off_on, policy.months):
            if milestone.due_on <= today:
                plan.append((milestone.due_on, loan, milestone.code, milestone.months or 0))
    plan.sort(key=lambda item: (item[0], item[1].id))
    for due_on, loan, code, months in plan:
        rng = np.random.default_rng([2026, loan.id, months])
        if rng.random() < 0.15:
            continue  # not reached
        day = due_on + dt.timedelta(days=int(rng.integers(0, 22)))
        if day > today:
            continue  # still waiting for the answer
        application = loan.application
        lost = 0.35 if loan.status == "charged_off" else 0.06 + 0.02 * (months // 12)
        employed = bool(rng.random() >= lost)
        changed = employed and rng.random() < 0.04 + 0.02 * (months // 6)
        employer_id = loan.employer_id
        if changed or employer_id is None:
            choices = [e for e in employers if e != loan.employer_id]
            employer_id = int(choices[int(rng.integers(len(choices)))]) if choices else None
        base = application.hourly_wage or Decimal("13.00")
        self_report = rng.random() < 0.6
        source = (
            "self_report"
            if self_report
            else str(rng.choice(["officer_call", "employer_confirmation", "pay_stub"]))
        )
        actor = loan.borrower if self_report else officer
        started = None
        if operations.asks_start(application) and not operations.start_recorded(loan.id):
            started = employed or rng.random() < 0.5
        started_on = None
        if started:
            planned = application.start_date or loan.contract_date + dt.timedelta(days=10)
            started_on = min(max(planned, loan.contract_date + dt.timedelta(days=1)), day)
        data = operations.CheckInInput(
            employed=employed,
            car_running=bool(rng.random() < (0.7 if loan.status == "charged_off" else 0.93)),
            source=source,
            employer_id=employer_id if employed else None,
            employer_other="" if employed and employer_id else ("Syracuse Castings" if employed else ""),
            hourly_wage=_wage(base, months or 12, rng, changed) if employed else None,
            hours_per_week=Decimal(str(rng.choice([32, 36, 40, 40, 40, 40, 45]))) if employed else None,
            commute=str(rng.choice(["car"] * 17 + ["ride", "bus", "other_car"])) if employed else None,
            started_job=started,
            started_on=started_on,
            comment="Changed jobs for better pay." if changed else "",
            checked_on=day,
            milestone=code,
        )
        try:
            with on(day):
                result = operations.record_check_in(
                    loan.id, data, actor=actor, key=f"user-{actor.id}:demo-check-in-{loan.id}-{code}"
                )
        except OutcomeError as exc:
            echo(f"  demo check-in loan {loan.id} {code}: {exc.message}")
            continue
        added += int(result.created)
    db.session.commit()
    from loanapp.jobs.runner import run_job

    run_job("check_ins", today, trigger="manual")
    return added
