"""Servicing writes: the only code that writes payments, allocations, servicing state, bucket history,
charge-offs and recoveries. Each function works in the caller's unit of work and never commits.

How a loan's servicing state is kept true (the issue's rule: "the stored state must be the same as
if the payments had arrived in date order"):

* Payments are facts and are never deleted; a returned payment is a new ``reversal`` row linked to
  the original, which then stops counting.
* Allocations and the servicing state are **derived**: after any change dated ``d`` (a new payment
  received on ``d``, the reversal of a payment received on ``d``), :func:`replay` restarts from the
  loan's position after the last standing payment received before ``d`` (stored on its allocation)
  and re-applies every standing payment from ``d`` on, in (received date, id) order, through
  ``risk.servicing`` (daily simple interest; fees, then interest, then principal). Late fees, when the
  program enables them, are assessed in the same replay, so they are derived the same way.
* Late fees never pyramid (16 CFR 444.4, the FTC Credit Practices Rule; the same text is 12 CFR
  706.4(a) for credit unions, and NCUA legal opinion 00-0101 calls the practice a violation). The
  allocation keeps its order, fees first, because the ledger, payoff quotes and the history the
  borrower reads all show it; but what a payment pays toward fees still counts toward the
  installments (``credited_after`` is the payment applied, fees included), as NCUA's 2004 letter on
  tracking late fees separately describes. So a full, timely installment is never short because an
  earlier fee took part of it, never draws a fee itself, and one late payment costs one fee. The
  fee's amount is still owed as principal not paid, so it is in the payoff billed at maturity.
  (Applying payments to the installment first and fees last would leave a fee unpaid until the
  payoff, and change every historical allocation.)
* Closing adjustments (``Adjustment``) are derived in the same replay: on the maturity date and on
  every later day with a payment, a residual owed of at most ``MATURITY_RESIDUAL_TOLERANCE`` is
  written off (``risk.servicing.close_small_balance``), and what a payment pays beyond the payoff
  is a refund due. Each one a replay creates or takes back is audited; the nightly aging replays
  matured loans so a residual closes on its maturity date without a payment.
* Days past due, the bucket and the bucket history from ``d`` (or from the open history row, if
  earlier) through the business date are recomputed by ``risk.delinquency`` in the same transaction.
* Status moves only through ``loanapp.loans.states.check_transition``: a replay that pays the loan
  off moves it to ``paid_off`` and releases its reserve commitment; one that leaves a balance on a
  paid-off loan (its last payment came back) moves it back to ``active`` and reverses the release.

Concurrency: each write locks the loan row and bumps the servicing row's version first, so two
writes on one loan queue up, and the nightly aging (which updates by version) skips a loan changed
under it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

import reserve
from loanapp.audit.trail import record
from loanapp.clock import business_date
from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.loans.states import LoanStatus, check_transition
from loanapp.reserve_admin import actions as reserve_actions
from loanapp.servicing import positions, queries
from loanapp.servicing.errors import (
    AlreadyReversed,
    BadKey,
    ExcessNotConfirmed,
    IdempotencyConflict,
    InvalidInput,
    LoanClosed,
    LoanNotFound,
    NotChargedOff,
    NotEligibleForChargeOff,
    PaymentNotFound,
)
from loanapp.servicing.models import (
    COLLATERAL_STATUSES,
    PAYMENT_METHODS,
    Adjustment,
    BucketHistory,
    ChargeOff,
    LoanServicing,
    Payment,
    PaymentAllocation,
    Recovery,
)
from loanapp.servicing.policy import ServicingPolicy, current_policy
from reserve.schema import TransactionRow
from risk import delinquency, hardship
from risk.money import CENT, ZERO, money
from risk.servicing import LoanState, accrue, apply_payment, assess_fee, close_small_balance

MAX_KEY_LENGTH = 150
#: A typo guard: no car-loan payment is this large.
MAX_PAYMENT = Decimal("100000.00")
ZERO_ACCRUAL = Decimal("0E-10")


# --- inputs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentInput:
    amount: Decimal
    received_on: dt.date
    method: str
    reference: str = ""
    # A payment more than MATURITY_RESIDUAL_TOLERANCE above the payoff is refused unless confirmed
    # (a typo guard, issue #11): the rest then becomes a refund due. Not part of the idempotency content: a confirmed retry is the
    # same request.
    allow_excess: bool = False


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    created: bool  # False: the key was seen before, with the same content; nothing was posted


@dataclass(frozen=True)
class ChargeOffInput:
    collateral_status: str
    collateral_proceeds: Decimal = ZERO
    allowed_costs: Decimal = ZERO
    memo: str = ""


def scoped_key(actor: Any, key: str | None) -> str:
    """The client's idempotency key, scoped to its user so two clients' keys never collide."""
    key = (key or "").strip()
    if not key:
        raise BadKey("Send an Idempotency-Key header: a unique string per request, reused on retries.")
    if len(key) > MAX_KEY_LENGTH:
        raise BadKey(f"The Idempotency-Key is longer than {MAX_KEY_LENGTH} characters.")
    return f"user-{actor.id}:{key}"


def import_key(reference: str) -> str:
    """The key of a payment imported from the core system: its reference, whoever imports the file."""
    return f"core:{reference.strip()}"


def _hash(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _amount_errors(amount: Any, field: str = "amount", *, allow_zero: bool = False) -> list[str]:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        return ["Enter an amount in dollars and cents, like 215.40."]
    if amount != amount.quantize(CENT):
        return ["Use dollars and cents: at most two decimals."]
    if amount < 0 or (amount == 0 and not allow_zero):
        return ["Must be more than zero." if not allow_zero else "Must not be negative."]
    if amount > MAX_PAYMENT:
        return [f"Must be at most {MAX_PAYMENT:,}."]
    return []


def check_payment(loan: Loan, data: PaymentInput, policy: ServicingPolicy, today: dt.date) -> None:
    """Refuse a payment that cannot be right, naming each bad field; nothing is written."""
    errors: dict[str, list[str]] = {}
    if amount_errors := _amount_errors(data.amount):
        errors["amount"] = amount_errors
    latest = today + dt.timedelta(days=policy.max_future_days)
    if not isinstance(data.received_on, dt.date):
        errors["received_on"] = ["Enter the date the payment was received."]
    elif data.received_on > latest:
        errors["received_on"] = [f"The received date cannot be after {latest.isoformat()}."]
    elif data.received_on < loan.contract_date:
        errors["received_on"] = [
            f"The received date cannot be before the loan's contract date ({loan.contract_date.isoformat()})."
        ]
    if data.method not in PAYMENT_METHODS:
        errors["method"] = ["Choose one of: " + ", ".join(PAYMENT_METHODS) + "."]
    if len(data.reference or "") > 100:
        errors["reference"] = ["At most 100 characters."]
    if errors:
        raise InvalidInput(errors)


# --- locking and the state row ------------------------------------------------------------------------


def _locked_loan(loan_id: int) -> Loan:
    """The loan, locked for this transaction (PostgreSQL: FOR UPDATE; SQLite serialises writers)."""
    loan = db.session.scalar(
        select(Loan).where(Loan.id == loan_id).with_for_update().execution_options(populate_existing=True)
    )
    if loan is None:
        raise LoanNotFound()
    return loan


def state_row(loan: Loan, policy: ServicingPolicy) -> LoanServicing:
    """The loan's servicing row, created (as booked: nothing paid) if it has none yet."""
    row = db.session.get(LoanServicing, loan.id)
    if row is None:
        row = LoanServicing(
            loan_id=loan.id,
            principal_balance=loan.principal,
            accrued_interest=ZERO_ACCRUAL,
            interest_as_of=loan.contract_date,
            fees_due=ZERO,
            total_paid=ZERO,
            total_to_fees=ZERO,
            total_to_interest=ZERO,
            total_to_principal=ZERO,
            total_excess=ZERO,
            days_past_due=0,
            bucket=policy.current,
            version=1,
            updated_at=utcnow(),
        )
        db.session.add(row)
        db.session.flush()
    return row


