"""The claim packet: everything about one reserve claim on one printable page.

The loan, its payment history, its days past due at each month's end from the first due date to the
charge-off, the charge-off (balance, collateral outcome and proceeds, allowed costs), the claim with its
history and what the reserve paid, recoveries, and the reserve postings for the loan.

Contact history (calls, texts, letters, visits, promises to pay) comes from the collections
feature's log, up to the charge-off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

import reserve
from loanapp.accounts.models import User
from loanapp.collections.forms import CHANNEL_NAMES, DIRECTION_NAMES, OUTCOME_NAMES
from loanapp.collections.queries import contacts_of, promises_of
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.servicing import queries
from loanapp.servicing.models import ChargeOff, PaymentAllocation, Recovery
from loanapp.servicing.policy import ServicingPolicy
from risk import delinquency
from risk.money import money


@dataclass(frozen=True)
class MonthPastDue:
    """The loan at one month's end (or on the charge-off date): days past due, bucket, principal left."""

    on: dt.date
    days_past_due: int
    bucket: str
    past_due_amount: Decimal
    principal_balance: Decimal


@dataclass(frozen=True)
class ClaimPacket:
    claim: reserve.Claim
    loan: Loan
    borrower: str
    employer: str
    charge_off: ChargeOff | None
    payments: tuple[queries.HistoryLine, ...]  # oldest first
    past_due: tuple[MonthPastDue, ...]
    recoveries: tuple[Recovery, ...]
    transactions: tuple[reserve.Transaction, ...]
    names: dict[int, str]
    contacts: tuple[ContactLine, ...]
    promises: tuple[Any, ...]  # collections' PromiseView, oldest first

    @property
    def recovered_to_reserve(self) -> Decimal:
        return sum((r.to_reserve for r in self.recoveries), Decimal("0.00"))

    @property
    def worst_days_past_due(self) -> int:
        return max((m.days_past_due for m in self.past_due), default=0)


@dataclass(frozen=True)
class ContactLine:
    """One collection contact, in words (the collections feature's log)."""

    on: dt.date
    channel: str
    direction: str
    outcome: str
    note: str
    recorded_by: str


def contact_history(loan: Loan, through: dt.date) -> list[ContactLine]:
    """The loan's collection contacts up to ``through`` (the charge-off), oldest first."""
    return [
        ContactLine(
            on=contact.contacted_on,
            channel=CHANNEL_NAMES.get(contact.channel, contact.channel),
            direction=DIRECTION_NAMES.get(contact.direction, contact.direction),
            outcome=OUTCOME_NAMES.get(contact.outcome, contact.outcome),
            note=contact.note,
            recorded_by=name,
        )
        for contact, name in reversed(contacts_of(loan))
        if contact.contacted_on <= through
    ]


def _month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    ends = []
    cursor = first.replace(day=1)
    while True:
        end = (cursor + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        if end >= last:
            break
        if end >= first:
            ends.append(end)
        cursor = end + dt.timedelta(days=1)
    return [*ends, last]


def past_due_over_time(loan: Loan, through: dt.date, policy: ServicingPolicy) -> list[MonthPastDue]:
    """Days past due at each month's end from the first due date to ``through`` (and on ``through``),
    from the standing payments as they were received and the disclosed schedule."""
    schedule = queries.schedule_of(loan)
    rows = db.session.execute(
        select(
            PaymentAllocation.received_on, PaymentAllocation.credited_after, PaymentAllocation.principal_after
        )
        .where(PaymentAllocation.loan_id == loan.id)
        .order_by(PaymentAllocation.sequence)
    ).all()
    by_day: dict[dt.date, delinquency.Credit] = {}
    for received_on, credited, balance in rows:
        by_day[received_on] = delinquency.Credit(received_on, money(credited), money(balance))
    credits = sorted(by_day.values(), key=lambda c: c.on)
    if through < loan.first_payment_date:
        return []
    lines = []
    for on in _month_ends(loan.first_payment_date, through):
        position = queries.position_on(credits, loan.principal, on)
        standing = delinquency.standing(
            on, schedule, position.credited, tolerance=policy.tolerance, balance=position.balance
        )
        index = max(policy.buckets.index_for(standing.days_past_due), 0)
        lines.append(
            MonthPastDue(
                on=on,
                days_past_due=standing.days_past_due,
                bucket=policy.buckets.labels[index],
                past_due_amount=money(standing.past_due_amount),
                principal_balance=position.balance,
            )
        )
    return lines


def claim_packet(claim_id: int, today: dt.date, policy: ServicingPolicy) -> ClaimPacket:
    """The packet of a claim; raises ``reserve.ClaimNotFound`` for an unknown claim."""
    claim = reserve.get_claim(db.session, claim_id)
    loan = db.session.get(Loan, claim.loan_id)
    if loan is None:  # the reserve keeps loan ids by value; a claim on no loan is a broken ledger
        raise reserve.ClaimNotFound(f"claim {claim_id} names loan {claim.loan_id}, which does not exist")
    charge_off = queries.charge_off_of(loan)
    through = charge_off.charged_off_on if charge_off is not None else min(today, claim.charged_off_on)
    actors = {claim.filed_by, *(e.actor_id for e in claim.events)}
    transactions = reserve.journal(db.session, loan_id=loan.id, per_page=500).items
    actors |= {tx.actor_id for tx in transactions}
    names = {
        user.id: user.full_name or user.email
        for user in db.session.scalars(select(User).where(User.id.in_(actors)))
    }
    employer = loan.employer.name if loan.employer is not None else "Other employer"
    return ClaimPacket(
        claim=claim,
        loan=loan,
        borrower=loan.borrower.full_name,
        employer=employer,
        charge_off=charge_off,
        payments=tuple(reversed(queries.payment_history(loan))),
        past_due=tuple(past_due_over_time(loan, through, policy)),
        recoveries=tuple(queries.recoveries_of(loan)),
        transactions=tuple(sorted(transactions, key=lambda tx: (tx.effective_date, tx.id))),
        names=names,
        contacts=tuple(contact_history(loan, through)),
        promises=tuple(reversed(promises_of(loan, through))),
    )
