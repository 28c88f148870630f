"""Collections writes: the only code that writes cases, contacts, promises and hardship plans. Each
function works in the caller's unit of work and never commits; every change is audited.

Writes from the API carry an ``Idempotency-Key`` (pages send a one-time form token): the same key
with the same content returns the first row, with other content it is refused (409).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from loanapp.accounts.models import User
from loanapp.applications.models import Application
from loanapp.audit.trail import record
from loanapp.clock import business_date
from loanapp.collections.models import (
    CHANNELS,
    DIRECTIONS,
    OUTCOMES,
    CollectionCase,
    ContactLog,
    PromiseToPay,
)
from loanapp.collections.search import digits, fold_name
from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.loans.states import LoanStatus
from loanapp.servicing.errors import IdempotencyConflict, InvalidInput, LoanClosed, LoanNotFound
from risk.money import CENT

MAX_NOTE = 2000
MAX_PROMISE = Decimal("100000.00")

T = TypeVar("T")


@dataclass(frozen=True)
class Written(Generic[T]):
    row: T
    created: bool  # False: the key was seen before with the same content; nothing was written


def _hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _existing(model: Any, key: str, content_hash: str) -> Any:
    found = db.session.scalar(select(model).where(model.idempotency_key == key))
    if found is not None and found.request_hash != content_hash:
        raise IdempotencyConflict(key.split(":", 1)[-1])
    return found


def _insert(model: Any, row: Any, key: str, content_hash: str) -> Written[Any]:
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        twin = _existing(model, key, content_hash)
        if twin is None:
            raise
        return Written(twin, False)
    return Written(row, True)


def _loan(loan_id: int, *, lock: bool = False) -> Loan:
    query = select(Loan).where(Loan.id == loan_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    loan = db.session.scalar(query)
    if loan is None:
        raise LoanNotFound()
    return loan


# --- cases: search keys and assignment ------------------------------------------------------------


def open_case(loan: Loan, application: Application | None = None) -> CollectionCase:
    """The loan's case row (created at booking): the borrower's name and phone folded for search."""
    case = db.session.get(CollectionCase, loan.id)
    if case is None:
        application = application or loan.application
        case = CollectionCase(
            loan_id=loan.id,
            search_name=fold_name(f"{application.first_name} {application.last_name}")[:200],
            phone_digits=digits(application.phone)[:20],
            updated_at=utcnow(),
        )
        db.session.add(case)
        db.session.flush()
        open_collateral(loan, application)
    return case


def open_missing_cases() -> int:
    """Case rows for loans booked before collections existed (or loaded in bulk); returns how many."""
    missing = db.session.execute(
        select(Loan.id, Application.first_name, Application.last_name, Application.phone)
        .join(Application, Application.id == Loan.application_id)
        .outerjoin(CollectionCase, CollectionCase.loan_id == Loan.id)
        .where(CollectionCase.loan_id.is_(None))
    ).all()
    now = utcnow()
    rows = [
        {
            "loan_id": loan_id,
            "search_name": fold_name(f"{first} {last}")[:200],
            "phone_digits": digits(phone)[:20],
            "updated_at": now,
            "assigned_to": None,
            "assigned_at": None,
        }
        for loan_id, first, last, phone in missing
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(CollectionCase.__table__.insert(), rows[start : start + 5000])
    return len(rows)


def assign(loan_id: int, officer_id: int | None, *, actor: Any) -> CollectionCase:
    """Assign the loan to an officer (None: unassign)."""
    loan = _loan(loan_id, lock=True)
    if officer_id is not None:
        officer = db.session.get(User, officer_id)
        if officer is None or officer.role != "officer" or not officer.active:
            raise InvalidInput({"officer_id": ["Choose an active loan officer."]})
    case = open_case(loan)
    before = case.assigned_to
    if before == officer_id:
        return case
    case.assigned_to = officer_id
    case.assigned_at = utcnow() if officer_id is not None else None
    case.updated_at = utcnow()
    db.session.flush()
    record(
        "collections.assigned",
        "loan",
        loan.id,
        actor=actor,
        details={"officer_id": officer_id, "previous_officer_id": before},
    )
    return case


# --- contact log ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactInput:
    channel: str
    direction: str
    outcome: str
    note: str = ""
    next_action_on: dt.date | None = None


def check_contact(data: ContactInput, today: dt.date) -> None:
    errors: dict[str, list[str]] = {}
    if data.channel not in CHANNELS:
        errors["channel"] = ["Choose one of: " + ", ".join(CHANNELS) + "."]
    if data.direction not in DIRECTIONS:
        errors["direction"] = ["Choose one of: " + ", ".join(DIRECTIONS) + "."]
    if data.outcome not in OUTCOMES:
        errors["outcome"] = ["Choose one of: " + ", ".join(OUTCOMES) + "."]
    if len(data.note or "") > MAX_NOTE:
        errors["note"] = [f"At most {MAX_NOTE} characters."]
    if data.next_action_on is not None:
        if not isinstance(data.next_action_on, dt.date):
            errors["next_action_on"] = ["Enter a date like 2026-12-15."]
        elif data.next_action_on < today:
            errors["next_action_on"] = ["The next action cannot be in the past."]
        elif data.next_action_on > today + dt.timedelta(days=365):
            errors["next_action_on"] = ["Choose a date within a year."]
    if errors:
        raise InvalidInput(errors)


def log_contact(loan_id: int, data: ContactInput, *, actor: Any, key: str) -> Written[ContactLog]:
    """Add a contact to the loan's log (append-only: a wrong entry is corrected by a new one)."""
    content = {
        "loan_id": loan_id,
        "channel": data.channel,
        "direction": data.direction,
        "outcome": data.outcome,
        "note": (data.note or "").strip(),
        "next_action_on": str(data.next_action_on) if data.next_action_on else None,
    }
    content_hash = _hash(content)
    existing = _existing(ContactLog, key, content_hash)
    if existing is not None:
        return Written(existing, False)
    today = business_date()
    loan = _loan(loan_id)
    check_contact(data, today)
    written = _insert(
        ContactLog,
        ContactLog(
            loan_id=loan.id,
            channel=data.channel,
            direction=data.direction,
            outcome=data.outcome,
            note=content["note"],
            next_action_on=data.next_action_on,
            contacted_on=today,
            contacted_at=utcnow(),
            recorded_by=actor.id,
            idempotency_key=key,
            request_hash=content_hash,
        ),
        key,
        content_hash,
    )
    if written.created:
        record(
            "collections.contact_logged",
            "loan",
            loan.id,
            actor=actor,
            details={**content, "contact_id": written.row.id},
        )
    return written