def _claim_state_row(loan: Loan, policy: ServicingPolicy) -> LoanServicing:
    """Create or lock the servicing row by bumping its version, before anything else is written: a
    concurrent aging waits for us and then skips this loan (its version no longer matches)."""
    row = state_row(loan, policy)
    db.session.execute(
        update(LoanServicing)
        .where(LoanServicing.loan_id == loan.id)
        .values(version=LoanServicing.version + 1, updated_at=utcnow())
    )
    db.session.refresh(row)
    return row


# --- payments --------------------------------------------------------------------------------------


def _existing(key: str, content_hash: str) -> Payment | None:
    found = db.session.scalar(select(Payment).where(Payment.idempotency_key == key))
    if found is not None and found.request_hash != content_hash:
        raise IdempotencyConflict(key.split(":", 1)[-1])
    return found


def record_payment(loan_id: int, data: PaymentInput, *, actor: Any, key: str, source: str) -> PaymentResult:
    """Record a payment received and re-derive the loan from its received date.

    ``key`` is already scoped (:func:`scoped_key`, :func:`import_key`). The same key with the same
    content returns the first payment (``created`` False); with other content it is refused.
    """
    content = {
        "loan_id": loan_id,
        "amount": str(data.amount),
        "received_on": str(data.received_on),
        "method": data.method,
        "reference": (data.reference or "").strip(),
    }
    content_hash = _hash(content)
    existing = _existing(key, content_hash)
    if existing is not None:
        return PaymentResult(existing, created=False)
    policy = current_policy()
    today = business_date()
    loan = _locked_loan(loan_id)
    check_payment(loan, data, policy, today)
    if loan.status != LoanStatus.ACTIVE:
        raise LoanClosed(loan.status)
    excess_before = _total_excess(loan.id)
    guard = db.session.begin_nested()  # undone whole when an unconfirmed excess is found
    try:
        with db.session.begin_nested():
            payment = _new_payment(loan, data, content, key, content_hash, source, actor, today)
            db.session.add(payment)
            db.session.flush()
    except IntegrityError:
        # A twin request with the same key committed while we waited for the loan's lock.
        guard.rollback()
        twin = _existing(key, content_hash)
        if twin is None:
            raise
        return PaymentResult(twin, created=False)
    outcome = replay(loan, data.received_on, actor=actor, policy=policy, today=today)
    # An overpayment within the residual tolerance (the disclosed final payment a few dollars above
    # the payoff) closes out as a refund due without asking; more needs confirming.
    if not data.allow_excess and _total_excess(loan.id) - excess_before > policy.residual_tolerance:
        allocation = db.session.get(PaymentAllocation, payment.id)
        payoff = data.amount - (allocation.excess if allocation is not None else ZERO)
        guard.rollback()
        raise ExcessNotConfirmed(data.amount, payoff, data.received_on)
    guard.commit()
    record(
        "payment.recorded",
        "loan_payment",
        payment.id,
        actor=actor,
        details={
            "loan_id": loan.id,
            "amount": data.amount,
            "received_on": data.received_on,
            "method": data.method,
            "reference": content["reference"],
            "source": source,
            "backdated": outcome.replayed > 1,
            "payments_reallocated": outcome.replayed,
            "excess": _total_excess(loan.id) - excess_before,
        },
    )
    return PaymentResult(payment, created=True)


