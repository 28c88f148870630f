"""The outcome report as JSON (the API) and as CSV rows: money and medians as exact strings, shares
as percent strings with one decimal, suppressed figures as null (JSON) or "fewer than 5" (CSV)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from loanapp.outcomes import report as rpt


def _s(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def _milestone(m: rpt.MilestoneFigures) -> dict[str, Any]:
    return {
        "months": m.months,
        "counted": m.counted,
        "reached": m.reached,
        "not_reached": m.not_reached,
        "awaiting": m.awaiting,
        "suppressed": m.suppressed,
        "employed": m.employed,
        "share_employed": _s(m.share_employed),
        "same_employer": m.same_employer,
        "wage_workers": m.wage_workers,
        "median_wage_at_application": _s(m.median_wage_at_application),
        "median_wage": _s(m.median_wage),
        "median_wage_change": _s(m.median_wage_change),
        "median_hours": _s(m.median_hours),
    }


def group_document(g: rpt.GroupOutcomes) -> dict[str, Any]:
    if g.suppressed:
        return {"name": g.name, "borrowers": None, "suppressed": True, "note": "fewer than 5"}
    return {
        "name": g.name,
        "borrowers": g.borrowers,
        "suppressed": False,
        "milestones": [_milestone(m) for m in g.milestones],
        "started_job": {
            "applicants": g.start_applicants,
            "answered": g.start_answered,
            "started": g.started,
            "share": _s(g.share_started),
        },
        "median_wage_at_application": _s(g.median_wage_at_application),
        "median_hours_at_application": _s(g.median_hours_at_application),
        "performance": g.performance,
    }


def report_document(
    report: rpt.OutcomeReport, as_of: dt.date, booked_from: dt.date | None, booked_to: dt.date | None
) -> dict[str, Any]:
    h = report.headline
    return {
        "as_of": as_of.isoformat(),
        "booked_from": booked_from.isoformat() if booked_from else None,
        "booked_to": booked_to.isoformat() if booked_to else None,
        "months": list(report.months),
        "min_group": report.min_group,
        "headline": {
            "loans_made": h.loans_made,
            "reached_12_months": h.reached_12,
            "employed_12_months": h.employed_12,
            "share_employed_12_months": _s(h.share_employed_12),
            "median_wage_change": _s(h.median_wage_change),
            "wage_change_workers": h.wage_change_workers,
            "reserve_used": _s(h.reserve_used),
            "reserve_used_per_employed_worker": _s(h.reserve_used_per_employed_worker),
        },
        "total": group_document(report.total),
        "groups": {key: [group_document(g) for g in groups] for key, groups in report.groups.items()},
    }


HIDDEN = "fewer than 5"


def csv_rows(report: rpt.OutcomeReport) -> list[list[str]]:
    """One row per group and check-in month, plus the headline; suppressed cells say "fewer than 5"."""

    def cell(value: object, suppressed: bool = False) -> str:
        if suppressed:
            return HIDDEN
        return "" if value is None else str(value)

    header = [
        "dimension", "group", "borrowers", "months", "reached", "not_reached", "awaiting", "employed",
        "share_employed_percent", "same_employer", "median_wage_at_application", "median_wage",
        "median_wage_change", "median_hours", "started_job", "share_started_percent", "current",
        "delinquent", "charged_off", "paid_off",
    ]  # fmt: skip
    rows = [header]
    h = report.headline
    rows.append(
        [
            "headline",
            "loans made",
            str(h.loans_made),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    rows.append(
        ["headline", "still employed at 12 months", cell(h.reached_12), "12", cell(h.reached_12), "", "",
         cell(h.employed_12), cell(h.share_employed_12), "", "", "", cell(h.median_wage_change), "", "", "",
         "", "", "", ""]
    )  # fmt: skip
    rows.append(
        ["headline", "reserve used per worker still employed", cell(h.reserve_used_per_employed_worker),
         "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""]
    )  # fmt: skip
    groups = [("total", report.total)] + [(key, g) for key, gs in report.groups.items() for g in gs]
    for key, g in groups:
        if g.suppressed:
            rows.append([key, g.name, HIDDEN] + [HIDDEN] * (len(header) - 3))
            continue
        for m in g.milestones:
            rows.append(
                [key, g.name, str(g.borrowers), str(m.months), str(m.reached), str(m.not_reached),
                 str(m.awaiting), cell(m.employed, m.suppressed), cell(m.share_employed, m.suppressed),
                 cell(m.same_employer, m.suppressed), cell(m.median_wage_at_application, m.suppressed),
                 cell(m.median_wage, m.suppressed), cell(m.median_wage_change, m.suppressed),
                 cell(m.median_hours, m.suppressed), cell(g.started), cell(g.share_started),
                 *(str(g.performance.get(p, 0)) for p in rpt.PERFORMANCE)]
            )  # fmt: skip
    return rows
