"""The reserve's money operations: the only code that writes ledger transactions (with ``claims``).

Each takes the caller's ``Session`` and never commits: the app books a loan and commits its reserve
in one unit of work. Each takes an idempotency ``key`` (client supplied) and the ``actor_id`` of the
person acting (the app's user id): repeating a call with the same key and content returns the first
result without posting again; the same key with different content raises ``IdempotencyConflict``.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from risk.money import D
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from reserve.claims import get_claim, recovered_cents, transition
from reserve.domain import (
    AccountKind,
    ClaimEventKind,
    ClaimStatus,
    MonthClose,
    PostingLimits,
    ReservePolicy,
    Transaction,
    TransactionKind,
    positive_amount,
)
from reserve.errors import (
    AlreadyReversed,
    ClaimNotPaid,
    ClaimPending,
    CommitmentExists,
    InvalidAmount,
    MonthNotClosable,
    NoOpenCommitment,
    RecoveryExceedsClaim,
    ReversalNotAllowed,
)
from reserve.ledger import (
    AVAILABLE,
    INTEREST,
    RECOVERIES,
    AccountRef,
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
    ref_for_code,
    require_open,
    require_real_savepoints,
    spendable_cents,
    utcnow,
)
from reserve.schema import SANCTIONED_WRITE, ClaimRow, LedgerRow, MonthCloseRow, TransactionRow


def _posted(transaction: Transaction) -> tuple[Outcome, Transaction]:
    return Outcome(transaction.id), transaction


def _loaded(session: Session) -> Callable[[Outcome], Transaction]:
    def load(outcome: Outcome) -> Transaction:
        assert outcome.transaction_id is not None
        return load_transaction(session, outcome.transaction_id)

    return load


def _name(value: str, what: str) -> str:
    value = value.strip()
    if not value or len(value) > 120:
        raise ValueError(f"{what} must be 1 to 120 characters")
    return value


def record_deposit(
    session: Session,
    *,
    key: str,
    actor_id: int,
    funder: str,
    grant: str,
    amount: Decimal | int | str,
    received_on: date,
    memo: str = "",
    limits: PostingLimits | None = None,
) -> Transaction:
    """Record grant money received into the reserve (e.g. Empire State Development, grant 2016-1)."""
    limits = limits or PostingLimits()
    funder, grant = _name(funder, "funder"), _name(grant, "grant")
    amount = limits.amount(amount, limits.max_deposit, what="deposit", field="amount")
    limits.date(received_on, what="date received", field="received_on")
    cents = cents_of(amount)
    grant_ref = AccountRef(AccountKind.GRANT_FUNDING, funder=funder, grant=grant)
    request = Request(
        session,
        key,
        "deposit",
        {"funder": funder, "grant": grant, "amount": amount, "received_on": received_on, "memo": memo},
        actor_id,
    )

    def work() -> tuple[Outcome, Transaction]:
        through = closed_through(session, lock="share")
        accounts = ensure_accounts(session, [grant_ref, AVAILABLE])
        request.locked()
        require_open(through, received_on)
        return _posted(
            post(
                session,
                kind=TransactionKind.DEPOSIT,
                effective_date=received_on,
                actor_id=actor_id,
                memo=memo,
                legs=[Leg(accounts[grant_ref], -cents), Leg(accounts[AVAILABLE], cents)],
            )
        )

    return request.run(work, _loaded(session))


def commit_reserve(
    session: Session,
    *,
    key: str,
    actor_id: int,
    loan_id: int,
    principal: Decimal | int | str,
    effective_date: date,
    policy: ReservePolicy | None = None,
    memo: str = "",
) -> Transaction:
    """Set aside the policy's share of a booked loan's principal (half-up to the cent) from available.

    Raises ``InsufficientReserve`` when available cannot cover it at ``effective_date`` (or any later
    date), ``CommitmentExists`` when the loan already has a commitment that was not reversed.
    """
    policy = policy or ReservePolicy()
    principal = positive_amount(principal, "principal")
    amount = policy.commitment_for(principal)
    if amount <= 0:
        raise InvalidAmount(f"a commitment of {amount} on principal {principal} is nothing to set aside")
    cents = cents_of(amount)
    ref = commitment_of(loan_id)
    request = Request(
        session,
        key,
        "commitment",
        {
            "loan_id": loan_id,
            "principal": principal,
            "effective_date": effective_date,
            "commitment_share": str(D(policy.commitment_share)),
            "memo": memo,
        },
        actor_id,
    )

    def work() -> tuple[Outcome, Transaction]:
        through = closed_through(session, lock="share")
        accounts = ensure_accounts(session, [AVAILABLE, ref])
        request.locked()
        require_open(through, effective_date)
        if not accounts[ref].new and _open_commitment(session, loan_id) is not None:
            raise CommitmentExists(f"loan {loan_id} already has a reserve commitment")
        return _posted(
            post(
                session,
                kind=TransactionKind.COMMITMENT,
                effective_date=effective_date,
                actor_id=actor_id,
                memo=memo
                or f"{D(policy.commitment_share) * 100:g}% of {dollars(cents_of(principal))} principal",
                legs=[Leg(accounts[AVAILABLE], -cents), Leg(accounts[ref], cents)],
                loan_id=loan_id,
            )
        )

    return request.run(work, _loaded(session))


def _open_commitment(session: Session, loan_id: int) -> int | None:
    """The loan's commitment transaction that has not been reversed, if any."""
    reversal = TransactionRow.__table__.alias("reversal")
    return session.scalar(
        select(TransactionRow.id)
        .outerjoin(reversal, reversal.c.reverses_id == TransactionRow.id)
        .where(
            TransactionRow.loan_id == loan_id,
            TransactionRow.kind == str(TransactionKind.COMMITMENT),
            reversal.c.id.is_(None),
        )
        .limit(1)
    )