def reverse_payment(
    loan_id: int,
    payment_id: int,
    *,
    actor: Any,
    key: str,
    reason: str,
    returned_on: dt.date | None = None,
    source: str = "page",
    entered_in_error: bool = False,
) -> PaymentResult:
    """Reverse a returned payment: a new linked row; the loan is re-derived as if it never came.

    ``entered_in_error``: the payment was never received (a typo, the wrong loan) rather than
    returned; the borrower's history then leaves both rows out instead of showing money returned.
    """
    today = business_date()
    returned_on = returned_on or today
    content_hash = _hash(
        {
            "reverses": payment_id,
            "loan_id": loan_id,
            "reason": reason.strip(),
            "returned_on": str(returned_on),
            "entered_in_error": entered_in_error,
        }
    )
    existing = _existing(key, content_hash)
    if existing is not None:
        return PaymentResult(existing, created=False)
    policy = current_policy()
    loan = _locked_loan(loan_id)
    original = db.session.get(Payment, payment_id)
    if original is None or original.loan_id != loan.id or original.kind != "payment":
        raise PaymentNotFound()
    if db.session.scalar(select(Payment.id).where(Payment.reverses_id == original.id)) is not None:
        raise AlreadyReversed(original.id)
    if loan.status == LoanStatus.CHARGED_OFF:
        raise LoanClosed(loan.status, "have payments reversed")
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["Say why the payment is reversed (e.g. returned for insufficient funds)."]
    elif len(reason) > 500:
        errors["reason"] = ["At most 500 characters."]
    if returned_on < original.received_on:
        errors["returned_on"] = [
            f"A payment cannot come back before it was received ({original.received_on})."
        ]
    elif returned_on > today:
        errors["returned_on"] = ["The returned date cannot be in the future."]
    if errors:
        raise InvalidInput(errors)
    try:
        with db.session.begin_nested():
            reversal = Payment(
                loan_id=loan.id,
                kind="reversal",
                amount=original.amount,
                received_on=returned_on,
                method=original.method,
                reference=original.reference,
                source=source,
                idempotency_key=key,
                request_hash=content_hash,
                reverses_id=original.id,
                reason=reason.strip(),
                entered_in_error=entered_in_error,
                posted_on=today,
                recorded_by=getattr(actor, "id", None),
                recorded_at=utcnow(),
            )
            db.session.add(reversal)
            db.session.flush()
    except IntegrityError:
        twin = _existing(key, content_hash)
        if twin is None:
            raise AlreadyReversed(original.id) from None
        return PaymentResult(twin, created=False)
    outcome = replay(loan, original.received_on, actor=actor, policy=policy, today=today)
    record(
        "payment.reversed",
        "loan_payment",
        original.id,
        actor=actor,
        details={
            "loan_id": loan.id,
            "reversal_id": reversal.id,
            "amount": original.amount,
            "received_on": original.received_on,
            "returned_on": returned_on,
            "reason": reason.strip(),
            "entered_in_error": entered_in_error,
            "payments_reallocated": outcome.replayed,
        },
    )
    return PaymentResult(reversal, created=True)


def _total_excess(loan_id: int) -> Decimal:
    total = db.session.scalar(
        select(func.coalesce(func.sum(PaymentAllocation.excess), 0)).where(
            PaymentAllocation.loan_id == loan_id
        )
    )
    return money(Decimal(str(total)))


# --- the replay ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayOutcome:
    replayed: int  # standing payments re-applied
    fees_assessed: int


def _standing_payments(loan_id: int, since: dt.date) -> list[Payment]:
    reversed_ids = select(Payment.reverses_id).where(
        Payment.loan_id == loan_id, Payment.reverses_id.is_not(None)
    )
    return list(
        db.session.scalars(
            select(Payment)
            .where(
                Payment.loan_id == loan_id,
                Payment.kind == "payment",
                Payment.received_on >= since,
                Payment.id.not_in(reversed_ids),
            )
            .order_by(Payment.received_on, Payment.id)
        )
    )


