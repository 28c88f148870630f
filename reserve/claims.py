"""Claims on the reserve: filing by an officer, approval (and payment) or rejection by someone else.

A claim row is not a ledger posting: its money moves in the ledger (a ``claim_payment`` transaction,
then a ``release`` of whatever the loan's commitment had left), while its status moves only through
:func:`reserve.domain.claim_transition`, each move recorded as an append-only ``reserve_claim_event``.

Payment rule (Capital Access style): the reserve pays up to the policy's cap, first from the loan's own
commitment, then, when the policy is pooled, from the available reserve, never beyond what is there.
A claim the reserve can only partly cover is paid in part and closed; the shortfall is on the claim.
Once a claim is paid, the loan is over: what its commitment had left goes back to available at once
(a recovery later does not release anything again).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from risk.money import from_cents
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reserve.domain import (
    AccountKind,
    ChargeOffRecord,
    Claim,
    ClaimDecision,
    ClaimEvent,
    ClaimEventKind,
    ClaimStatus,
    CostItem,
    CostKind,
    PostingLimits,
    ReservePolicy,
    TransactionKind,
    claim_transition,
    non_negative_amount,
    positive_amount,
)
from reserve.errors import (
    ClaimExists,
    ClaimNotFound,
    IllegalClaimTransition,
    InsufficientReserve,
    InvalidAmount,
    InvalidClaim,
    NotChargedOff,
    SameActor,
)
from reserve.ledger import (
    AVAILABLE,
    CLAIMS_PAID,
    Leg,
    Outcome,
    Request,
    aware,
    cents_of,
    closed_through,
    commitment_of,
    dollars,
    ensure_accounts,
    find_account,
    load_transaction,
    post,
    require_open,
    spendable_cents,
    utcnow,
)
from reserve.schema import SANCTIONED_WRITE, AccountRow, ClaimEventRow, ClaimRow, PostingRow, TransactionRow

# --- reading --------------------------------------------------------------------------------------


def get_claim(session: Session, claim_id: int) -> Claim:
    """The claim with its history, as a value object."""
    row = session.execute(select(ClaimRow.__table__).where(ClaimRow.id == claim_id)).one_or_none()
    if row is None:
        raise ClaimNotFound(f"no reserve claim {claim_id}")
    events = session.execute(
        select(ClaimEventRow.__table__).where(ClaimEventRow.claim_id == claim_id).order_by(ClaimEventRow.id)
    ).all()
    return Claim(
        id=row.id,
        loan_id=row.loan_id,
        status=ClaimStatus(row.status),
        charged_off_on=row.charged_off_on,
        balance_at_charge_off=from_cents(row.balance_at_charge_off_cents),
        allowed_costs=from_cents(row.allowed_costs_cents),
        collateral_proceeds=from_cents(row.collateral_proceeds_cents),
        loss=from_cents(row.loss_cents),
        filed_by=row.filed_by,
        memo=row.memo,
        cost_items=tuple(
            CostItem(
                CostKind(i["kind"]), from_cents(cents_of(Decimal(i["amount"]))), i.get("description", "")
            )
            for i in json.loads(row.cost_items or "[]")
        ),
        events=tuple(
            ClaimEvent(
                kind=ClaimEventKind(e.kind),
                status=ClaimStatus(e.status),
                on_date=e.on_date,
                actor_id=e.actor_id,
                recorded_at=aware(e.recorded_at),
                transaction_id=e.transaction_id,
                release_transaction_id=e.release_transaction_id,
                cap=None if e.cap_cents is None else from_cents(e.cap_cents),
                paid=None if e.paid_cents is None else from_cents(e.paid_cents),
                note=e.note,
            )
            for e in events
        ),
    )


def list_claims(
    session: Session, *, status: ClaimStatus | None = None, loan_id: int | None = None
) -> list[Claim]:
    """Claims, newest first, optionally of one status or one loan."""
    query = select(ClaimRow.id).order_by(ClaimRow.id.desc())
    if status is not None:
        query = query.where(ClaimRow.status == str(status))
    if loan_id is not None:
        query = query.where(ClaimRow.loan_id == loan_id)
    return [get_claim(session, claim_id) for claim_id in session.scalars(query)]


# --- the one place a claim's status changes -------------------------------------------------------


def transition(
    session: Session,
    claim_id: int,
    event: ClaimEventKind,
    *,
    on_date: date,
    actor_id: int,
    transaction_id: int | None = None,
    release_transaction_id: int | None = None,
    cap_cents: int | None = None,
    paid_cents: int | None = None,
    note: str = "",
) -> ClaimStatus:
    """Move the claim (locked ``FOR UPDATE``) to its next status and record the event; refuse illegal moves."""
    row = session.execute(
        select(ClaimRow.status, ClaimRow.loss_cents).where(ClaimRow.id == claim_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise ClaimNotFound(f"no reserve claim {claim_id}")
    current = ClaimStatus(row.status)
    new = claim_transition(current, event)
    last_date = session.scalar(
        select(func.max(ClaimEventRow.on_date)).where(ClaimEventRow.claim_id == claim_id)
    )
    if last_date is not None and on_date < last_date:
        # Keeps "status as of a date" well defined: events are in date order.
        raise IllegalClaimTransition(
            f"claim {claim_id} has an event on {last_date}; {event} cannot be dated {on_date}"
        )
    session.execute(
        update(ClaimRow)
        .where(ClaimRow.id == claim_id, ClaimRow.status == str(current))
        .values(status=str(new))
        .execution_options(**{SANCTIONED_WRITE: "claim_transition"})
    )
    _record_event(
        session,
        claim_id,
        event,
        new,
        pending_delta=_pending_delta(current, new, row.loss_cents),
        on_date=on_date,
        actor_id=actor_id,
        transaction_id=transaction_id,
        release_transaction_id=release_transaction_id,
        cap_cents=cap_cents,
        paid_cents=paid_cents,
        note=note,
    )
    return new


def _pending_delta(current: ClaimStatus | None, new: ClaimStatus, loss_cents: int) -> int:
    was = current is ClaimStatus.PENDING
    now = new is ClaimStatus.PENDING
    return loss_cents * (int(now) - int(was))


def _record_event(
    session: Session,
    claim_id: int,
    event: ClaimEventKind,
    status: ClaimStatus,
    *,
    pending_delta: int,
    on_date: date,
    actor_id: int,
    transaction_id: int | None = None,
    release_transaction_id: int | None = None,
    cap_cents: int | None = None,
    paid_cents: int | None = None,
    note: str = "",
) -> None:
    # A claim's history is dated like postings: nothing lands in a closed month, so "claims pending
    # as of" a closed date never changes.
    require_open(closed_through(session, lock="share"), on_date)
    session.execute(
        insert(ClaimEventRow).values(
            claim_id=claim_id,
            kind=str(event),
            status=str(status),
            on_date=on_date,
            actor_id=actor_id,
            recorded_at=utcnow(),
            transaction_id=transaction_id,
            release_transaction_id=release_transaction_id,
            pending_delta_cents=pending_delta,
            cap_cents=cap_cents,
            paid_cents=paid_cents,
            note=note,
        )
    )


def _filed_by(session: Session, claim_id: int) -> tuple[int, int]:
    row = session.execute(
        select(ClaimRow.filed_by, ClaimRow.loan_id).where(ClaimRow.id == claim_id)
    ).one_or_none()
    if row is None:
        raise ClaimNotFound(f"no reserve claim {claim_id}")
    return row.filed_by, row.loan_id


def _check_not_filer(filed_by: int, actor_id: int, claim_id: int) -> None:
    if filed_by == actor_id:
        raise SameActor(f"claim {claim_id} was filed by user {actor_id}; another person must decide it")


# --- operations -----------------------------------------------------------------------------------


def file_claim(
    session: Session,
    *,
    key: str,
    actor_id: int,
    charge_off: ChargeOffRecord,
    allowed_costs: Sequence[CostItem] = (),
    collateral_proceeds: Decimal | int | str = 0,
    filed_on: date,
    memo: str = "",
    limits: PostingLimits | None = None,
) -> Claim:
    """File a claim for a charged-off loan: loss = balance at charge-off + allowed costs - collateral proceeds.

    The balance and the charge-off date come from the loan's own charge-off record, never from the
    person filing; the costs are itemised and bounded (``limits``); proceeds cannot exceed what is
    owed (there would be no loss). The loan must be one the reserve backs (it has a commitment) that
    was not paid off, and it has at most one open (pending or paid) claim. ``actor_id`` is the officer
    filing it; that person cannot approve it. Maker-checker is a second control, not the only one.
    """
    limits = limits or PostingLimits()
    balance = non_negative_amount(charge_off.balance, "balance at charge-off")
    items = _cost_items(allowed_costs, limits)
    costs = sum((item.amount for item in items), Decimal("0.00"))
    try:
        proceeds = non_negative_amount(collateral_proceeds, "collateral proceeds")
    except InvalidAmount as exc:
        exc.field = "collateral_proceeds"
        raise
    loss = balance + costs - proceeds
    if loss <= 0:
        raise InvalidClaim(
            f"no loss to claim: {balance} + {costs} - {proceeds} = {loss}", field="collateral_proceeds"
        )
    if loss > limits.max_claim:
        raise InvalidClaim(
            f"a loss of {loss} is above the program's limit for one claim ({limits.max_claim})",
            field="loan_id",
        )
    limits.date(filed_on, what="filing date", field="filed_on")
    if filed_on < charge_off.charged_off_on:
        raise InvalidClaim("a claim cannot be filed before the loan was charged off", field="filed_on")
    loan_id = charge_off.loan_id
    content = {
        "loan_id": loan_id,
        "charged_off_on": charge_off.charged_off_on,
        "balance_at_charge_off": balance,
        "allowed_costs": [[str(i.kind), i.amount, i.description] for i in items],
        "collateral_proceeds": proceeds,
        "filed_on": filed_on,
        "memo": memo,
    }
    request = Request(session, key, "file_claim", content, actor_id)

    def work() -> tuple[Outcome, Claim]:
        through = closed_through(session, lock="share")
        request.locked()  # a twin filing may have committed since the first look
        require_open(through, filed_on)
        _require_backed_and_not_paid_off(session, loan_id)
        try:
            _refuse_second_claim(session, loan_id)
        except ClaimExists:
            request.locked()  # the open claim may be this request's twin, committed since the look above
            raise
        try:
            with session.begin_nested():
                claim_id: int = session.execute(
                    insert(ClaimRow)
                    .values(
                        loan_id=loan_id,
                        status=str(ClaimStatus.PENDING),
                        charged_off_on=charge_off.charged_off_on,
                        balance_at_charge_off_cents=cents_of(balance),
                        allowed_costs_cents=cents_of(costs),
                        collateral_proceeds_cents=cents_of(proceeds),
                        loss_cents=cents_of(loss),
                        filed_by=actor_id,
                        memo=memo,
                        cost_items=json.dumps(
                            [
                                {"kind": str(i.kind), "amount": str(i.amount), "description": i.description}
                                for i in items
                            ]
                        ),
                    )
                    .returning(ClaimRow.id)
                ).scalar_one()
        except IntegrityError:
            # The one-open-claim-per-loan index: a twin filing committed while we waited on it.
            request.locked()
            raise ClaimExists(f"loan {loan_id} already has an open claim") from None
        _record_event(
            session,
            claim_id,
            ClaimEventKind.FILED,
            claim_transition(None, ClaimEventKind.FILED),
            pending_delta=cents_of(loss),
            on_date=filed_on,
            actor_id=actor_id,
            note=memo,
        )
        return Outcome(claim_id=claim_id), get_claim(session, claim_id)

    return request.run(work, lambda outcome: get_claim(session, _required(outcome.claim_id)))


def _cost_items(items: Sequence[CostItem], limits: PostingLimits) -> tuple[CostItem, ...]:
    """Each allowed cost named, whole cents, positive; all of them together within the program's limit."""
    if len(items) > limits.max_cost_items:
        raise InvalidClaim(f"at most {limits.max_cost_items} cost items", field="allowed_costs")
    checked = []
    for item in items:
        try:
            kind = CostKind(item.kind)
        except ValueError:
            raise InvalidClaim(f"unknown cost kind {item.kind!r}", field="allowed_costs") from None
        try:
            amount = positive_amount(item.amount, f"{kind} cost")
        except InvalidAmount as exc:
            exc.field = "allowed_costs"
            raise
        if len(item.description) > 200:
            raise InvalidClaim("a cost's description is at most 200 characters", field="allowed_costs")
        checked.append(CostItem(kind, amount, item.description.strip()))
    total = sum((item.amount for item in checked), Decimal("0.00"))
    if total > limits.max_allowed_costs:
        raise InvalidClaim(
            f"allowed costs of {total} are above the program's limit of {limits.max_allowed_costs}",
            field="allowed_costs",
        )
    return tuple(checked)