def release_commitment(
    session: Session,
    *,
    key: str,
    actor_id: int,
    loan_id: int,
    effective_date: date,
    memo: str = "loan paid off",
) -> Transaction:
    """Return a paid-off loan's whole remaining commitment to available.

    Refused while the loan has a pending claim (the commitment is what pays it first).
    """
    ref = commitment_of(loan_id)
    request = Request(
        session,
        key,
        "release",
        {"loan_id": loan_id, "effective_date": effective_date, "memo": memo},
        actor_id,
    )

    def work() -> tuple[Outcome, Transaction]:
        through = closed_through(session, lock="share")
        if find_account(session, ref) is None:
            raise NoOpenCommitment(f"loan {loan_id} has no reserve commitment")
        accounts = ensure_accounts(session, [AVAILABLE, ref])
        request.locked()
        require_open(through, effective_date)
        pending = session.scalar(
            select(ClaimRow.id).where(
                ClaimRow.loan_id == loan_id, ClaimRow.status == str(ClaimStatus.PENDING)
            )
        )
        if pending is not None:
            raise ClaimPending(f"loan {loan_id} has pending claim {pending}; decide it before releasing")
        left = spendable_cents(session, accounts[ref].id, effective_date)
        if left <= 0:
            raise NoOpenCommitment(f"loan {loan_id} has no committed reserve left on {effective_date}")
        return _posted(
            post(
                session,
                kind=TransactionKind.RELEASE,
                effective_date=effective_date,
                actor_id=actor_id,
                memo=memo,
                legs=[Leg(accounts[ref], -left), Leg(accounts[AVAILABLE], left)],
                loan_id=loan_id,
                spendable={accounts[ref].id: left},
            )
        )

    return request.run(work, _loaded(session))


