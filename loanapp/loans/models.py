"""A booked loan, the disclosure it was booked with, and its disclosed payment schedule.

The Truth-in-Lending figures and the schedule are stored as disclosed (12 CFR 1026.18): they are
what the borrower signed, so they are never recomputed. Servicing (payments, payoff, charge-off)
adds its own tables and moves ``status`` through ``loanapp.loans.states``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanapp.accounts.models import User
from loanapp.applications.models import Application
from loanapp.db import one_of, utcnow
from loanapp.extensions import db
from loanapp.loans.states import LoanStatus
from loanapp.programs.models import Employer


class Loan(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint(one_of("status", [s.value for s in LoanStatus]), name="status_known"),
        CheckConstraint("principal > 0", name="principal_positive"),
        CheckConstraint("annual_rate >= 0 AND annual_rate <= 100", name="annual_rate_range"),
        CheckConstraint("term_months BETWEEN 1 AND 120", name="term_range"),
        CheckConstraint("first_payment_date > contract_date", name="first_payment_after_contract"),
        CheckConstraint("maturity_date >= first_payment_date", name="maturity_after_first_payment"),
        CheckConstraint("payment_amount > 0", name="payment_positive"),
        CheckConstraint("final_payment_amount > 0", name="final_payment_positive"),
        CheckConstraint("amount_financed > 0", name="amount_financed_positive"),
        CheckConstraint("prepaid_finance_charge >= 0", name="prepaid_finance_charge_not_negative"),
        CheckConstraint("finance_charge >= 0", name="finance_charge_not_negative"),
        # Within half a cent rather than "=": SQLite keeps NUMERIC as binary floating point.
        CheckConstraint(
            "abs(total_of_payments - amount_financed - finance_charge) < 0.005", name="totals_foot"
        ),
        CheckConstraint("apr >= 0", name="apr_not_negative"),
        CheckConstraint("reserve_commitment > 0", name="reserve_commitment_positive"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: an application is booked once, even if two officers press "Book" at the same instant.
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=LoanStatus.ACTIVE.value)
    version: Mapped[int] = mapped_column(Integer)

    principal: Mapped[Decimal]
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    term_months: Mapped[int]
    contract_date: Mapped[date] = mapped_column(Date)
    first_payment_date: Mapped[date] = mapped_column(Date)
    maturity_date: Mapped[date] = mapped_column(Date)
    payment_amount: Mapped[Decimal]
    final_payment_amount: Mapped[Decimal]

    # Truth-in-Lending figures as disclosed.
    amount_financed: Mapped[Decimal]
    prepaid_finance_charge: Mapped[Decimal]
    finance_charge: Mapped[Decimal]
    total_of_payments: Mapped[Decimal]
    apr: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    payment_summary: Mapped[str] = mapped_column(String(300))

    # The reserve set aside for this loan when it was booked (the ledger is the record; this is a copy
    # for display, with the ledger's transaction id by value: the reserve has no foreign keys).
    reserve_commitment: Mapped[Decimal]
    reserve_transaction_id: Mapped[int] = mapped_column(BigInteger)

    booked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    booked_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __mapper_args__ = {"version_id_col": version}

    application: Mapped[Application] = relationship()
    borrower: Mapped[User] = relationship(foreign_keys=[borrower_id])
    employer: Mapped[Employer | None] = relationship()
    installments: Mapped[list[LoanInstallment]] = relationship(
        back_populates="loan", order_by="LoanInstallment.number"
    )

    def __repr__(self) -> str:
        return f"<Loan {self.id} {self.status} {self.principal}>"


class LoanInstallment(db.Model):  # type: ignore[name-defined,misc]
    """One payment of the disclosed schedule (a projection that assumes on-time payments)."""

    __tablename__ = "loan_installments"
    __table_args__ = (
        UniqueConstraint("loan_id", "number", name="uq_loan_installments_loan_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("payment > 0", name="payment_positive"),
        CheckConstraint("interest >= 0", name="interest_not_negative"),
        CheckConstraint("principal >= 0", name="principal_not_negative"),
        CheckConstraint("abs(payment - interest - principal) < 0.005", name="payment_splits"),
        CheckConstraint("balance >= 0", name="balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    number: Mapped[int]
    due_date: Mapped[date] = mapped_column(Date)
    payment: Mapped[Decimal]
    interest: Mapped[Decimal]
    principal: Mapped[Decimal]
    balance: Mapped[Decimal]

    loan: Mapped[Loan] = relationship(back_populates="installments")
