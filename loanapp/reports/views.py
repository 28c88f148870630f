"""The program report page (tables and server-drawn charts) and its CSV export.

For Work Train staff (and officers and admins). Built from aggregates only: no name, no SSN digit,
no document ever reaches these pages.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask_wtf import FlaskForm

from loanapp import charts
from loanapp.access import roles
from loanapp.applications.forms import DayField
from loanapp.applications.vocabulary import ADVERSE_ACTION_REASONS, label
from loanapp.exports import SafeWriter
from loanapp.reports import queries
from loanapp.reports.charts import horizontal_bars
from loanapp.reports.program import DIMENSIONS, GroupFigures, Report, build

bp = Blueprint("reports", __name__, url_prefix="/reports")

COLUMNS = (
    "applications",
    "approvals",
    "counter_offers",
    "declines",
    "approval_rate",
    "median_days_to_decision",
    "loans_booked",
    "amount_booked",
)


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DayField("From")
    end = DayField("To")


def _period() -> tuple[PeriodForm, date | None, date | None]:
    form = PeriodForm(request.args)
    form.validate()
    return form, form.start.data, form.end.data


def _report(start: date | None, end: date | None) -> Report:
    return build(queries.facts(current_app.config["TIMEZONE"], start, end))


CHART_MONTHS = 18  # the chart's window; the table below it lists every month, and the page says so


def monthly_chart(report: Report) -> Any:
    months = report.groups["month"][-CHART_MONTHS:]
    return charts.render(
        charts.Chart(
            title="Applications, decisions and loans by month",
            x_labels=[g.name for g in months],
            series=[
                charts.Series("Applications", [g.applications for g in months], "series-1"),
                charts.Series(
                    "Approved (incl. counter-offers)",
                    [g.approvals + g.counter_offers for g in months],
                    "series-3",
                ),
                charts.Series("Declined", [g.declines for g in months], "series-2"),
                charts.Series("Loans booked", [g.loans_booked for g in months], "series-4"),
            ],
            bars=True,
            y_format=lambda v: f"{v:,.0f}" if v == v.to_integral_value() else f"{v:,.1f}",
        )
    )


@bp.route("/program")
@roles("staff", "officer", "admin")
def program():  # type: ignore[no-untyped-def]
    form, start, end = _period()
    report = _report(start, end)
    reasons = [(label(ADVERSE_ACTION_REASONS, code), count) for code, count in report.decline_reasons]
    employers = [(g.name, g.applications) for g in report.groups["employer"][:15]]
    return render_template(
        "reports/program.html",
        form=form,
        report=report,
        dimensions=DIMENSIONS,
        monthly_chart=monthly_chart(report) if report.total.applications else None,
        month_count=len(report.groups["month"]),
        chart_months=CHART_MONTHS,
        reasons_chart=horizontal_bars("Principal reasons for declines", reasons, "series-2"),
        employers_chart=horizontal_bars("Applications by employer", employers),
        reasons=reasons,
        csv_args={k: v for k, v in request.args.items() if k in ("start", "end") and v},
    )


def _cells(group: GroupFigures) -> list[str]:
    return [
        str(group.applications),
        str(group.approvals),
        str(group.counter_offers),
        str(group.declines),
        "" if group.approval_rate is None else str(group.approval_rate),
        "" if group.median_days_to_decision is None else str(group.median_days_to_decision),
        str(group.loans_booked),
        f"{group.amount_booked:.2f}",
    ]


@bp.route("/program.csv")
@roles("staff", "officer", "admin")
def program_csv():  # type: ignore[no-untyped-def]
    _form, start, end = _period()
    report = _report(start, end)
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(["dimension", "group", *COLUMNS])
    writer.writerow(["total", report.total.name, *_cells(report.total)])
    for key, _title, _read in DIMENSIONS:
        for group in report.groups[key]:
            writer.writerow([key, group.name, *_cells(group)])
    for code, count in report.decline_reasons:
        writer.writerow(["decline_reason", label(ADVERSE_ACTION_REASONS, code), "", "", "", str(count)])
    name = f"program-report-{start or 'start'}-to-{end or 'today'}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