def record_recovery(
    session: Session,
    *,
    key: str,
    actor_id: int,
    claim_id: int,
    amount: Decimal | int | str,
    received_on: date,
    memo: str = "",
    limits: PostingLimits | None = None,
) -> Transaction:
    """Money recovered on a loan after its claim was paid goes back to available.

    Only up to what the reserve paid on the claim; anything beyond is the credit union's.
    """
    limits = limits or PostingLimits()
    amount = limits.amount(amount, limits.max_recovery, what="recovery", field="amount")
    limits.date(received_on, what="date received", field="received_on")
    cents = cents_of(amount)
    request = Request(
        session,
        key,
        "recovery",
        {"claim_id": claim_id, "amount": amount, "received_on": received_on, "memo": memo},
        actor_id,
    )

    def work() -> tuple[Outcome, Transaction]:
        through = closed_through(session, lock="share")
        accounts = ensure_accounts(session, [AVAILABLE, RECOVERIES])
        request.locked()
        require_open(through, received_on)
        session.execute(select(ClaimRow.id).where(ClaimRow.id == claim_id).with_for_update())
        claim = get_claim(session, claim_id)
        if claim.status is not ClaimStatus.PAID:
            raise ClaimNotPaid(f"claim {claim_id} is {claim.status}; recoveries follow a paid claim")
        room = cents_of(claim.paid) - recovered_cents(session, claim_id)
        if cents > room:
            raise RecoveryExceedsClaim(
                f"claim {claim_id} paid {dollars(cents_of(claim.paid))}; only {dollars(room)} more can be recovered"
            )
        return _posted(
            post(
                session,
                kind=TransactionKind.RECOVERY,
                effective_date=received_on,
                actor_id=actor_id,
                memo=memo,
                legs=[Leg(accounts[RECOVERIES], -cents), Leg(accounts[AVAILABLE], cents)],
                loan_id=claim.loan_id,
                claim_id=claim_id,
            )
        )

    return request.run(work, _loaded(session))


def record_interest(
    session: Session,
    *,
    key: str,
    actor_id: int,
    amount: Decimal | int | str,
    earned_on: date,
    memo: str = "",
    limits: PostingLimits | None = None,
) -> Transaction:
    """Interest earned on the reserve's deposit account stays in the reserve (to available)."""
    limits = limits or PostingLimits()
    amount = limits.amount(amount, limits.max_interest, what="interest", field="amount")
    limits.date(earned_on, what="date earned", field="earned_on")
    cents = cents_of(amount)
    request = Request(
        session, key, "interest", {"amount": amount, "earned_on": earned_on, "memo": memo}, actor_id
    )

    def work() -> tuple[Outcome, Transaction]:
        through = closed_through(session, lock="share")
        accounts = ensure_accounts(session, [INTEREST, AVAILABLE])
        request.locked()
        require_open(through, earned_on)
        return _posted(
            post(
                session,
                kind=TransactionKind.INTEREST,
                effective_date=earned_on,
                actor_id=actor_id,
                memo=memo,
                legs=[Leg(accounts[INTEREST], -cents), Leg(accounts[AVAILABLE], cents)],
            )
        )

    return request.run(work, _loaded(session))