# --- promises to pay ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PromiseInput:
    amount: Decimal
    promised_on: dt.date
    note: str = ""


def check_promise(data: PromiseInput, today: dt.date) -> None:
    errors: dict[str, list[str]] = {}
    amount = data.amount
    if not isinstance(amount, Decimal) or not amount.is_finite():
        errors["amount"] = ["Enter an amount in dollars and cents, like 215.40."]
    elif amount != amount.quantize(CENT):
        errors["amount"] = ["Use dollars and cents: at most two decimals."]
    elif amount <= 0:
        errors["amount"] = ["Must be more than zero."]
    elif amount > MAX_PROMISE:
        errors["amount"] = [f"Must be at most {MAX_PROMISE:,}."]
    latest = today + dt.timedelta(days=int(current_app.config["COLLECTIONS_PROMISE_MAX_DAYS"]))
    if not isinstance(data.promised_on, dt.date):
        errors["promised_on"] = ["Enter the date the borrower promised to pay."]
    elif data.promised_on < today:
        errors["promised_on"] = ["A promise cannot be in the past."]
    elif data.promised_on > latest:
        errors["promised_on"] = [f"Choose a date up to {latest.isoformat()}."]
    if len(data.note or "") > MAX_NOTE:
        errors["note"] = [f"At most {MAX_NOTE} characters."]
    if errors:
        raise InvalidInput(errors)


