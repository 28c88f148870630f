"""The reserve's vocabulary as plain Python: kinds, policy, value objects and the claim state machine.

Sign convention, stated once: a posting's amount is positive when money flows *into* the account and
negative when it flows out, and the postings of a transaction sum to zero. So the reserve's pools
(available, each loan's commitment) and the claims-paid sink carry positive balances, while the
sources (grant funding, recoveries, interest earned) carry negative ones; reports show sources negated.
Amounts are ``Decimal`` at this boundary and integer cents in the database (``risk.money`` converts).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from risk.money import D, has_at_most_cents, money

from reserve.errors import ClaimAlreadyDecided, IllegalClaimTransition, InvalidAmount, InvalidDate


class AccountKind(StrEnum):
    """The program's chart of accounts."""

    GRANT_FUNDING = "grant_funding"  # source: one per funder and grant
    AVAILABLE = "available"  # pool: uncommitted reserve
    COMMITTED = "committed"  # pool: one per loan, set aside when the loan is booked
    CLAIMS_PAID = "claims_paid"  # sink: paid to the credit union on charge-offs
    RECOVERIES = "recoveries"  # source: money recovered after a paid claim
    INTEREST = "interest"  # source: interest earned on the reserve's deposit account


#: Accounts whose balance may never drop below zero at any effective date.
POOL_KINDS = frozenset({AccountKind.AVAILABLE, AccountKind.COMMITTED})
#: Accounts that give money to the reserve (balances negative under the sign convention).
SOURCE_KINDS = frozenset({AccountKind.GRANT_FUNDING, AccountKind.RECOVERIES, AccountKind.INTEREST})


class TransactionKind(StrEnum):
    DEPOSIT = "deposit"
    COMMITMENT = "commitment"
    RELEASE = "release"
    CLAIM_PAYMENT = "claim_payment"
    RECOVERY = "recovery"
    INTEREST = "interest"
    REVERSAL = "reversal"


class ClaimStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REJECTED = "rejected"


class ClaimEventKind(StrEnum):
    FILED = "filed"
    PAID = "paid"  # approval: the claim is approved and paid in the same step
    REJECTED = "rejected"
    PAYMENT_REVERSED = "payment_reversed"  # the payment transaction was reversed: the claim is open again


_CLAIM_MOVES: dict[tuple[ClaimStatus | None, ClaimEventKind], ClaimStatus] = {
    (None, ClaimEventKind.FILED): ClaimStatus.PENDING,
    (ClaimStatus.PENDING, ClaimEventKind.PAID): ClaimStatus.PAID,
    (ClaimStatus.PENDING, ClaimEventKind.REJECTED): ClaimStatus.REJECTED,
    (ClaimStatus.PAID, ClaimEventKind.PAYMENT_REVERSED): ClaimStatus.PENDING,
}


def claim_transition(current: ClaimStatus | None, event: ClaimEventKind) -> ClaimStatus:
    """The claim's next status, or a named refusal; the only place claim statuses change.

    >>> claim_transition(ClaimStatus.PENDING, ClaimEventKind.PAID)
    <ClaimStatus.PAID: 'paid'>
    """
    try:
        return _CLAIM_MOVES[(current, event)]
    except KeyError:
        if current in (ClaimStatus.PAID, ClaimStatus.REJECTED) and event in (
            ClaimEventKind.PAID,
            ClaimEventKind.REJECTED,
        ):
            raise ClaimAlreadyDecided(f"claim is already {current}; it cannot be {event}") from None
        raise IllegalClaimTransition(f"a {current or 'new'} claim cannot be {event}") from None