def reverse(
    session: Session,
    *,
    key: str,
    actor_id: int,
    transaction_id: int,
    effective_date: date,
    reason: str,
    follows_loan: bool = False,
    limits: PostingLimits | None = None,
) -> Transaction:
    """Undo a transaction with a new one that negates its postings and points back to it.

    A transaction is reversed at most once and a reversal is not itself reversed (post the operation
    again instead). The reversal is dated in an open month, on or after the original. Reversing a claim
    payment reopens the claim (pending); it is refused while recoveries on that claim stand.

    A commitment or a release follows its loan: booking sets the commitment aside, payoff or a paid
    claim releases it. Reversed by hand, a live loan would be left unbacked or a closed loan would hold
    reserve (``reserve.check``: ``commitment_without_loan``). So they are reversed only with
    ``follows_loan=True``, by the loan's own change (a reversed payoff payment reverses the release).
    """
    if not reason.strip():
        raise ValueError("a reversal needs a reason")
    (limits or PostingLimits()).date(effective_date, what="reversal date", field="effective_date")
    request = Request(
        session,
        key,
        "reversal",
        {"transaction_id": transaction_id, "effective_date": effective_date, "reason": reason},
        actor_id,
    )

    def work() -> tuple[Outcome, Transaction]:
        original = load_transaction(session, transaction_id)
        if original.kind is TransactionKind.REVERSAL:
            raise ReversalNotAllowed(
                f"transaction {transaction_id} is a reversal; post the operation again instead"
            )
        if original.kind in (TransactionKind.COMMITMENT, TransactionKind.RELEASE) and not follows_loan:
            raise ReversalNotAllowed(
                f"transaction {transaction_id} is a loan's {original.kind}: it follows the loan and changes"
                " only with it (a reversed payoff payment brings the commitment back)"
            )
        if effective_date < original.effective_date:
            raise ReversalNotAllowed(
                f"a reversal cannot be dated {effective_date}, before what it reverses ({original.effective_date})"
            )
        through = closed_through(session, lock="share")
        refs = {p.account_code: ref_for_code(session, p.account_code) for p in original.postings}
        accounts = ensure_accounts(session, refs.values())
        request.locked()
        require_open(through, effective_date)
        if (
            session.scalar(select(TransactionRow.id).where(TransactionRow.reverses_id == transaction_id))
            is not None
        ):
            raise AlreadyReversed(f"transaction {transaction_id} has already been reversed")
        if original.kind is TransactionKind.CLAIM_PAYMENT:
            assert original.claim_id is not None
            session.execute(select(ClaimRow.id).where(ClaimRow.id == original.claim_id).with_for_update())
            if recovered_cents(session, original.claim_id) > 0:
                raise ReversalNotAllowed(
                    f"claim {original.claim_id} has recoveries; reverse them before reversing its payment"
                )
        legs = [Leg(accounts[refs[p.account_code]], -cents_of(p.amount)) for p in original.postings]
        reversal = post(
            session,
            kind=TransactionKind.REVERSAL,
            effective_date=effective_date,
            actor_id=actor_id,
            memo=reason,
            legs=legs,
            loan_id=original.loan_id,
            claim_id=original.claim_id,
            reverses_id=transaction_id,
        )
        if original.kind is TransactionKind.CLAIM_PAYMENT:
            assert original.claim_id is not None
            transition(
                session,
                original.claim_id,
                ClaimEventKind.PAYMENT_REVERSED,
                on_date=effective_date,
                actor_id=actor_id,
                transaction_id=reversal.id,
                note=reason,
            )
        return _posted(reversal)

    return request.run(work, _loaded(session))


def close_month(
    session: Session, year: int, month: int, actor_id: int, *, today: date | None = None
) -> MonthClose:
    """Close a month: from now on no posting may carry an effective date in it (or before it).

    Months close in order, each once it is over (``today`` defaults to the system date; the app passes
    its business date). Closing a month that is already closed returns its close. Takes the ledger
    row ``FOR UPDATE``, so it waits for postings in flight and none can land in the month meanwhile.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"no month {month}")
    last_day = date(year, month, calendar.monthrange(year, month)[1])
    # The program's business day is Syracuse's, not the server's (which runs on UTC).
    today = today or datetime.now(ZoneInfo("America/New_York")).date()
    require_real_savepoints(session)
    with session.begin_nested():
        through = closed_through(session, lock="update")
        existing = session.get(MonthCloseRow, (year, month))
        if existing is not None:
            return _month_close(existing)
        if through is not None and last_day <= through:
            raise MonthNotClosable(
                f"{last_day:%B %Y} was closed implicitly by the first close (through {through})"
            )
        if last_day >= today:
            raise MonthNotClosable(f"{last_day:%B %Y} is not over on {today}")
        if through is not None:
            expected = _next_month(through)
            if (year, month) != expected:
                raise MonthNotClosable(
                    f"months close in order: the next month to close is {date(*expected, 1):%B %Y}"
                )
        session.execute(
            update(LedgerRow)
            .where(LedgerRow.id == 1)
            .values(closed_through=last_day)
            .execution_options(**{SANCTIONED_WRITE: "month_close"})
        )
        now = utcnow()
        session.execute(
            insert(MonthCloseRow).values(
                year=year, month=month, closed_through=last_day, closed_by=actor_id, closed_at=now
            )
        )
    return MonthClose(year=year, month=month, closed_by=actor_id, closed_at=now)


def _next_month(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def _month_close(row: MonthCloseRow) -> MonthClose:
    return MonthClose(year=row.year, month=row.month, closed_by=row.closed_by, closed_at=aware(row.closed_at))