def _require_backed_and_not_paid_off(session: Session, loan_id: int) -> None:
    """The reserve pays only on loans it backs (a commitment was set aside at booking) whose commitment
    was not handed back by a payoff (a release that is not a claim's and not reversed)."""
    if find_account(session, commitment_of(loan_id)) is None:
        raise NotChargedOff(f"loan {loan_id} has no reserve commitment: the reserve does not back it")
    reversal = TransactionRow.__table__.alias("reversal")
    paid_off = session.scalar(
        select(TransactionRow.id)
        .outerjoin(reversal, reversal.c.reverses_id == TransactionRow.id)
        .where(
            TransactionRow.loan_id == loan_id,
            TransactionRow.kind == str(TransactionKind.RELEASE),
            TransactionRow.claim_id.is_(None),
            reversal.c.id.is_(None),
        )
        .limit(1)
    )
    if paid_off is not None:
        raise NotChargedOff(f"loan {loan_id} was paid off: its commitment went back to the reserve")


def _refuse_second_claim(session: Session, loan_id: int) -> None:
    existing = session.scalar(
        select(ClaimRow.id).where(
            ClaimRow.loan_id == loan_id,
            ClaimRow.status.in_([str(ClaimStatus.PENDING), str(ClaimStatus.PAID)]),
        )
    )
    if existing is not None:
        raise ClaimExists(f"loan {loan_id} already has an open claim ({existing})")