def replay(
    loan: Loan,
    since: dt.date,
    *,
    actor: Any,
    policy: ServicingPolicy | None = None,
    today: dt.date | None = None,
) -> ReplayOutcome:
    """Re-derive the loan from ``since``: allocations, state, days past due, bucket history, status."""
    policy = policy or current_policy()
    today = today or business_date()
    row = _claim_state_row(loan, policy)
    schedule = queries.schedule_of(loan)

    start = db.session.scalar(
        select(PaymentAllocation)
        .where(PaymentAllocation.loan_id == loan.id, PaymentAllocation.received_on < since)
        .order_by(PaymentAllocation.sequence.desc())
        .limit(1)
    )
    if start is None:
        state = LoanState.opened(loan.principal, loan.annual_rate, loan.contract_date)
        credited, sequence, from_day = ZERO, 0, loan.contract_date
    else:
        state = LoanState(
            principal_balance=start.principal_after,
            accrued_interest=Decimal(start.accrued_after).quantize(ZERO_ACCRUAL),
            fees_due=start.fees_after,
            as_of=start.received_on,
            annual_rate=loan.annual_rate,
        )
        credited, sequence, from_day = start.credited_after, start.sequence, start.received_on
    withdrawn = _withdraw_adjustments(loan.id, sequence, from_day)
    db.session.execute(
        delete(PaymentAllocation).where(
            PaymentAllocation.loan_id == loan.id, PaymentAllocation.sequence > sequence
        )
    )
    payments = _standing_payments(loan.id, since)

    # Late fees: one per installment still unpaid ``grace`` days after its due date, assessed after
    # that day's payments; only checkpoints from the replay's starting day through today. No
    # pyramiding: what a payment pays toward fees still counts toward the installments (module
    # docstring), so one late payment draws one fee.
    cumulative: list[Decimal] = []
    running = ZERO
    for row_ in schedule:
        running += row_.amount
        cumulative.append(running)
    checkpoints: list[tuple[dt.date, int]] = []
    if policy.late_fees:
        grace = dt.timedelta(days=policy.late_fee_grace_days)
        checkpoints = [
            (inst.due_date + grace, k)
            for k, inst in enumerate(schedule)
            if from_day <= inst.due_date + grace <= today
        ]
    events: list[tuple[dt.date, int, Any]] = [(p.received_on, 0, p) for p in payments]
    events += [(day, 1, k) for day, k in checkpoints]
    # Closing checks, after each day's payments and fees: the maturity date, and every later day
    # with a payment (a residual paid down to the tolerance after maturity closes then).
    maturity = loan.maturity_date
    closing_days = {p.received_on for p in payments} | {maturity, from_day}
    events += [(day, 2, 0) for day in sorted(closing_days) if maturity <= day <= today and day >= from_day]
    events.sort(key=lambda e: (e[0], e[1], e[2].id if e[1] == 0 else e[2]))

    fees = 0
    rows: list[dict[str, Any]] = []
    adjustments: list[dict[str, Any]] = []
    for day, kind, item in events:
        if kind == 1:
            if state.principal_balance > 0 and credited < cumulative[item] - policy.tolerance:
                state = assess_fee(state, policy.late_fee)
                fees += 1
            continue
        if kind == 2:
            state, written_off = close_small_balance(state, day, policy.residual_tolerance)
            if written_off is not None:
                adjustments.append(
                    {
                        "loan_id": loan.id,
                        "kind": "write_off",
                        "effective_on": day,
                        "amount": written_off.applied,
                        "to_fees": written_off.to_fees,
                        "to_interest": written_off.to_interest,
                        "to_principal": written_off.to_principal,
                        "payment_id": None,
                        "created_at": utcnow(),
                    }
                )
            continue
        state, split = apply_payment(state, item.amount, day)
        if split.excess > 0:
            adjustments.append(
                {
                    "loan_id": loan.id,
                    "kind": "refund_due",
                    "effective_on": day,
                    "amount": split.excess,
                    "to_fees": ZERO,
                    "to_interest": ZERO,
                    "to_principal": ZERO,
                    "payment_id": item.id,
                    "created_at": utcnow(),
                }
            )
        sequence += 1
        credited += split.applied  # fees included: no pyramiding (module docstring)
        rows.append(
            {
                "payment_id": item.id,
                "loan_id": loan.id,
                "sequence": sequence,
                "received_on": day,
                "to_fees": split.to_fees,
                "to_interest": split.to_interest,
                "to_principal": split.to_principal,
                "excess": split.excess,
                "principal_after": state.principal_balance,
                "accrued_after": state.accrued_interest,
                "fees_after": state.fees_due,
                "credited_after": credited,
            }
        )
    if rows:
        db.session.execute(insert(PaymentAllocation), rows)
    if adjustments:
        db.session.execute(insert(Adjustment), adjustments)
    _audit_adjustments(loan, withdrawn, adjustments, actor=actor)

    totals = db.session.execute(
        select(
            func.coalesce(func.sum(Payment.amount), 0),
            func.coalesce(func.sum(PaymentAllocation.to_fees), 0),
            func.coalesce(func.sum(PaymentAllocation.to_interest), 0),
            func.coalesce(func.sum(PaymentAllocation.to_principal), 0),
            func.coalesce(func.sum(PaymentAllocation.excess), 0),
            func.max(PaymentAllocation.received_on),
        )
        .select_from(PaymentAllocation)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.loan_id == loan.id)
    ).one()
    paid_off_dates = [
        db.session.scalar(
            select(func.min(PaymentAllocation.received_on)).where(
                PaymentAllocation.loan_id == loan.id, PaymentAllocation.principal_after == 0
            )
        ),
        db.session.scalar(
            select(func.min(Adjustment.effective_on)).where(
                Adjustment.loan_id == loan.id, Adjustment.kind == "write_off"
            )
        ),
    ]
    paid_off_on = min((d for d in paid_off_dates if d is not None), default=None)
    row.principal_balance = state.principal_balance
    row.accrued_interest = state.accrued_interest
    row.interest_as_of = state.as_of
    row.fees_due = state.fees_due
    row.total_paid, row.total_to_fees, row.total_to_interest, row.total_to_principal, row.total_excess = (
        money(Decimal(str(v))) for v in totals[:5]
    )
    row.last_payment_on = totals[5]
    row.paid_off_on = paid_off_on
    _move_status(loan, row, actor=actor, today=today)
    refresh_delinquency(loan, row, since, policy=policy, today=today, schedule=schedule)
    return ReplayOutcome(replayed=len(payments), fees_assessed=fees)