@dataclass(frozen=True)
class ReservePolicy:
    """The program's reserve rules; the app builds one from its settings.

    ``commitment_share`` of a loan's principal is set aside when the loan is booked. A claim is paid up
    to ``claim_cap_share`` of the loss and, when set, at most ``claim_cap_amount``. With ``pooled`` the
    reserve is one pool per lender (Capital Access style): a claim draws on the loan's commitment first
    and then on the available reserve; without it a claim is paid from the loan's commitment only.
    """

    commitment_share: Decimal = Decimal("0.15")
    claim_cap_share: Decimal = Decimal("1.00")
    claim_cap_amount: Decimal | None = None
    pooled: bool = True

    def __post_init__(self) -> None:
        for name in ("commitment_share", "claim_cap_share"):
            value = D(getattr(self, name))
            if not Decimal(0) < value <= Decimal(1):
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if self.claim_cap_amount is not None:
            positive_amount(self.claim_cap_amount, "claim_cap_amount")

    def commitment_for(self, principal: Decimal) -> Decimal:
        """The reserve set aside for a loan: share of principal, rounded half-up to the cent."""
        return money(D(principal) * D(self.commitment_share))

    def claim_cap(self, loss: Decimal) -> Decimal:
        """The most the reserve pays on this loss under the policy (before the reserve's own limits)."""
        cap = money(D(loss) * D(self.claim_cap_share))
        if self.claim_cap_amount is not None:
            cap = min(cap, money(self.claim_cap_amount))
        return cap

    def as_content(self) -> dict[str, Any]:
        return {
            "commitment_share": str(D(self.commitment_share)),
            "claim_cap_share": str(D(self.claim_cap_share)),
            "claim_cap_amount": None if self.claim_cap_amount is None else str(money(self.claim_cap_amount)),
            "pooled": self.pooled,
        }


#: No single posting moves more than this (ten billion dollars), whatever the settings say: integer
#: cents then stay far inside 64 bits however many postings are summed (SQLite overflows at 2**63).
HARD_MAX_AMOUNT = Decimal("10000000000.00")


class CostKind(StrEnum):
    """The collection costs a claim may add to the balance at charge-off, each named on the claim."""

    REPOSSESSION = "repossession"
    TRANSPORT = "transport"
    STORAGE = "storage"
    AUCTION = "auction"
    LEGAL = "legal"
    OTHER = "other"


@dataclass(frozen=True)
class CostItem:
    """One allowed cost of collecting on a charged-off loan (e.g. the repossession agent's bill)."""

    kind: CostKind
    amount: Decimal
    description: str = ""


@dataclass(frozen=True)
class ChargeOffRecord:
    """What the loan's servicing record says at charge-off: the only source of a claim's balance.

    ``balance`` is principal + accrued interest + unpaid fees on ``charged_off_on``, computed by the
    charge-off itself; a claim never takes it from the person filing.
    """

    loan_id: int
    charged_off_on: date
    balance: Decimal


@dataclass(frozen=True)
class PostingLimits:
    """Bounds on what one reserve operation may move, and when it may be dated.

    Amounts: one deposit, one interest posting, one claim's loss, one recovery, a claim's allowed costs
    (all of them together) are at most these. Dates: with ``today`` set (the business date), an
    effective date lies between ``today - max_backdate_days`` and ``today + max_future_days``; the
    closed-month rule applies as well. Without ``today`` only the amounts are checked.
    """

    max_deposit: Decimal = Decimal("5000000.00")
    max_interest: Decimal = Decimal("100000.00")
    max_claim: Decimal = Decimal("100000.00")
    max_recovery: Decimal = Decimal("100000.00")
    max_allowed_costs: Decimal = Decimal("5000.00")
    max_cost_items: int = 20
    today: date | None = None
    max_backdate_days: int = 366
    max_future_days: int = 0

    def amount(self, value: Decimal | int | str, ceiling: Decimal, *, what: str, field: str) -> Decimal:
        """A positive amount of whole cents at most ``ceiling``; ``field`` names the input refused."""
        try:
            amount = positive_amount(value, what)
        except InvalidAmount as exc:
            exc.field = field
            raise
        if amount > min(D(ceiling), HARD_MAX_AMOUNT):
            raise InvalidAmount(
                f"The {what} is above the program's limit of {money(ceiling):,}.", field=field
            )
        return amount

    def date(self, on: date, *, what: str, field: str) -> date:
        if self.today is None:
            return on
        earliest = self.today - timedelta(days=self.max_backdate_days)
        latest = self.today + timedelta(days=self.max_future_days)
        if not earliest <= on <= latest:
            raise InvalidDate(
                f"The {what} must be between {earliest.isoformat()} and {latest.isoformat()}.", field=field
            )
        return on


