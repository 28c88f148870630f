"""Importing the core system's payment export (CSV).

The file has a header row with the columns ``loan_id, amount, received_on, method, reference``
(``received_on`` as YYYY-MM-DD; ``method`` one of ``PAYMENT_METHODS``; ``reference`` the core
system's unique id of the payment). Every row is checked before anything is posted and every bad row
is reported with its line number; a file with errors posts nothing unless the caller asks to skip
the bad rows. A row is keyed by its reference, so importing a file again posts nothing twice (a
reference seen before with other details is an error).

The caller commits (or rolls back) the unit of work: all of a file's rows land together.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from sqlalchemy import select

from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.loans.states import LoanStatus
from loanapp.servicing import operations
from loanapp.servicing.errors import ServicingError
from loanapp.servicing.models import Payment
from loanapp.servicing.policy import current_policy

COLUMNS = ("loan_id", "amount", "received_on", "method", "reference")


@dataclass(frozen=True)
class ImportRow:
    line: int
    loan_id: int
    payment: operations.PaymentInput


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    posted: int = 0
    already_posted: int = 0
    errors: list[RowError] = field(default_factory=list)
    skipped: int = 0
    posted_anything: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


Progress = Callable[[int], None]


def _read_rows(stream: IO[bytes] | IO[str]) -> Iterable[tuple[int, dict[str, str]]] | RowError:
    raw = stream.read()
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return RowError(0, "The file is not UTF-8 text (export it as CSV, UTF-8).")
    else:
        text = raw.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return RowError(
            1,
            "The header row must name the columns "
            + ", ".join(COLUMNS)
            + "; missing: "
            + ", ".join(missing)
            + ".",
        )
    reader.fieldnames = header

    def rows() -> Iterable[tuple[int, dict[str, str]]]:
        for record in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in record.items() if k}

    return rows()


def parse(stream: IO[bytes] | IO[str], max_rows: int) -> tuple[list[ImportRow], list[RowError]]:
    """Read every row into typed values; each bad field is an error on its line."""
    read = _read_rows(stream)
    if isinstance(read, RowError):
        return [], [read]
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    for count, (line, record) in enumerate(read, start=1):
        if count > max_rows:
            errors.append(RowError(line, f"The file has more than {max_rows} rows; split it."))
            break
        if not any(record.values()):
            continue  # a blank line
        problems: list[str] = []
        loan_id = record.get("loan_id", "")
        if not loan_id.isdigit():
            problems.append(f"loan_id {loan_id!r} is not a loan number")
        amount: Decimal | None = None
        try:
            amount = Decimal(record.get("amount", "").replace("$", "").replace(",", ""))
            if not amount.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems.append(f"amount {record.get('amount')!r} is not an amount")
        received: dt.date | None = None
        try:
            received = dt.date.fromisoformat(record.get("received_on", ""))
        except ValueError:
            problems.append(f"received_on {record.get('received_on')!r} is not a date like 2026-11-30")
        method = record.get("method", "").lower()
        reference = record.get("reference", "")
        if not reference:
            problems.append("reference is empty (the core system's payment id keys the import)")
        if problems:
            errors.append(RowError(line, "; ".join(problems) + "."))
            continue
        assert amount is not None and received is not None
        rows.append(
            ImportRow(line, int(loan_id), operations.PaymentInput(amount, received, method, reference))
        )
    return rows, errors


def validate(
    rows: list[ImportRow], progress: Progress | None = None
) -> tuple[list[ImportRow], list[ImportRow], list[RowError]]:
    """Check each row against the loans and earlier imports, without writing.

    Returns (rows to post, rows already posted, errors).
    """
    policy = current_policy()
    today = business_date()
    loan_ids = {row.loan_id for row in rows}
    loans = (
        {loan.id: loan for loan in db.session.scalars(select(Loan).where(Loan.id.in_(loan_ids)))}
        if loan_ids
        else {}
    )
    keys = [operations.import_key(row.payment.reference) for row in rows]
    seen = (
        {
            p.idempotency_key: p
            for p in db.session.scalars(select(Payment).where(Payment.idempotency_key.in_(keys)))
        }
        if keys
        else {}
    )
    first_line: dict[str, int] = {}
    to_post: list[ImportRow] = []
    done: list[ImportRow] = []
    errors: list[RowError] = []
    for row, key in zip(rows, keys, strict=True):
        if progress:
            progress(1)
        if key in first_line:
            errors.append(
                RowError(row.line, f"reference {row.payment.reference!r} is also on line {first_line[key]}.")
            )
            continue
        first_line[key] = row.line
        loan = loans.get(row.loan_id)
        if loan is None:
            errors.append(RowError(row.line, f"there is no loan {row.loan_id}."))
            continue
        previous = seen.get(key)
        if previous is not None:
            same = (
                previous.loan_id == row.loan_id
                and previous.amount == row.payment.amount
                and previous.received_on == row.payment.received_on
                and previous.method == row.payment.method
            )
            if same:
                done.append(row)
            else:
                errors.append(
                    RowError(
                        row.line,
                        f"reference {row.payment.reference!r} was imported before with other details "
                        f"(loan {previous.loan_id}, {previous.amount} on {previous.received_on}).",
                    )
                )
            continue
        if loan.status != LoanStatus.ACTIVE:
            words = "paid off" if loan.status == LoanStatus.PAID_OFF else "charged off"
            errors.append(RowError(row.line, f"loan {row.loan_id} is {words}; it takes no payments."))
            continue
        try:
            operations.check_payment(loan, row.payment, policy, today)
        except ServicingError as exc:
            reasons = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.errors.items())
            errors.append(RowError(row.line, reasons or exc.message))
            continue
        to_post.append(row)
    return to_post, done, errors


def import_payments(
    stream: IO[bytes] | IO[str],
    *,
    actor: Any,
    skip_bad: bool = False,
    max_rows: int = 50000,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate the whole file, then post its good rows (all, or none when a row is bad and
    ``skip_bad`` is off). Rows are posted per loan in received-date order."""
    rows, errors = parse(stream, max_rows)
    report = ImportReport(rows=len(rows) + len(errors))
    to_post, done, invalid = validate(rows, progress)
    report.errors = sorted(errors + invalid, key=lambda e: e.line)
    report.already_posted = len(done)
    if report.errors and not skip_bad:
        return report
    report.skipped = len(report.errors)
    for row in sorted(to_post, key=lambda r: (r.loan_id, r.payment.received_on, r.line)):
        try:
            with db.session.begin_nested():
                result = operations.record_payment(
                    row.loan_id,
                    row.payment,
                    actor=actor,
                    key=operations.import_key(row.payment.reference),
                    source="import",
                )
        except ServicingError as exc:
            reasons = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.errors.items())
            report.errors.append(RowError(row.line, reasons or exc.message))
            if not skip_bad:
                report.posted = 0
                return report
            report.skipped += 1
            continue
        finally:
            if progress:
                progress(1)
        if result.created:
            report.posted += 1
        else:
            report.already_posted += 1
    report.errors.sort(key=lambda e: e.line)
    report.posted_anything = report.posted > 0
    return report