def _adjustment_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (
        entry["kind"],
        entry["effective_on"],
        money(Decimal(str(entry["amount"]))),
        entry["payment_id"],
    )


def _withdraw_adjustments(loan_id: int, sequence: int, from_day: dt.date) -> list[dict[str, Any]]:
    """Delete the closing adjustments a replay from ``from_day`` (after allocation ``sequence``)
    re-derives, returning them so the replay can audit what changed: write-offs dated from that
    day on, refunds due on the payments whose allocations are re-derived."""
    replayed = select(PaymentAllocation.payment_id).where(
        PaymentAllocation.loan_id == loan_id, PaymentAllocation.sequence > sequence
    )
    condition = (Adjustment.loan_id == loan_id) & (
        ((Adjustment.kind == "write_off") & (Adjustment.effective_on >= from_day))
        | ((Adjustment.kind == "refund_due") & Adjustment.payment_id.in_(replayed))
    )
    old = [
        {
            "kind": a.kind,
            "effective_on": a.effective_on,
            "amount": a.amount,
            "payment_id": a.payment_id,
            "to_fees": a.to_fees,
            "to_interest": a.to_interest,
            "to_principal": a.to_principal,
        }
        for a in db.session.scalars(select(Adjustment).where(condition))
    ]
    if old:
        db.session.execute(delete(Adjustment).where(condition))
    return old


def _audit_adjustments(
    loan: Loan, withdrawn: list[dict[str, Any]], derived: list[dict[str, Any]], *, actor: Any
) -> None:
    """One audit event per closing adjustment that a replay created or took back (one re-derived
    unchanged is not news)."""
    before = {_adjustment_key(a): a for a in withdrawn}
    after = {_adjustment_key(a): a for a in derived}
    for key, entry in after.items():
        if key in before:
            continue
        action = "loan.small_balance_written_off" if entry["kind"] == "write_off" else "loan.refund_due"
        record(
            action,
            "loan",
            loan.id,
            actor=actor,
            details={
                "effective_on": entry["effective_on"],
                "amount": entry["amount"],
                "to_fees": entry["to_fees"],
                "to_interest": entry["to_interest"],
                "to_principal": entry["to_principal"],
                "payment_id": entry["payment_id"],
            },
        )
    for key, entry in before.items():
        if key not in after:
            record(
                "loan.adjustment_withdrawn",
                "loan",
                loan.id,
                actor=actor,
                details={
                    "kind": entry["kind"],
                    "effective_on": entry["effective_on"],
                    "amount": entry["amount"],
                    "payment_id": entry["payment_id"],
                    "reason": "the payments it followed from changed",
                },
            )


def _move_status(loan: Loan, row: LoanServicing, *, actor: Any, today: dt.date) -> None:
    """Paid off when no principal is left (the commitment goes back to the reserve); back to active
    when a paid-off loan owes again (the release is reversed)."""
    actor_id = getattr(actor, "id", None) or loan.booked_by
    if row.principal_balance == 0 and loan.status == LoanStatus.ACTIVE:
        loan.status = check_transition(loan.status, LoanStatus.PAID_OFF).value
        loan.updated_at = utcnow()
        released = _release_commitment(loan, actor_id, row.paid_off_on or today, today)
        record(
            "loan.paid_off",
            "loan",
            loan.id,
            actor=actor,
            details={"paid_off_on": row.paid_off_on, "reserve_release_transaction_id": released},
        )
    elif row.principal_balance > 0 and loan.status == LoanStatus.PAID_OFF:
        loan.status = check_transition(loan.status, LoanStatus.ACTIVE).value
        loan.updated_at = utcnow()
        reversed_id = _reverse_release(loan, actor_id, today)
        record(
            "loan.payoff_reversed",
            "loan",
            loan.id,
            actor=actor,
            details={
                "principal_balance": row.principal_balance,
                "reserve_reversal_transaction_id": reversed_id,
            },
        )


def _releases(loan_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(TransactionRow.id)
            .where(
                TransactionRow.loan_id == loan_id, TransactionRow.kind == str(reserve.TransactionKind.RELEASE)
            )
            .order_by(TransactionRow.id)
        )
    )