def positive_amount(value: Decimal | int | str, what: str = "amount") -> Decimal:
    """A strictly positive amount with no digits past the cent; refused (not rounded) otherwise."""
    try:
        amount = D(value)
    except ValueError as exc:
        raise InvalidAmount(f"{what}: {exc}") from exc
    if not has_at_most_cents(amount):
        raise InvalidAmount(f"{what} {amount} has digits past the cent")
    if amount <= 0:
        raise InvalidAmount(f"{what} must be positive, got {amount}")
    if amount > HARD_MAX_AMOUNT:
        raise InvalidAmount(f"{what} {amount} is beyond any amount the reserve handles")
    return money(amount)


def non_negative_amount(value: Decimal | int | str, what: str = "amount") -> Decimal:
    """Like :func:`positive_amount` but zero is allowed (costs, collateral proceeds)."""
    try:
        amount = D(value)
    except ValueError as exc:
        raise InvalidAmount(f"{what}: {exc}") from exc
    if not has_at_most_cents(amount):
        raise InvalidAmount(f"{what} {amount} has digits past the cent")
    if amount < 0:
        raise InvalidAmount(f"{what} cannot be negative, got {amount}")
    if amount > HARD_MAX_AMOUNT:
        raise InvalidAmount(f"{what} {amount} is beyond any amount the reserve handles")
    return money(amount)


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(money(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def request_hash(operation: str, content: dict[str, Any]) -> str:
    """SHA-256 of the request in canonical JSON, stored with the idempotency key.

    Amounts are compared as cents (``"10"`` and ``"10.00"`` are the same request).
    """
    text = json.dumps(
        {"operation": operation, "content": _canonical(content)}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


# --- value objects returned to callers (never ORM rows, so nothing leaks back into a flush) ---


@dataclass(frozen=True)
class Posting:
    """One leg of a transaction; ``amount`` follows the sign convention of this module."""

    account_code: str
    account_kind: AccountKind
    amount: Decimal
    loan_id: int | None = None


@dataclass(frozen=True)
class Transaction:
    """A posted reserve transaction: two or more postings that sum to zero."""

    id: int
    kind: TransactionKind
    effective_date: date
    recorded_at: datetime
    actor_id: int
    memo: str
    postings: tuple[Posting, ...]
    loan_id: int | None = None
    claim_id: int | None = None
    reverses_id: int | None = None
    reversed_by_id: int | None = None

    def amount_for(self, kind: AccountKind) -> Decimal:
        """Net amount this transaction moved into accounts of ``kind``."""
        return sum((p.amount for p in self.postings if p.account_kind == kind), Decimal("0.00"))


@dataclass(frozen=True)
class ClaimEvent:
    kind: ClaimEventKind
    status: ClaimStatus
    on_date: date
    actor_id: int
    recorded_at: datetime
    transaction_id: int | None = None
    release_transaction_id: int | None = None
    cap: Decimal | None = None
    paid: Decimal | None = None
    note: str = ""


@dataclass(frozen=True)
class Claim:
    """A credit union's claim on the reserve for a charged-off loan, with its history."""

    id: int
    loan_id: int
    status: ClaimStatus
    charged_off_on: date
    balance_at_charge_off: Decimal
    allowed_costs: Decimal
    collateral_proceeds: Decimal
    loss: Decimal
    filed_by: int
    memo: str
    events: tuple[ClaimEvent, ...] = field(default_factory=tuple)
    cost_items: tuple[CostItem, ...] = ()

    @property
    def paid(self) -> Decimal:
        """What the reserve has paid on the claim (zero unless the claim is paid)."""
        if self.status is not ClaimStatus.PAID:
            return Decimal("0.00")
        return next(
            e.paid for e in reversed(self.events) if e.kind is ClaimEventKind.PAID and e.paid is not None
        )

    @property
    def shortfall(self) -> Decimal:
        """Cap minus paid: the part of the capped loss the reserve could not cover."""
        if self.status is not ClaimStatus.PAID:
            return Decimal("0.00")
        last = next(e for e in reversed(self.events) if e.kind is ClaimEventKind.PAID)
        assert last.cap is not None and last.paid is not None
        return last.cap - last.paid


@dataclass(frozen=True)
class ClaimDecision:
    """Result of approving a claim: the claim, its payment and the release of what the loan left."""

    claim: Claim
    payment: Transaction
    release: Transaction | None


@dataclass(frozen=True)
class MonthClose:
    year: int
    month: int
    closed_by: int
    closed_at: datetime


@dataclass(frozen=True)
class ReservePosition:
    """The reserve at the end of ``as_of`` (an effective date). All amounts positive in the usual sense.

    ``balance = available + committed = deposits + recoveries + interest - claims_paid``.
    """

    as_of: date
    balance: Decimal
    available: Decimal
    committed: Decimal
    deposits: Decimal
    claims_paid: Decimal
    claims_pending: Decimal
    claims_pending_count: int
    recoveries: Decimal
    interest: Decimal


@dataclass(frozen=True)
class GrantDeposits:
    funder: str
    grant: str
    amount: Decimal


@dataclass(frozen=True)
class MonthlyStatement:
    """The funder's monthly reserve statement.

    Balance: ``opening + deposits + recoveries + interest - claims_paid + reversals = closing``.
    Available: ``opening_available + deposits - commitments + releases - claims_paid_from_available
    + recoveries + interest + reversals_available = closing_available``. Reversals are shown on their
    own line (their net effect), not netted into the line of what they reverse.
    """

    year: int
    month: int
    closed: bool
    opening_balance: Decimal
    deposits: Decimal
    commitments: Decimal
    releases: Decimal
    claims_paid: Decimal
    claims_paid_from_commitments: Decimal
    claims_paid_from_available: Decimal
    recoveries: Decimal
    interest: Decimal
    reversals: Decimal
    closing_balance: Decimal
    opening_available: Decimal
    closing_available: Decimal
    opening_committed: Decimal
    closing_committed: Decimal
    reversals_available: Decimal
    deposits_by_grant: tuple[GrantDeposits, ...]

    @property
    def period_start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def period_end(self) -> date:
        following = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)

    @property
    def blocks(self) -> tuple[StatementBlock, ...]:
        """The balance, committed and available blocks, each with every movement of the month signed.

        A movement shows in every block with its effect on that block (zero where it does not touch
        it: a commitment moves money from available to committed and leaves the balance alone), so
        each block foots on its own (``opening + movements = closing``) and each line cross-foots
        (``balance = committed + available``).
        """
        zero = Decimal("0.00")
        committed_reversals = self.reversals - self.reversals_available
        lines = {
            "balance": (
                self.deposits,
                zero,
                zero,
                -self.claims_paid,
                self.recoveries,
                self.interest,
                self.reversals,
            ),
            "committed": (
                zero,
                self.commitments,
                -self.releases,
                -self.claims_paid_from_commitments,
                zero,
                zero,
                committed_reversals,
            ),
            "available": (
                self.deposits,
                -self.commitments,
                self.releases,
                -self.claims_paid_from_available,
                self.recoveries,
                self.interest,
                self.reversals_available,
            ),
        }
        ends = {
            "balance": (self.opening_balance, self.closing_balance),
            "committed": (self.opening_committed, self.closing_committed),
            "available": (self.opening_available, self.closing_available),
        }
        return tuple(
            StatementBlock(
                name=name,
                opening=ends[name][0],
                lines=tuple(
                    StatementLine(code, amount) for code, amount in zip(MOVEMENTS, lines[name], strict=True)
                ),
                closing=ends[name][1],
            )
            for name in ("balance", "committed", "available")
        )

    @property
    def foots(self) -> bool:
        """Every block foots and the blocks agree (balance = committed + available) at both ends."""
        balance, committed, available = self.blocks
        return all(block.difference == 0 for block in self.blocks) and all(
            getattr(balance, end) == getattr(committed, end) + getattr(available, end)
            for end in ("opening", "closing")
        )


#: The movements of a statement block, in the order they are printed.
MOVEMENTS = ("deposits", "commitments", "releases", "claims_paid", "recoveries", "interest", "reversals")


@dataclass(frozen=True)
class StatementLine:
    """One movement of a statement block: ``amount`` is its signed effect on the block."""

    code: str
    amount: Decimal


@dataclass(frozen=True)
class StatementBlock:
    """One block of the monthly statement. ``closing`` is the ledger's balance at the month's end,
    not the sum of the lines: ``difference`` (zero when the block foots) compares the two."""

    name: str
    opening: Decimal
    lines: tuple[StatementLine, ...]
    closing: Decimal

    @property
    def movements(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def difference(self) -> Decimal:
        return self.opening + self.movements - self.closing


@dataclass(frozen=True)
class JournalPage:
    items: tuple[Transaction, ...]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))
