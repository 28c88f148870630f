"""Funder-pack pages: the enrolment register (page and CSV) and the claim packet. Parse, call, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, render_template, request

import reserve
from loanapp.access import roles
from loanapp.clock import business_date
from loanapp.collections.forms import STATUS_NAMES as PROMISE_STATUS_NAMES
from loanapp.exports import csv_response, csv_text
from loanapp.funder.pack import funder_pack
from loanapp.funder.packet import claim_packet
from loanapp.funder.register import CSV_COLUMNS, enrolment_register
from loanapp.reserve_admin.months import BadMonth, parse_month
from loanapp.servicing.forms import COLLATERAL_NAMES
from loanapp.servicing.policy import current_policy

bp = Blueprint("funder", __name__, url_prefix="/reserve")

#: How a register status (a bucket label) is printed.
STATUS_NAMES = {"paid_off": "Paid off", "charged_off": "Charged off", "current": "Current"}
CLAIM_STATUS_NAMES = {"pending": "Pending", "paid": "Paid", "rejected": "Rejected"}


def status_name(label: str) -> str:
    return STATUS_NAMES.get(label, f"{label} days past due")


def _register(raw_month: str) -> Any:
    """The register, or the message that explains why there is none (a bad month; a ledger that does not foot)."""
    try:
        year, month = parse_month(raw_month, business_date())
    except BadMonth as exc:
        return None, str(exc), 400
    try:
        return enrolment_register(year, month, current_policy().current), None, 200
    except reserve.LedgerInconsistent:
        message = (
            f"The reserve ledger does not add up for {dt.date(year, month, 1):%B %Y}, so the register is "
            "not shown. Nothing has been changed; ask the administrator to run the reserve check."
        )
        return None, message, 409


@bp.route("/pack")
@roles("staff", "admin")
def pack():  # type: ignore[no-untyped-def]
    """The month's funder pack: outcomes, statement, register, claims and the grant needed, on one page."""
    raw = request.args.get("month", "")
    try:
        year, month = parse_month(raw, business_date())
    except BadMonth as exc:
        return render_template("funder/pack.html", pack=None, error=str(exc), month=raw), 400
    try:
        found = funder_pack(year, month, current_policy().current)
    except reserve.LedgerInconsistent:
        message = (
            f"The reserve ledger does not add up for {dt.date(year, month, 1):%B %Y}, so the pack is not "
            "shown. Nothing has been changed; ask the administrator to run the reserve check."
        )
        return render_template("funder/pack.html", pack=None, error=message, month=raw), 409
    return render_template(
        "funder/pack.html",
        pack=found,
        error=None,
        month=f"{year}-{month:02d}",
        prepared_on=business_date(),
        claim_status_names=CLAIM_STATUS_NAMES,
    )


@bp.route("/register")
@roles("staff", "admin")
def register():  # type: ignore[no-untyped-def]
    raw = request.args.get("month", "")
    result, error, status = _register(raw)
    month = f"{result.year}-{result.month:02d}" if result is not None else raw
    return render_template(
        "funder/register.html",
        r=result,
        error=error,
        month=month,
        status_name=status_name,
        claim_status_names=CLAIM_STATUS_NAMES,
        prepared_on=business_date(),
    ), status


@bp.route("/register.csv")
@roles("staff", "admin")
def register_csv():  # type: ignore[no-untyped-def]
    result, error, status = _register(request.args.get("month", ""))
    if result is None:
        abort(status, description=error)
    return csv_response(
        csv_text(CSV_COLUMNS, (line.csv_row() for line in result.lines)),
        f"enrolment-register-{result.year}-{result.month:02d}.csv",
    )


@bp.route("/claims/<int:claim_id>/packet")
@roles("staff", "officer", "admin")
def packet(claim_id: int):  # type: ignore[no-untyped-def]
    try:
        found = claim_packet(claim_id, business_date(), current_policy())
    except reserve.ClaimNotFound:
        abort(404)
    return render_template(
        "funder/packet.html",
        p=found,
        status_name=status_name,
        claim_status_names=CLAIM_STATUS_NAMES,
        prepared_on=business_date(),
        collateral_names=COLLATERAL_NAMES,
        promise_status_names=PROMISE_STATUS_NAMES,
    )