def make_promise(loan_id: int, data: PromiseInput, *, actor: Any, key: str) -> Written[PromiseToPay]:
    """Record a promise to pay ``amount`` by ``promised_on``; payments from today on count towards it."""
    content = {
        "loan_id": loan_id,
        "amount": str(data.amount),
        "promised_on": str(data.promised_on),
        "note": (data.note or "").strip(),
    }
    content_hash = _hash(content)
    existing = _existing(PromiseToPay, key, content_hash)
    if existing is not None:
        return Written(existing, False)
    today = business_date()
    loan = _loan(loan_id)
    check_promise(data, today)
    if loan.status != LoanStatus.ACTIVE:
        raise LoanClosed(loan.status, "take promises to pay")
    written = _insert(
        PromiseToPay,
        PromiseToPay(
            loan_id=loan.id,
            amount=data.amount,
            promised_on=data.promised_on,
            made_on=today,
            note=content["note"],
            recorded_by=actor.id,
            recorded_at=utcnow(),
            idempotency_key=key,
            request_hash=content_hash,
        ),
        key,
        content_hash,
    )
    if written.created:
        record(
            "collections.promise_made",
            "loan",
            loan.id,
            actor=actor,
            details={**content, "made_on": today, "promise_id": written.row.id},
        )
    return written


# --- hardship plans -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    kind: str
    effective_on: dt.date | None = None
    installments: int | None = None
    due_day: int | None = None
    term_months: int | None = None
    reason: str = ""


def plan_terms(loan: Loan, data: PlanInput, today: dt.date, *, need_reason: bool) -> Any:
    """Check a plan request against the program's settings and the loan; the terms, or InvalidInput
    naming each bad field. Nothing is written."""
    from loanapp.collections import plans
    from risk import hardship

    config = current_app.config
    errors: dict[str, list[str]] = {}
    if data.kind not in hardship.KINDS:
        raise InvalidInput({"kind": ["Choose one of: " + ", ".join(hardship.KINDS) + "."]})
    effective_on = data.effective_on or today
    existing = plans.standing_plans(loan.id)
    earliest = max([loan.contract_date, *(p.effective_on for p in existing)])
    if effective_on > today:
        errors["effective_on"] = ["A plan takes effect today or on an earlier date, not in the future."]
    elif effective_on < earliest:
        errors["effective_on"] = [
            f"Choose a date from {earliest.isoformat()} (the latest plan or the contract date)."
        ]
    installments = due_day = term_months = None
    if data.kind == "deferral":
        most = int(config["HARDSHIP_MAX_DEFERRAL_INSTALLMENTS"])
        if data.installments is None:
            errors["installments"] = [f"Enter how many installments to move (1 to {most})."]
        elif not 1 <= data.installments <= most:
            errors["installments"] = [f"A deferral moves 1 to {most} installments."]
        installments = data.installments
    elif data.kind == "due_day":
        if data.due_day is None:
            errors["due_day"] = ["Enter the new due day of the month (1 to 28)."]
        elif not 1 <= data.due_day <= hardship.MAX_DUE_DAY:
            errors["due_day"] = ["Choose a day from 1 to 28 (every month has it)."]
        due_day = data.due_day
    elif data.kind == "reamortize":
        most = int(config["LOAN_MAX_TERM_MONTHS"])
        if data.term_months is None:
            errors["term_months"] = ["Enter the new number of monthly payments."]
        elif not 1 <= data.term_months <= most:
            errors["term_months"] = [f"Choose 1 to {most} months (the program's longest term)."]
        term_months = data.term_months
    if need_reason and not (data.reason or "").strip():
        errors["reason"] = ["Say why the borrower needs this help."]
    elif len(data.reason or "") > MAX_NOTE:
        errors["reason"] = [f"At most {MAX_NOTE} characters."]
    limit_key = {
        "deferral": "HARDSHIP_MAX_DEFERRALS_PER_YEAR",
        "due_day": "HARDSHIP_MAX_DUE_DAY_CHANGES_PER_YEAR",
        "reamortize": "HARDSHIP_MAX_REAMORTIZATIONS_PER_YEAR",
        "reage": "HARDSHIP_MAX_REAGES_PER_YEAR",
    }[data.kind]
    year_ago = effective_on - dt.timedelta(days=365)
    used = sum(1 for p in existing if p.kind == data.kind and p.effective_on > year_ago)
    if used >= int(config[limit_key]):
        errors["kind"] = [
            f"This loan already had {used} of these in the last 12 months (the limit is {config[limit_key]})."
        ]
    if data.kind == "reage" and "kind" not in errors and "effective_on" not in errors:
        from loanapp.collections.queries import _standing_payments
        from loanapp.servicing.policy import current_policy

        needed = int(config["REAGE_MIN_ON_TIME_PAYMENTS"])
        payments = _standing_payments([loan.id], loan.contract_date).get(loan.id, [])
        level = plans.work_out(loan)[1][-1].revision.payment if existing else loan.payment_amount
        run = hardship.on_time_run(
            [p for p in payments if p[0] <= effective_on], effective_on, level, current_policy().tolerance
        )
        if run < needed:
            errors["kind"] = [
                f"A re-age needs {needed} months in a row with a full payment; this loan has {run}."
            ]
    if errors:
        raise InvalidInput(errors)
    return hardship.PlanTerms(data.kind, effective_on, installments, due_day, term_months)


