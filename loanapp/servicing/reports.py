"""The delinquency report as of a date, its CSV, and the monthly snapshot behind the chart over time.

Figures per bucket (program buckets and the call report's), by employer and by training program, and
the 60+ delinquency ratio (principal of loans 60 or more days past due over all principal
outstanding; also by count). Percentages are exact Decimals rounded half-up to 0.01.

Each loan's days past due and principal on the date come from ``positions.positions_on``: the
nightly aging's stored figures on the date it last ran, the month-end positions stored with each
monthly snapshot (and kept current by later corrections) on a month end, else computed from the
credits received by that date.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, insert, select

from loanapp.exports import SafeWriter
from loanapp.extensions import db
from loanapp.programs.models import Employer, TrainingProgram
from loanapp.servicing import positions
from loanapp.servicing.models import DelinquencySnapshot
from loanapp.servicing.policy import ServicingPolicy, current_policy
from risk.delinquency import BucketScheme
from risk.money import from_cents

IntArray = npt.NDArray[np.int64]
HUNDRED = Decimal(100)
#: The usual headline ratio counts loans 60 or more days past due (PROGRAM.md).
RATIO_DAYS = 60


def percent(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal("0.00")
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class BucketLine:
    label: str
    loans: int
    balance: Decimal
    share_of_loans: Decimal
    share_of_balance: Decimal


@dataclass(frozen=True)
class GroupLine:
    name: str
    loans: int
    balance: Decimal
    past_due_loans: int  # 30 days or more
    ratio_loans: int  # 60 days or more
    ratio_balance: Decimal
    ratio: Decimal  # percent of the group's balance 60+ days past due


@dataclass(frozen=True)
class DelinquencyReport:
    as_of: dt.date
    source: str  # "aging" (the nightly run's), "month_end" (the snapshot's positions) or "computed"
    loans: int
    balance: Decimal
    program: list[BucketLine]
    call_report: list[BucketLine]
    by_employer: list[GroupLine]
    by_program: list[GroupLine]
    ratio_balance: Decimal
    ratio_loans: Decimal
    ratio_days: int = RATIO_DAYS


@dataclass(frozen=True)
class _Rows:
    days: IntArray
    balance: IntArray
    employer: IntArray
    program: IntArray


def _rows_of(found: positions.Positions) -> _Rows:
    return _Rows(found.days_past_due, found.balance_cents, found.employer_ids, found.program_ids)


def _buckets(scheme: BucketScheme, rows: _Rows, below: str | None = None) -> list[BucketLine]:
    index = scheme.indexes_for(rows.days)
    total_loans, total_cents = len(rows.days), int(rows.balance.sum())
    lines = []
    groups: list[tuple[str, int]] = ([(below, -1)] if below else []) + [
        (label, i) for i, label in enumerate(scheme.labels)
    ]
    for label, i in groups:
        mask = index == i
        loans, cents = int(mask.sum()), int(rows.balance[mask].sum())
        lines.append(
            BucketLine(
                label, loans, from_cents(cents), percent(loans, total_loans), percent(cents, total_cents)
            )
        )
    return lines


def _groups(keys: IntArray, names: dict[int, str], rows: _Rows, unknown: str) -> list[GroupLine]:
    lines = []
    for key in np.unique(keys).tolist():
        mask = keys == key
        balance = rows.balance[mask]
        days = rows.days[mask]
        late = days >= RATIO_DAYS
        ratio_cents, cents = int(balance[late].sum()), int(balance.sum())
        lines.append(
            GroupLine(
                name=names.get(key, unknown),
                loans=int(mask.sum()),
                balance=from_cents(cents),
                past_due_loans=int((days >= 30).sum()),
                ratio_loans=int(late.sum()),
                ratio_balance=from_cents(ratio_cents),
                ratio=percent(ratio_cents, cents),
            )
        )
    return sorted(lines, key=lambda line: (-line.balance, line.name))


def delinquency_report(
    as_of: dt.date, *, policy: ServicingPolicy | None = None, progress: Callable[[str], None] | None = None
) -> DelinquencyReport:
    policy = policy or current_policy()
    return _report(positions.positions_on(as_of, policy=policy, progress=progress), policy)


def _report(found: positions.Positions, policy: ServicingPolicy) -> DelinquencyReport:
    rows = _rows_of(found)
    employers = dict(db.session.execute(select(Employer.id, Employer.name)).all())
    programs = dict(db.session.execute(select(TrainingProgram.id, TrainingProgram.name)).all())
    late = rows.days >= RATIO_DAYS
    total_cents = int(rows.balance.sum())
    return DelinquencyReport(
        as_of=found.as_of,
        source=found.source,
        loans=len(rows.days),
        balance=from_cents(total_cents),
        program=_buckets(policy.buckets, rows),
        call_report=_buckets(policy.call_report, rows, below=f"under {policy.call_report.lower_bounds[0]}"),
        by_employer=_groups(rows.employer, employers, rows, "Other or not stated"),
        by_program=_groups(rows.program, programs, rows, "No training program"),
        ratio_balance=percent(int(rows.balance[late].sum()), total_cents),
        ratio_loans=percent(int(late.sum()), len(rows.days)),
    )


def report_csv(report: DelinquencyReport) -> str:
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(
        ["as_of", "section", "group", "loans", "principal_balance", "percent_of_loans", "percent_of_balance"]
    )
    for section, lines in (("program_bucket", report.program), ("call_report_bucket", report.call_report)):
        for line in lines:
            writer.writerow(
                [
                    report.as_of,
                    section,
                    line.label,
                    line.loans,
                    line.balance,
                    line.share_of_loans,
                    line.share_of_balance,
                ]
            )
    for section, groups in (("employer", report.by_employer), ("training_program", report.by_program)):
        for group in groups:
            writer.writerow([report.as_of, section, group.name, group.loans, group.balance, "", ""])
            writer.writerow(
                [
                    report.as_of,
                    f"{section}_60_plus",
                    group.name,
                    group.ratio_loans,
                    group.ratio_balance,
                    percent(group.ratio_loans, group.loans),
                    group.ratio,
                ]
            )
    writer.writerow([report.as_of, "ratio_60_plus", "all", "", "", report.ratio_loans, report.ratio_balance])
    writer.writerow([report.as_of, "total", "all", report.loans, report.balance, "100.00", "100.00"])
    return out.getvalue()


def take_snapshot(as_of: dt.date, *, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Store the delinquency per bucket on ``as_of`` and every live loan's position that day, replacing a
    snapshot of that date (same transaction). The positions are computed from the credits, never
    taken from earlier stored figures, so a snapshot taken again repairs the date."""
    policy = current_policy()
    found = positions.computed(as_of, policy, progress)
    positions.store_month_end(found)
    report = _report(found, policy)
    db.session.execute(delete(DelinquencySnapshot).where(DelinquencySnapshot.as_of == as_of))
    rows = [
        {
            "as_of": as_of,
            "scheme": scheme,
            "bucket": line.label,
            "loan_count": line.loans,
            "principal_balance": line.balance,
        }
        for scheme, lines in (("program", report.program), ("call_report", report.call_report))
        for line in lines
    ]
    rows.append(
        {
            "as_of": as_of,
            "scheme": "total",
            "bucket": "all",
            "loan_count": report.loans,
            "principal_balance": report.balance,
        }
    )
    db.session.execute(insert(DelinquencySnapshot), rows)
    return {"as_of": as_of.isoformat(), "loans": report.loans, "rows": len(rows), "source": report.source}