def _release_commitment(loan: Loan, actor_id: int, paid_off_on: dt.date, today: dt.date) -> int | None:
    """Return what the loan's commitment has left to the available reserve (dated today: the reserve's
    books record when it happened). None when nothing is left to release."""
    try:
        with db.session.begin_nested():
            release = reserve.release_commitment(
                db.session,
                key=f"loan-{loan.id}-release-{len(_releases(loan.id)) + 1}",
                actor_id=actor_id,
                loan_id=loan.id,
                effective_date=today,
                memo=f"Loan {loan.id} paid off on {paid_off_on.isoformat()}",
            )
    except reserve.NoOpenCommitment:
        return None
    return release.id


def _reverse_release(loan: Loan, actor_id: int, today: dt.date) -> int | None:
    reversed_ids = select(TransactionRow.reverses_id).where(TransactionRow.reverses_id.is_not(None))
    release_id = db.session.scalar(
        select(TransactionRow.id)
        .where(
            TransactionRow.loan_id == loan.id,
            TransactionRow.kind == str(reserve.TransactionKind.RELEASE),
            TransactionRow.id.not_in(reversed_ids),
        )
        .order_by(TransactionRow.id.desc())
        .limit(1)
    )
    if release_id is None:
        return None
    reversal = reserve.reverse(
        db.session,
        key=f"loan-{loan.id}-release-{release_id}-reversal",
        actor_id=actor_id,
        transaction_id=release_id,
        effective_date=today,
        reason=f"Loan {loan.id} owes again: its payoff was reversed",
        follows_loan=True,  # the loan's own change: its payoff payment was reversed
    )
    return reversal.id


# --- delinquency and bucket history ------------------------------------------------------------------


def credits_of(loan_id: int) -> list[delinquency.Credit]:
    """The loan's position after each received date (the last payment of the day)."""
    by_day: dict[dt.date, delinquency.Credit] = {}
    for received_on, credited, balance in db.session.execute(
        select(
            PaymentAllocation.received_on, PaymentAllocation.credited_after, PaymentAllocation.principal_after
        )
        .where(PaymentAllocation.loan_id == loan_id)
        .order_by(PaymentAllocation.sequence)
    ):
        by_day[received_on] = delinquency.Credit(received_on, money(credited), money(balance))
    return list(by_day.values())


def refresh_delinquency(
    loan: Loan,
    row: LoanServicing,
    since: dt.date,
    *,
    policy: ServicingPolicy,
    today: dt.date,
    schedule: Sequence[delinquency.Installment] | None = None,
) -> None:
    """Days past due and bucket as of today, and the bucket history rewritten from ``since``."""
    # Hardship plans (loanapp.collections) change the schedule from their effective dates.
    versions = queries.schedule_versions(loan)
    if len(versions) == 1 and schedule is not None:
        versions = [(versions[0][0], schedule)]
    schedule = hardship.in_force(versions, today)
    credits = credits_of(loan.id)
    positions.refresh_loan_month_ends(
        loan, row, since, schedule=schedule, credits=credits, policy=policy, versions=versions
    )
    position = queries.position_on(credits, loan.principal, today)
    if loan.status == LoanStatus.PAID_OFF:
        row.days_past_due, row.bucket = 0, delinquency.PAID_OFF
    elif loan.status == LoanStatus.CHARGED_OFF:
        row.bucket = delinquency.CHARGED_OFF
    else:
        days = delinquency.days_past_due(
            today, schedule, position.credited, tolerance=policy.tolerance, balance=position.balance
        )
        row.days_past_due = days
        row.bucket = policy.buckets.labels[max(policy.buckets.index_for(days), 0)]
    row.aged_on = today
    row.updated_at = utcnow()

    open_row = db.session.scalar(
        select(BucketHistory).where(BucketHistory.loan_id == loan.id, BucketHistory.closed_on.is_(None))
    )
    start = min(since, open_row.opened_on if open_row is not None else loan.contract_date, today)
    start = max(start, loan.contract_date)
    if open_row is None and not db.session.scalar(
        select(func.count()).select_from(BucketHistory).where(BucketHistory.loan_id == loan.id)
    ):
        start = loan.contract_date
    ended: tuple[dt.date, str] | None = None
    if loan.status == LoanStatus.PAID_OFF and row.paid_off_on is not None:
        ended = (row.paid_off_on, delinquency.PAID_OFF)
    elif loan.status == LoanStatus.CHARGED_OFF:
        charged = db.session.scalar(select(ChargeOff.charged_off_on).where(ChargeOff.loan_id == loan.id))
        if charged is not None:
            ended = (charged, delinquency.CHARGED_OFF)
    segments = hardship.timeline(
        versions,
        loan.principal,
        credits,
        start,
        max(today, start),
        tolerance=policy.tolerance,
        scheme=policy.buckets,
        ended=ended,
    )
    write_history(loan.id, start, segments)


def write_history(loan_id: int, start: dt.date, segments: Sequence[delinquency.Segment]) -> None:
    """Replace the loan's bucket history from ``start`` with ``segments`` (the first opens on ``start``).

    The row covering the day before ``start`` is extended when it has the first segment's bucket,
    so the history never shows the same bucket twice in a row.
    """
    db.session.flush()
    db.session.execute(
        delete(BucketHistory).where(BucketHistory.loan_id == loan_id, BucketHistory.opened_on >= start)
    )
    before = db.session.execute(
        select(BucketHistory.id, BucketHistory.bucket)
        .where(BucketHistory.loan_id == loan_id, BucketHistory.opened_on < start)
        .order_by(BucketHistory.opened_on.desc())
        .limit(1)
    ).one_or_none()
    segments = list(segments)
    if before is not None:
        same = bool(segments) and segments[0].bucket == before.bucket
        closes = segments.pop(0).closed_on if same else start
        db.session.execute(
            update(BucketHistory).where(BucketHistory.id == before.id).values(closed_on=closes)
        )
    if segments:
        db.session.execute(
            insert(BucketHistory),
            [
                {"loan_id": loan_id, "bucket": s.bucket, "opened_on": s.opened_on, "closed_on": s.closed_on}
                for s in segments
            ],
        )
    db.session.expire_all()