def _preview(loan: Loan, terms: Any) -> Any:
    from loanapp.collections import plans
    from risk.errors import InvalidTerms

    try:
        return plans.preview(loan, terms)
    except InvalidTerms as exc:
        raise InvalidInput({exc.field: [exc.message[:1].upper() + exc.message[1:] + "."]}) from exc


def preview_plan(loan_id: int, data: PlanInput) -> Any:
    """The before/after of a plan, for the officer to confirm (writes nothing)."""
    loan = _loan(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise LoanClosed(loan.status, "get a hardship plan")
    return _preview(loan, plan_terms(loan, data, business_date(), need_reason=False))


def create_plan(loan_id: int, data: PlanInput, *, actor: Any, key: str) -> Written[Any]:
    """Put a hardship plan on the loan: the plan is a fact, the schedule in force is derived from it
    (``loanapp.collections.plans``), and delinquency, buckets and bucket history are re-derived from
    its effective date by the servicing replay in the same transaction."""
    from loanapp.collections.models import HardshipPlan
    from loanapp.servicing import operations as servicing

    today = business_date()
    content = {
        "loan_id": loan_id,
        "kind": data.kind,
        "effective_on": str(data.effective_on or today),
        "installments": data.installments,
        "due_day": data.due_day,
        "term_months": data.term_months,
        "reason": (data.reason or "").strip(),
    }
    content_hash = _hash(content)
    existing = _existing(HardshipPlan, key, content_hash)
    if existing is not None:
        return Written(existing, False)
    loan = _loan(loan_id, lock=True)
    if loan.status != LoanStatus.ACTIVE:
        raise LoanClosed(loan.status, "get a hardship plan")
    terms = plan_terms(loan, data, today, need_reason=True)
    preview = _preview(loan, terms)
    written = _insert(
        HardshipPlan,
        HardshipPlan(
            loan_id=loan.id,
            kind=terms.kind,
            effective_on=terms.effective_on,
            installments=terms.installments,
            due_day=terms.due_day,
            term_months=terms.term_months,
            reason=content["reason"],
            resumes_on=preview.after.next_due_date,
            preview=preview.as_json(),
            recorded_by=actor.id,
            recorded_at=utcnow(),
            idempotency_key=key,
            request_hash=content_hash,
        ),
        key,
        content_hash,
    )
    if not written.created:
        return written
    servicing.replay(loan, terms.effective_on, actor=actor, today=today)
    figures = preview.as_json()
    record(
        "loan.hardship_plan",
        "loan",
        loan.id,
        actor=actor,
        details={
            "plan_id": written.row.id,
            **{k: v for k, v in content.items() if k != "loan_id"},
            "effective_on": terms.effective_on,
            "before": figures["before"],
            "after": figures["after"],
        },
    )
    return written


def age_planned_loans(as_of: dt.date) -> int:
    """After the set-based aging (which reads disclosed schedules): re-derive the delinquency of
    active loans with hardship plans from the schedule in force. Returns how many."""
    from loanapp.collections.models import HardshipPlan
    from loanapp.servicing import operations as servicing

    ids = list(
        db.session.scalars(
            select(HardshipPlan.loan_id)
            .join(Loan, Loan.id == HardshipPlan.loan_id)
            .where(Loan.status == LoanStatus.ACTIVE.value)
            .distinct()
        )
    )
    for loan_id in ids:
        loan = _loan(loan_id, lock=True)
        servicing.replay(loan, as_of, actor=None, today=as_of)
    return len(ids)


# --- the car: collateral and insurance ------------------------------------------------------------

VIN_LETTERS = set("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")  # no I, O, Q in a VIN


def open_collateral(loan: Loan, application: Application | None = None) -> Any:
    """The car's record, opened at booking from the application (the lien is requested)."""
    from loanapp.collections.models import Collateral

    row = db.session.get(Collateral, loan.id)
    if row is None:
        application = application or loan.application
        row = Collateral(
            loan_id=loan.id,
            vehicle_year=application.vehicle_year,
            vehicle_make=application.vehicle_make[:60],
            vehicle_model=application.vehicle_model[:60],
            title_status="lien_requested",
            updated_at=utcnow(),
        )
        db.session.add(row)
        db.session.flush()
    return row


def vin_errors(vin: str) -> list[str]:
    """What is wrong with a VIN: length, letters, the check digit (position 9, 49 CFR 565)."""
    from vininfo import Vin

    if len(vin) != 17:
        return [f"A VIN has 17 characters; this one has {len(vin)}."]
    if not set(vin) <= VIN_LETTERS:
        return ["A VIN uses digits and capital letters except I, O and Q."]
    if not Vin(vin).verify_checksum():
        return ["The check digit (9th character) does not match: check the VIN for a typo."]
    return []


@dataclass(frozen=True)
class CollateralInput:
    vin: str | None
    title_status: str
    lien_recorded_on: dt.date | None = None


def put_collateral(loan_id: int, data: CollateralInput, *, actor: Any) -> Any:
    """Set the car's VIN and lien status (repeating the same request changes nothing)."""
    from loanapp.collections.models import TITLE_STATUSES, Collateral

    today = business_date()
    loan = _loan(loan_id, lock=True)
    row = open_collateral(loan)
    errors: dict[str, list[str]] = {}
    vin = (data.vin or "").strip().upper().replace(" ", "") or None
    if vin is not None:
        if problems := vin_errors(vin):
            errors["vin"] = problems
        else:
            twin = db.session.execute(
                select(Collateral.loan_id)
                .join(Loan, Loan.id == Collateral.loan_id)
                .where(
                    Collateral.vin == vin,
                    Collateral.loan_id != loan.id,
                    Loan.status == LoanStatus.ACTIVE.value,
                )
            ).first()
            if twin is not None:
                errors["vin"] = [f"This VIN is already on live loan {twin[0]}."]
    if data.title_status not in TITLE_STATUSES:
        errors["title_status"] = ["Choose one of: " + ", ".join(TITLE_STATUSES) + "."]
    elif data.title_status in ("lien_recorded", "title_held") and data.lien_recorded_on is None:
        errors["lien_recorded_on"] = ["Enter the date the lien was recorded."]
    elif data.title_status == "lien_released" and loan.status != LoanStatus.PAID_OFF:
        errors["title_status"] = ["The lien is released only when the loan is paid off."]
    if data.lien_recorded_on is not None and not errors.get("lien_recorded_on"):
        if data.lien_recorded_on > today:
            errors["lien_recorded_on"] = ["The lien cannot be recorded in the future."]
        elif data.lien_recorded_on < loan.contract_date:
            errors["lien_recorded_on"] = [
                f"Choose a date from the contract date ({loan.contract_date.isoformat()})."
            ]
    if errors:
        raise InvalidInput(errors)
    before = {"vin": row.vin, "title_status": row.title_status, "lien_recorded_on": row.lien_recorded_on}
    after = {"vin": vin, "title_status": data.title_status, "lien_recorded_on": data.lien_recorded_on}
    if before == after:
        return row
    row.vin, row.title_status, row.lien_recorded_on = vin, data.title_status, data.lien_recorded_on
    if data.title_status == "lien_released" and row.lien_released_on is None:
        row.lien_released_on = today
    row.updated_by = actor.id
    row.updated_at = utcnow()
    db.session.flush()
    record("collateral.updated", "loan", loan.id, actor=actor, details={"before": before, "after": after})
    return row


@dataclass(frozen=True)
class InsuranceInput:
    carrier: str
    policy_number: str
    covered_through: dt.date
    covered_from: dt.date | None = None


def put_insurance(loan_id: int, data: InsuranceInput, *, actor: Any) -> Any:
    """Record proof of insurance (a new row; the same proof again changes nothing)."""
    from loanapp.collections.models import InsuranceProof

    today = business_date()
    loan = _loan(loan_id, lock=True)
    errors: dict[str, list[str]] = {}
    carrier, policy = (data.carrier or "").strip(), (data.policy_number or "").strip()
    if not carrier:
        errors["carrier"] = ["Enter the insurance company."]
    elif len(carrier) > 120:
        errors["carrier"] = ["At most 120 characters."]
    if not policy:
        errors["policy_number"] = ["Enter the policy number."]
    elif len(policy) > 60:
        errors["policy_number"] = ["At most 60 characters."]
    if not isinstance(data.covered_through, dt.date):
        errors["covered_through"] = ["Enter the date the coverage runs through."]
    elif data.covered_from is not None and data.covered_from > data.covered_through:
        errors["covered_through"] = ["The coverage must end after it starts."]
    elif data.covered_through < today:
        errors["covered_through"] = ["This coverage has already ended: ask for current proof."]
    if errors:
        raise InvalidInput(errors)
    latest = db.session.scalar(
        select(InsuranceProof)
        .where(InsuranceProof.loan_id == loan.id)
        .order_by(InsuranceProof.id.desc())
        .limit(1)
    )
    same = (carrier, policy, data.covered_from, data.covered_through)
    if (
        latest is not None
        and (latest.carrier, latest.policy_number, latest.covered_from, latest.covered_through) == same
    ):
        return latest
    proof = InsuranceProof(
        loan_id=loan.id,
        carrier=carrier,
        policy_number=policy,
        covered_from=data.covered_from,
        covered_through=data.covered_through,
        recorded_by=actor.id,
        recorded_at=utcnow(),
    )
    db.session.add(proof)
    db.session.flush()
    record(
        "insurance.recorded",
        "loan",
        loan.id,
        actor=actor,
        details={
            "carrier": carrier,
            "policy_number": policy,
            "covered_from": data.covered_from,
            "covered_through": data.covered_through,
        },
    )
    return proof