@dataclass(frozen=True)
class SeriesPoint:
    as_of: dt.date
    balance: Decimal
    past_due_30: Decimal  # percent of balance 30+ days past due
    past_due_60: Decimal


def delinquency_over_time(months: int = 24, policy: ServicingPolicy | None = None) -> list[SeriesPoint]:
    """Month-end points from the snapshots (the program's buckets from 30 and from 60 days on)."""
    policy = policy or current_policy()
    dates = list(
        db.session.scalars(
            select(DelinquencySnapshot.as_of)
            .where(DelinquencySnapshot.scheme == "total")
            .order_by(DelinquencySnapshot.as_of.desc())
            .limit(months)
        )
    )
    if not dates:
        return []
    bounds = dict(zip(policy.buckets.labels, policy.buckets.lower_bounds, strict=True))
    by_date: dict[dt.date, dict[str, Decimal]] = {}
    for as_of, scheme, bucket, balance in db.session.execute(
        select(
            DelinquencySnapshot.as_of,
            DelinquencySnapshot.scheme,
            DelinquencySnapshot.bucket,
            DelinquencySnapshot.principal_balance,
        ).where(DelinquencySnapshot.as_of.in_(dates), DelinquencySnapshot.scheme.in_(("program", "total")))
    ):
        entry = by_date.setdefault(as_of, {"total": Decimal(0), "30": Decimal(0), "60": Decimal(0)})
        amount = Decimal(str(balance))
        if scheme == "total":
            entry["total"] = amount
        elif bucket in bounds:
            entry["30"] += amount if bounds[bucket] >= 30 else 0
            entry["60"] += amount if bounds[bucket] >= 60 else 0

    def share(part: Decimal, whole: Decimal) -> Decimal:
        return Decimal("0.00") if whole == 0 else (part * HUNDRED / whole).quantize(Decimal("0.01"))

    return [
        SeriesPoint(
            d,
            by_date[d]["total"],
            share(by_date[d]["30"], by_date[d]["total"]),
            share(by_date[d]["60"], by_date[d]["total"]),
        )
        for d in sorted(by_date)
    ]
