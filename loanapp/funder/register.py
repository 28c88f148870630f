"""The loan-level enrolment register for a month: every loan enrolled in the reserve through the month's
end, its amount, commitment, status, charge-off and claim as they stood on that day.

State Capital Access Programs ask lenders for this report beside the monthly reserve statement. Its
commitments add up to the statement's closing committed figure (both read the ledger on the same day),
which the register shows as its own check. Status, claim and recoveries are *as at the month's end*, read
from the dated histories (bucket history, claim events, recovery dates), so a register printed later
for a past month says what it said then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, or_, select

import reserve
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.programs.models import Employer
from loanapp.servicing.models import BucketHistory, ChargeOff, Recovery
from risk.money import ZERO, from_cents, money

#: Column names of the CSV, in order (the same words as the page).
CSV_COLUMNS = (
    "loan_id",
    "enrolled_on",
    "new_this_month",
    "employer",
    "amount",
    "commitment",
    "commitment_balance",
    "status",
    "charged_off_on",
    "charge_off_balance",
    "claim_id",
    "claim_status",
    "claim_loss",
    "claim_paid",
    "recoveries",
)


@dataclass(frozen=True)
class RegisterLine:
    """One enrolled loan at the month's end.

    ``commitment`` is what the reserve set aside at enrolment; ``commitment_balance`` what it still held
    for the loan at the month's end (zero once paid off, or once a claim drew it). ``status`` is the
    loan's bucket then (``current``, ``1-29`` ... or ``paid_off``, ``charged_off``).
    """

    loan_id: int
    enrolled_on: dt.date
    new_this_month: bool
    employer: str
    amount: Decimal
    commitment: Decimal
    commitment_balance: Decimal
    status: str
    charged_off_on: dt.date | None
    charge_off_balance: Decimal | None
    claim_id: int | None
    claim_status: str | None
    claim_loss: Decimal | None
    claim_paid: Decimal | None
    recoveries: Decimal

    def csv_row(self) -> list[str]:
        def text(value: object) -> str:
            if value is None:
                return ""
            if isinstance(value, bool):
                return "yes" if value else "no"
            if isinstance(value, Decimal):
                return f"{value:.2f}"
            return str(value)

        return [text(getattr(self, column)) for column in CSV_COLUMNS]


@dataclass(frozen=True)
class EnrolmentRegister:
    year: int
    month: int
    lines: tuple[RegisterLine, ...]
    #: The monthly statement's closing committed figure for the same month (from the ledger's balances).
    statement_committed: Decimal

    @property
    def period_start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def period_end(self) -> dt.date:
        return (self.period_start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)

    @property
    def new_lines(self) -> tuple[RegisterLine, ...]:
        return tuple(line for line in self.lines if line.new_this_month)

    @property
    def new_amount(self) -> Decimal:
        return sum((line.amount for line in self.new_lines), ZERO)

    @property
    def new_commitment(self) -> Decimal:
        return sum((line.commitment for line in self.new_lines), ZERO)

    @property
    def total_amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def total_commitment_balance(self) -> Decimal:
        return sum((line.commitment_balance for line in self.lines), ZERO)

    @property
    def commitments_agree(self) -> bool:
        """The register's commitments add up to the statement's closing committed, to the cent."""
        return self.total_commitment_balance == self.statement_committed

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)


def _month_end(year: int, month: int) -> dt.date:
    return (dt.date(year, month, 1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def _claims_at(end: dt.date) -> dict[int, tuple[reserve.Claim, reserve.ClaimStatus, Decimal | None]]:
    """Each loan's claim filed by ``end``, with its status and amount paid as of that day."""
    found: dict[int, tuple[reserve.Claim, reserve.ClaimStatus, Decimal | None]] = {}
    for claim in reserve.list_claims(db.session):
        events = [e for e in claim.events if e.on_date <= end]
        if not events:
            continue
        last = events[-1]
        paid = last.paid if last.status is reserve.ClaimStatus.PAID else None
        found[claim.loan_id] = (claim, last.status, paid)
    return found


def enrolment_register(year: int, month: int, current_label: str = "current") -> EnrolmentRegister:
    """The register for ``year``-``month`` (every loan whose reserve commitment is dated by its end)."""
    start, end = dt.date(year, month, 1), _month_end(year, month)
    loans = db.session.execute(
        select(Loan.id, Loan.contract_date, Loan.principal, Loan.reserve_commitment, Employer.name)
        .outerjoin(Employer, Employer.id == Loan.employer_id)
        .where(Loan.contract_date <= end)
        .order_by(Loan.contract_date, Loan.id)
    ).all()
    buckets = dict(
        db.session.execute(
            select(BucketHistory.loan_id, BucketHistory.bucket).where(
                BucketHistory.opened_on <= end,
                or_(BucketHistory.closed_on.is_(None), BucketHistory.closed_on > end),
            )
        ).all()
    )
    charge_offs = {
        row.loan_id: row
        for row in db.session.scalars(select(ChargeOff).where(ChargeOff.charged_off_on <= end))
    }
    recovered = dict(
        db.session.execute(
            select(Recovery.loan_id, func.sum(Recovery.to_reserve))
            .where(and_(Recovery.received_on <= end))
            .group_by(Recovery.loan_id)
        ).all()
    )
    held = reserve.commitment_balances(db.session, end)
    claims = _claims_at(end)
    lines = []
    for loan_id, enrolled_on, principal, commitment, employer in loans:
        charge_off = charge_offs.get(loan_id)
        claim = claims.get(loan_id)
        lines.append(
            RegisterLine(
                loan_id=loan_id,
                enrolled_on=enrolled_on,
                new_this_month=enrolled_on >= start,
                employer=employer or "Other employer",
                amount=money(principal),
                commitment=money(commitment),
                commitment_balance=from_cents(held.get(loan_id, 0)),
                status=buckets.get(loan_id, current_label),
                charged_off_on=charge_off.charged_off_on if charge_off else None,
                charge_off_balance=money(charge_off.balance) if charge_off else None,
                claim_id=claim[0].id if claim else None,
                claim_status=str(claim[1]) if claim else None,
                claim_loss=claim[0].loss if claim else None,
                claim_paid=claim[2] if claim else None,
                recoveries=money(recovered.get(loan_id) or ZERO),
            )
        )
    statement = reserve.monthly_statement(db.session, year, month)
    return EnrolmentRegister(year, month, tuple(lines), statement.closing_committed)