# --- charge-off and recoveries -------------------------------------------------------------------------


def charge_off(loan_id: int, data: ChargeOffInput, *, actor: Any) -> ChargeOff:
    """Charge off a loan at or past the policy's days past due, and file its reserve claim.

    The claim is for the balance at charge-off (principal, interest accrued to today, unpaid fees)
    plus allowed collection costs, less what the car brought in; a staff member decides it.
    """
    policy = current_policy()
    today = business_date()
    loan = _locked_loan(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise LoanClosed(loan.status, "be charged off")
    errors: dict[str, list[str]] = {}
    if data.collateral_status not in COLLATERAL_STATUSES:
        errors["collateral_status"] = ["Choose the car's status."]
    for field in ("collateral_proceeds", "allowed_costs"):
        if problems := _amount_errors(getattr(data, field), field, allow_zero=True):
            errors[field] = problems
    if len(data.memo or "") > 2000:
        errors["memo"] = ["At most 2000 characters."]
    if errors:
        raise InvalidInput(errors)
    row = _claim_state_row(loan, policy)
    position = queries.loan_position(loan, today, policy=policy, row=row)
    if position.standing.days_past_due < policy.charge_off_days:
        raise NotEligibleForChargeOff(position.standing.days_past_due, policy.charge_off_days)
    balance = position.principal_balance + position.accrued_interest + position.fees_due
    if balance + data.allowed_costs - data.collateral_proceeds <= 0:
        raise InvalidInput(
            {
                "collateral_proceeds": [
                    "The car brought in more than the loan owes: there is no loss to claim."
                ]
            }
        )
    costs = (
        [reserve.CostItem(reserve.CostKind.OTHER, data.allowed_costs, "collection costs at charge-off")]
        if data.allowed_costs > 0
        else []
    )
    try:
        claim = reserve_actions.file_claim(
            actor,
            f"charge-off-loan-{loan.id}",
            loan.id,
            costs,
            data.collateral_proceeds,
            today,
            data.memo or f"Loan {loan.id} charged off at {position.standing.days_past_due} days past due",
            charge_off=reserve.ChargeOffRecord(loan.id, today, balance),
        )
    except reserve.ReserveError as exc:
        field = exc.field if exc.field in ("allowed_costs", "collateral_proceeds") else "_schema"
        raise InvalidInput({field: [str(exc)]}, str(exc)) from exc
    entry = ChargeOff(
        loan_id=loan.id,
        charged_off_on=today,
        days_past_due=position.standing.days_past_due,
        principal_balance=position.principal_balance,
        accrued_interest=position.accrued_interest,
        fees_due=position.fees_due,
        collateral_status=data.collateral_status,
        collateral_proceeds=data.collateral_proceeds,
        allowed_costs=data.allowed_costs,
        claim_id=claim.id,
        memo=data.memo or "",
        charged_off_by=actor.id,
        recorded_at=utcnow(),
    )
    db.session.add(entry)
    loan.status = check_transition(loan.status, LoanStatus.CHARGED_OFF).value
    loan.updated_at = utcnow()
    db.session.flush()
    row.days_past_due = position.standing.days_past_due
    refresh_delinquency(loan, row, today, policy=policy, today=today)
    record(
        "loan.charged_off",
        "loan",
        loan.id,
        actor=actor,
        details={
            "days_past_due": entry.days_past_due,
            "principal_balance": entry.principal_balance,
            "accrued_interest": entry.accrued_interest,
            "fees_due": entry.fees_due,
            "collateral_status": entry.collateral_status,
            "collateral_proceeds": entry.collateral_proceeds,
            "allowed_costs": entry.allowed_costs,
            "claim_id": claim.id,
        },
    )
    return entry


def record_recovery(
    loan_id: int,
    amount: Decimal,
    received_on: dt.date,
    *,
    actor: Any,
    key: str,
    reference: str = "",
) -> Recovery:
    """Money recovered after charge-off. What the reserve paid on the loan's claim goes back to the
    reserve first (``reserve.record_recovery``); the rest is the credit union's."""
    existing = db.session.scalar(select(Recovery).where(Recovery.idempotency_key == key))
    if existing is not None:
        return existing
    today = business_date()
    loan = _locked_loan(loan_id)
    if loan.status != LoanStatus.CHARGED_OFF:
        raise NotChargedOff()
    entry = db.session.scalar(select(ChargeOff).where(ChargeOff.loan_id == loan.id))
    assert entry is not None
    errors: dict[str, list[str]] = {}
    if problems := _amount_errors(amount):
        errors["amount"] = problems
    if received_on > today or received_on < entry.charged_off_on:
        errors["received_on"] = [
            f"Enter a date from the charge-off ({entry.charged_off_on.isoformat()}) to today."
        ]
    if len(reference) > 100:
        errors["reference"] = ["At most 100 characters."]
    if errors:
        raise InvalidInput(errors)
    from reserve.claims import recovered_cents

    claim = reserve.get_claim(db.session, entry.claim_id)
    to_reserve = ZERO
    transaction_id = None
    if claim.status is reserve.ClaimStatus.PAID:
        room = claim.paid - Decimal(recovered_cents(db.session, claim.id)) / 100
        to_reserve = min(amount, max(room, ZERO))
        if to_reserve > 0:
            transaction = reserve_actions.recovery(
                actor,
                f"loan-{loan.id}-recovery-{key}"[-MAX_KEY_LENGTH:],
                claim.id,
                to_reserve,
                received_on,
                f"Recovery on charged-off loan {loan.id}" + (f" ({reference})" if reference else ""),
            )
            transaction_id = transaction.id
    recovery = Recovery(
        loan_id=loan.id,
        amount=amount,
        received_on=received_on,
        reference=reference,
        idempotency_key=key,
        to_reserve=to_reserve,
        reserve_transaction_id=transaction_id,
        recorded_by=actor.id,
        recorded_at=utcnow(),
    )
    db.session.add(recovery)
    db.session.flush()
    record(
        "loan.recovery",
        "loan",
        loan.id,
        actor=actor,
        details={
            "amount": amount,
            "received_on": received_on,
            "to_reserve": to_reserve,
            "claim_id": claim.id,
        },
    )
    return recovery


def accrued_on(row: LoanServicing, annual_rate: Decimal, on: dt.date) -> LoanState:
    """The stored state with interest accrued to ``on`` (never before the state's own date)."""
    state = LoanState(
        principal_balance=row.principal_balance,
        accrued_interest=Decimal(row.accrued_interest).quantize(ZERO_ACCRUAL),
        fees_due=row.fees_due,
        as_of=row.interest_as_of,
        annual_rate=annual_rate,
    )
    return accrue(state, max(on, state.as_of))


def record_payments(
    loan_id: int, items: Sequence[tuple[PaymentInput, str]], *, actor: Any, source: str
) -> list[PaymentResult]:
    """Record several payments of one loan together and re-derive it once (a core-system file's
    rows for a loan, the demo's history): each checked and keyed exactly as :func:`record_payment`
    does, the whole set refused when one is bad, then one replay from the earliest received date.

    The stored state is the same as after recording them one by one (the replay rule: the state is
    that of date-order arrival); the audit trail gets one ``payment.recorded`` per payment.
    """
    policy = current_policy()
    today = business_date()
    loan = _locked_loan(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise LoanClosed(loan.status)
    results: list[PaymentResult | None] = []
    fresh: list[tuple[int, PaymentInput, dict[str, str], str, str]] = []
    known = {
        payment.idempotency_key: payment
        for payment in db.session.scalars(
            select(Payment).where(Payment.idempotency_key.in_([key for _data, key in items]))
        )
    }
    for index, (data, key) in enumerate(items):
        content = {
            "loan_id": loan_id,
            "amount": str(data.amount),
            "received_on": str(data.received_on),
            "method": data.method,
            "reference": (data.reference or "").strip(),
        }
        content_hash = _hash(content)
        existing = known.get(key)
        if existing is not None:
            if existing.request_hash != content_hash:
                raise IdempotencyConflict(key.split(":", 1)[-1])
            results.append(PaymentResult(existing, created=False))
            continue
        check_payment(loan, data, policy, today)
        results.append(None)
        fresh.append((index, data, content, key, content_hash))
    if not fresh:
        return [r for r in results if r is not None]
    payments = [
        _new_payment(loan, data, content, key, content_hash, source, actor, today)
        for _index, data, content, key, content_hash in fresh
    ]
    db.session.add_all(payments)
    db.session.flush()
    ids = [payment.id for payment in payments]  # read now: the replay expires every loaded object
    outcome = replay(
        loan, min(entry[1].received_on for entry in fresh), actor=actor, policy=policy, today=today
    )
    for (index, data, content, *_keys), payment, payment_id in zip(fresh, payments, ids, strict=True):
        record(
            "payment.recorded",
            "loan_payment",
            payment_id,
            actor=actor,
            details={
                "loan_id": loan.id,
                "amount": data.amount,
                "received_on": data.received_on,
                "method": data.method,
                "reference": content["reference"],
                "source": source,
                "backdated": outcome.replayed > len(fresh),
                "payments_reallocated": outcome.replayed,
                "recorded_together": len(fresh),
            },
        )
        results[index] = PaymentResult(payment, created=True)
    return [r for r in results if r is not None]


def _new_payment(
    loan: Loan,
    data: Any,
    content: dict[str, Any],
    key: str | None,
    content_hash: str,
    source: str,
    actor: Any,
    today: dt.date,
) -> Payment:
    """The payment row as posted today, for one recorded payment or a batch of them."""
    return Payment(
        loan_id=loan.id,
        kind="payment",
        amount=data.amount,
        received_on=data.received_on,
        method=data.method,
        reference=content["reference"],
        source=source,
        idempotency_key=key,
        request_hash=content_hash,
        posted_on=today,
        recorded_by=getattr(actor, "id", None),
        recorded_at=utcnow(),
    )
