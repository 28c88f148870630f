"""Servicing tables: payments (never deleted), their allocations and each loan's servicing state
(both derived, recomputed by ``operations`` in the transaction that changes a payment), bucket
history, charge-offs, recoveries and the monthly delinquency snapshot.

Money is ``Numeric(12, 2)`` with CHECKs; accrued interest keeps the 1e-10 dollar precision of
``risk.servicing`` (``Numeric(18, 10)``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanapp.db import one_of, utcnow
from loanapp.extensions import db
from loanapp.loans.models import Loan

PAYMENT_METHODS = ("ach", "check", "cash", "card", "payroll", "money_order", "other")
PAYMENT_SOURCES = ("page", "api", "import")
COLLATERAL_STATUSES = ("repossessed_sold", "repossessed_held", "not_recovered", "insurance", "none")

Accrual = Numeric(18, 10)


class Payment(db.Model):  # type: ignore[name-defined,misc]
    """A payment received, or the reversal of one (a returned payment): rows are never deleted.

    ``idempotency_key`` is unique: the client's key scoped to its user (page, API) or the core
    system's reference (CSV import), so a retry or a re-import never posts twice.
    """

    __tablename__ = "loan_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(one_of("kind", ("payment", "reversal")), name="kind_known"),
        CheckConstraint(one_of("method", PAYMENT_METHODS), name="method_known"),
        CheckConstraint(one_of("source", PAYMENT_SOURCES), name="source_known"),
        CheckConstraint(
            "(kind = 'reversal' AND reverses_id IS NOT NULL) OR (kind = 'payment' AND reverses_id IS NULL)",
            name="reversal_links",
        ),
        Index("ix_loan_payments_loan_received", "loan_id", "received_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(String(10), default="payment")
    amount: Mapped[Decimal]
    received_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(10))
    idempotency_key: Mapped[str] = mapped_column(String(220), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    # UNIQUE: a payment is reversed at most once.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("loan_payments.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    # A reversal of a payment that was never received (a typo, the wrong loan): the borrower's
    # history leaves both out rather than showing money returned to them.
    entered_in_error: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    posted_on: Mapped[date] = mapped_column(Date)  # the business date it was recorded
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    loan: Mapped[Loan] = relationship()
    allocation: Mapped[PaymentAllocation | None] = relationship(back_populates="payment", uselist=False)


class PaymentAllocation(db.Model):  # type: ignore[name-defined,misc]
    """How a standing payment was applied, and the loan's position after it (derived data).

    ``sequence`` orders the loan's standing payments by (received date, id); ``*_after`` let a
    replay start from any payment and let reports read a loan's position on a past date.
    """

    __tablename__ = "payment_allocations"
    __table_args__ = (
        UniqueConstraint("loan_id", "sequence", name="uq_payment_allocations_loan_sequence"),
        Index("ix_payment_allocations_loan_received", "loan_id", "received_on"),
        CheckConstraint("to_fees >= 0 AND to_interest >= 0 AND to_principal >= 0", name="parts_not_negative"),
        CheckConstraint("excess >= 0", name="excess_not_negative"),
        CheckConstraint("principal_after >= 0 AND fees_after >= 0", name="after_not_negative"),
        CheckConstraint("accrued_after >= 0", name="accrued_not_negative"),
        CheckConstraint("credited_after >= 0", name="credited_not_negative"),
    )

    payment_id: Mapped[int] = mapped_column(ForeignKey("loan_payments.id"), primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[date] = mapped_column(Date)
    to_fees: Mapped[Decimal]
    to_interest: Mapped[Decimal]
    to_principal: Mapped[Decimal]
    excess: Mapped[Decimal]
    principal_after: Mapped[Decimal]
    accrued_after: Mapped[Decimal] = mapped_column(Accrual)
    fees_after: Mapped[Decimal]
    # Cumulative amount applied (fees, interest, principal): what pays installments (risk.delinquency);
    # fees count too, so late fees never pyramid (operations' module docstring).
    credited_after: Mapped[Decimal]

    payment: Mapped[Payment] = relationship(back_populates="allocation")


ADJUSTMENT_KINDS = ("write_off", "refund_due")


class Adjustment(db.Model):  # type: ignore[name-defined,misc]
    """A closing adjustment the replay derives at or after maturity (derived data, like allocations).

    ``write_off``: a residual owed of at most ``MATURITY_RESIDUAL_TOLERANCE`` left on or after the
    maturity date is written off as a small balance (its parts: fees, interest, principal), and the
    loan pays off. ``refund_due``: what a payment paid beyond the payoff (``payment_id``), owed back
    to the borrower. A replay from a date re-derives the adjustments from that date; each one that
    appears or disappears is audited (``loan.small_balance_written_off``, ``loan.refund_due``,
    ``loan.adjustment_withdrawn``).
    """

    __tablename__ = "loan_adjustments"
    __table_args__ = (
        CheckConstraint(one_of("kind", ADJUSTMENT_KINDS), name="kind_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("to_fees >= 0 AND to_interest >= 0 AND to_principal >= 0", name="parts_not_negative"),
        CheckConstraint(
            "(kind = 'refund_due' AND payment_id IS NOT NULL) OR (kind = 'write_off' AND payment_id IS NULL)",
            name="refund_links_payment",
        ),
        Index("ix_loan_adjustments_loan_effective", "loan_id", "effective_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(String(12))
    effective_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    to_fees: Mapped[Decimal]
    to_interest: Mapped[Decimal]
    to_principal: Mapped[Decimal]
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("loan_payments.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoanServicing(db.Model):  # type: ignore[name-defined,misc]
    """A loan's current servicing state, derived from its payments and schedule.

    ``days_past_due`` and ``bucket`` are as of ``aged_on`` (the nightly aging, or the business date
    of the last payment change). ``version`` lets the set-based aging skip a row that a payment
    changed while it ran.
    """

    __tablename__ = "loan_servicing"
    __table_args__ = (
        CheckConstraint("principal_balance >= 0", name="principal_not_negative"),
        CheckConstraint("accrued_interest >= 0", name="accrued_not_negative"),
        CheckConstraint("fees_due >= 0", name="fees_not_negative"),
        CheckConstraint(
            "total_paid >= 0 AND total_to_fees >= 0 AND total_to_interest >= 0 AND total_to_principal >= 0 "
            "AND total_excess >= 0",
            name="totals_not_negative",
        ),
        CheckConstraint("days_past_due >= 0", name="days_past_due_not_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_loan_servicing_days_past_due", "days_past_due"),
    )

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    principal_balance: Mapped[Decimal]
    accrued_interest: Mapped[Decimal] = mapped_column(Accrual)
    interest_as_of: Mapped[date] = mapped_column(Date)
    fees_due: Mapped[Decimal]
    total_paid: Mapped[Decimal]
    total_to_fees: Mapped[Decimal]
    total_to_interest: Mapped[Decimal]
    total_to_principal: Mapped[Decimal]
    total_excess: Mapped[Decimal]
    last_payment_on: Mapped[date | None] = mapped_column(Date)
    paid_off_on: Mapped[date | None] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(20))
    aged_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    loan: Mapped[Loan] = relationship()

    @property
    def credited(self) -> Decimal:
        return self.total_to_fees + self.total_to_interest + self.total_to_principal


class BucketHistory(db.Model):  # type: ignore[name-defined,misc]
    """The loan's delinquency bucket over time: open from ``opened_on`` until ``closed_on`` (exclusive).

    One open row per loan (``closed_on`` null). Terminal rows (``paid_off``, ``charged_off``) stay
    open. Monthly roll rates are read from it: a loan's bucket at each month end.
    """

    __tablename__ = "loan_bucket_history"
    __table_args__ = (
        CheckConstraint("closed_on IS NULL OR closed_on > opened_on", name="closes_after_opening"),
        Index("ix_loan_bucket_history_loan_opened", "loan_id", "opened_on"),
        Index(
            "ux_loan_bucket_history_open",
            "loan_id",
            unique=True,
            postgresql_where=text("closed_on IS NULL"),
            sqlite_where=text("closed_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    bucket: Mapped[str] = mapped_column(String(20))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)


class ChargeOff(db.Model):  # type: ignore[name-defined,misc]
    """A loan charged off under the credit union's policy, and the reserve claim it filed."""

    __tablename__ = "loan_charge_offs"
    __table_args__ = (
        CheckConstraint(one_of("collateral_status", COLLATERAL_STATUSES), name="collateral_status_known"),
        CheckConstraint(
            "principal_balance >= 0 AND accrued_interest >= 0 AND fees_due >= 0", name="amounts_not_negative"
        ),
        CheckConstraint("collateral_proceeds >= 0 AND allowed_costs >= 0", name="claim_parts_not_negative"),
        CheckConstraint("days_past_due >= 0", name="days_past_due_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), unique=True)
    charged_off_on: Mapped[date] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer)
    principal_balance: Mapped[Decimal]
    accrued_interest: Mapped[Decimal]
    fees_due: Mapped[Decimal]
    collateral_status: Mapped[str] = mapped_column(String(20))
    collateral_proceeds: Mapped[Decimal]
    allowed_costs: Mapped[Decimal]
    # The reserve claim, by value (the reserve ledger has no foreign keys to the app).
    claim_id: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(Text, default="")
    charged_off_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def balance(self) -> Decimal:
        return self.principal_balance + self.accrued_interest + self.fees_due


class Recovery(db.Model):  # type: ignore[name-defined,misc]
    """Money recovered on a charged-off loan; the part returned to the reserve is posted there too."""

    __tablename__ = "loan_recoveries"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("to_reserve >= 0 AND to_reserve <= amount", name="to_reserve_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    amount: Mapped[Decimal]
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100), default="")
    idempotency_key: Mapped[str] = mapped_column(String(220), unique=True)
    to_reserve: Mapped[Decimal]
    reserve_transaction_id: Mapped[int | None] = mapped_column(BigInteger)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class DelinquencySnapshot(db.Model):  # type: ignore[name-defined,misc]
    """Month-end delinquency per bucket (the monthly job's output; the chart of delinquency over time)."""

    __tablename__ = "delinquency_snapshots"
    __table_args__ = (
        UniqueConstraint("as_of", "scheme", "bucket", name="uq_delinquency_snapshots_as_of_scheme_bucket"),
        CheckConstraint(one_of("scheme", ("program", "call_report", "total")), name="scheme_known"),
        CheckConstraint("loan_count >= 0 AND principal_balance >= 0", name="figures_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    scheme: Mapped[str] = mapped_column(String(12))
    bucket: Mapped[str] = mapped_column(String(20))
    loan_count: Mapped[int] = mapped_column(Integer)
    principal_balance: Mapped[Decimal]


class MonthEndPosition(db.Model):  # type: ignore[name-defined,misc]
    """Each live loan's days past due, credits and principal on a month end (derived data).

    Written by the month-end delinquency snapshot for every loan live that day, and rewritten for a
    loan by the transaction of any payment change dated on or before it (``operations.replay``), so
    the delinquency report of a past month end reads one row per loan instead of replaying credits.
    """

    __tablename__ = "loan_month_end_positions"
    __table_args__ = (
        CheckConstraint("days_past_due >= 0", name="days_past_due_not_negative"),
        CheckConstraint("credited >= 0 AND principal_balance >= 0", name="amounts_not_negative"),
        Index("ix_loan_month_end_positions_as_of", "as_of"),
    )

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    days_past_due: Mapped[int] = mapped_column(Integer)
    credited: Mapped[Decimal]
    principal_balance: Mapped[Decimal]