def approve_claim(
    session: Session,
    *,
    key: str,
    actor_id: int,
    claim_id: int,
    effective_date: date,
    policy: ReservePolicy | None = None,
    note: str = "",
    limits: PostingLimits | None = None,
) -> ClaimDecision:
    """Approve a pending claim and pay it (see the module's payment rule); the approver is not the filer."""
    policy = policy or ReservePolicy()
    (limits or PostingLimits()).date(effective_date, what="payment date", field="effective_date")
    request = Request(
        session,
        key,
        "approve_claim",
        {"claim_id": claim_id, "effective_date": effective_date, "policy": policy.as_content(), "note": note},
        actor_id,
    )

    def work() -> tuple[Outcome, ClaimDecision]:
        filed_by, loan_id = _filed_by(session, claim_id)
        _check_not_filer(filed_by, actor_id, claim_id)
        through = closed_through(session, lock="share")
        commitment = find_account(session, commitment_of(loan_id))
        refs = [AVAILABLE, CLAIMS_PAID] + ([commitment.ref] if commitment is not None else [])
        accounts = ensure_accounts(session, refs)
        request.locked()
        require_open(through, effective_date)
        claim = get_claim(session, claim_id)
        claim_transition(claim.status, ClaimEventKind.PAID)  # refuse early, before reading balances
        cap = cents_of(policy.claim_cap(claim.loss))
        available = accounts[AVAILABLE]
        committed = accounts.get(commitment.ref) if commitment is not None else None
        have_committed = spendable_cents(session, committed.id, effective_date) if committed else 0
        have_available = spendable_cents(session, available.id, effective_date)
        from_commitment = min(cap, have_committed)
        from_available = min(cap - from_commitment, have_available) if policy.pooled else 0
        paid = from_commitment + from_available
        if paid <= 0:
            raise InsufficientReserve(
                f"claim {claim_id} cannot be paid on {effective_date}: loan {loan_id}'s commitment is"
                f" {dollars(have_committed)}"
                + (f" and the available reserve is {dollars(have_available)}" if policy.pooled else "")
            )
        legs = [Leg(accounts[CLAIMS_PAID], paid)]
        if from_commitment:
            assert committed is not None
            legs.append(Leg(committed, -from_commitment))
        if from_available:
            legs.append(Leg(available, -from_available))
        spendable = {available.id: have_available} | ({committed.id: have_committed} if committed else {})
        payment = post(
            session,
            kind=TransactionKind.CLAIM_PAYMENT,
            effective_date=effective_date,
            actor_id=actor_id,
            memo=note or f"claim {claim_id} paid",
            legs=legs,
            loan_id=loan_id,
            claim_id=claim_id,
            spendable=spendable,
        )
        release = None
        left = have_committed - from_commitment
        if left > 0:
            assert committed is not None
            release = post(
                session,
                kind=TransactionKind.RELEASE,
                effective_date=effective_date,
                actor_id=actor_id,
                memo=f"commitment left after claim {claim_id} goes back to available",
                legs=[Leg(committed, -left), Leg(available, left)],
                loan_id=loan_id,
                claim_id=claim_id,
                spendable={committed.id: left},
            )
        transition(
            session,
            claim_id,
            ClaimEventKind.PAID,
            on_date=effective_date,
            actor_id=actor_id,
            transaction_id=payment.id,
            release_transaction_id=None if release is None else release.id,
            cap_cents=cap,
            paid_cents=paid,
            note=note,
        )
        claim_after = get_claim(session, claim_id)
        return Outcome(transaction_id=payment.id, claim_id=claim_id), ClaimDecision(
            claim_after, payment, release
        )

    return request.run(work, lambda outcome: _decision(session, outcome))


def _decision(session: Session, outcome: Outcome) -> ClaimDecision:
    claim = get_claim(session, _required(outcome.claim_id))
    event = next(
        e
        for e in claim.events
        if e.kind is ClaimEventKind.PAID and e.transaction_id == outcome.transaction_id
    )
    return ClaimDecision(
        claim=claim,
        payment=load_transaction(session, _required(outcome.transaction_id)),
        release=None
        if event.release_transaction_id is None
        else load_transaction(session, event.release_transaction_id),
    )


def reject_claim(
    session: Session,
    *,
    key: str,
    actor_id: int,
    claim_id: int,
    decided_on: date,
    reason: str,
    limits: PostingLimits | None = None,
) -> Claim:
    """Reject a pending claim (nothing is paid); the rejecter is not the filer and gives a reason."""
    if not reason.strip():
        raise ValueError("a rejection needs a reason")
    (limits or PostingLimits()).date(decided_on, what="decision date", field="effective_date")
    request = Request(
        session,
        key,
        "reject_claim",
        {"claim_id": claim_id, "decided_on": decided_on, "reason": reason},
        actor_id,
    )

    def work() -> tuple[Outcome, Claim]:
        filed_by, _ = _filed_by(session, claim_id)
        _check_not_filer(filed_by, actor_id, claim_id)
        through = closed_through(session, lock="share")
        session.execute(select(ClaimRow.id).where(ClaimRow.id == claim_id).with_for_update())
        request.locked()
        require_open(through, decided_on)
        transition(
            session, claim_id, ClaimEventKind.REJECTED, on_date=decided_on, actor_id=actor_id, note=reason
        )
        return Outcome(claim_id=claim_id), get_claim(session, claim_id)

    return request.run(work, lambda outcome: get_claim(session, _required(outcome.claim_id)))


def recovered_cents(session: Session, claim_id: int) -> int:
    """Net recoveries booked against the claim (reversed recoveries net out)."""
    total = session.scalar(
        select(func.coalesce(func.sum(PostingRow.amount_cents), 0))
        .join(TransactionRow, TransactionRow.id == PostingRow.transaction_id)
        .join(AccountRow, AccountRow.id == PostingRow.account_id)
        .where(TransactionRow.claim_id == claim_id, AccountRow.kind == str(AccountKind.RECOVERIES))
    )
    return -int(total or 0)


def _required(value: int | None) -> int:
    assert value is not None
    return value


__all__ = [
    "approve_claim",
    "file_claim",
    "get_claim",
    "list_claims",
    "recovered_cents",
    "reject_claim",
    "transition",
]
