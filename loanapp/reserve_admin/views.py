"""Reserve pages: parse the form or query, call one action or query, render."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

import reserve
from loanapp import charts
from loanapp.access import roles
from loanapp.clock import business_date
from loanapp.exports import SafeWriter
from loanapp.extensions import db
from loanapp.formatting import money as show_money
from loanapp.reserve_admin import actions
from loanapp.reserve_admin.figures import balance_history, figures
from loanapp.reserve_admin.forms import (
    ClaimDecisionForm,
    ClaimForm,
    DepositForm,
    InterestForm,
    MonthCloseForm,
    RecoveryForm,
    ReversalForm,
)
from loanapp.reserve_admin.months import BadMonth, parse_month
from loanapp.reserve_admin.policy import reserve_policy
from loanapp.reserve_admin.refusals import REFUSALS, status_for

bp = Blueprint("reserve_admin", __name__, url_prefix="/reserve")

READERS = ("staff", "officer", "admin")


def _date_arg(name: str) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{name} must be a date like 2026-11-30.")


def _attempt(form: Any, run: Any) -> Any:
    """Commit one ledger write, or put its refusal on the form and roll back. Returns the result or None."""
    try:
        result = run()
    except REFUSALS as exc:
        db.session.rollback()
        target = getattr(form, getattr(exc, "field", None) or "", None)
        if target is not None and hasattr(target, "errors") and target.name != "idempotency_key":
            target.errors = [*target.errors, str(exc)]
        else:
            form.form_errors.append(str(exc))
        form.refusal_status = status_for(exc)
        return None
    db.session.commit()
    return result


def _status(form: Any) -> int:
    return getattr(form, "refusal_status", 422) if form.is_submitted() else 200


@bp.route("")
@roles(*READERS)
def dashboard():  # type: ignore[no-untyped-def]
    as_of = _date_arg("as_of") or business_date()
    current = figures(as_of)
    history = balance_history(as_of, 24)
    chart = charts.Chart(
        title="Reserve balance, available and committed at each month-end",
        x_labels=[p.as_of.strftime("%b %y") for p in history],
        series=[
            charts.Series("Balance", [p.balance for p in history], "series-1"),
            charts.Series("Available", [p.available for p in history], "series-3"),
            charts.Series("Committed", [p.committed for p in history], "series-4"),
        ],
        y_format=lambda v: show_money(v).split(".")[0],
    )
    pending = reserve.list_claims(db.session, status=reserve.ClaimStatus.PENDING)
    return render_template(
        "reserve/dashboard.html",
        figures=current,
        chart=charts.render(chart),
        pending=pending,
        as_of=as_of,
        closed_through=reserve.closed_through(db.session),
        policy=reserve_policy(current_app.config),
        failed_check=_last_failed_check(),
    )


def _last_failed_check() -> Any:
    """The nightly reserve check's latest run when it failed (None when it passed or never ran)."""
    from sqlalchemy import select

    from loanapp.jobs.models import JobRun

    last = db.session.scalar(
        select(JobRun).where(JobRun.job == "reserve_check").order_by(JobRun.business_date.desc()).limit(1)
    )
    return last if last is not None and last.status == "failed" else None


@bp.route("/deposits", methods=["GET"])
@roles("staff")
def deposit_form():  # type: ignore[no-untyped-def]
    return render_template("reserve/deposit.html", form=DepositForm(), interest=InterestForm())


@bp.route("/deposits", methods=["POST"])
@roles("staff")
def record_deposit():  # type: ignore[no-untyped-def]
    form = DepositForm()
    if form.validate_on_submit():
        tx = _attempt(
            form,
            lambda: actions.deposit(
                current_user,
                form.idempotency_key.data,
                form.funder.data,
                form.grant.data,
                form.amount.data,
                form.received_on.data,
                form.memo.data or "",
            ),
        )
        if tx is not None:
            flash(f"Deposit of {show_money(form.amount.data)} recorded (transaction {tx.id}).", "success")
            return redirect(url_for("reserve_admin.dashboard"))
    return render_template("reserve/deposit.html", form=form, interest=InterestForm()), _status(form)


@bp.route("/interest", methods=["POST"])
@roles("staff")
def record_interest():  # type: ignore[no-untyped-def]
    form = InterestForm()
    if form.validate_on_submit():
        tx = _attempt(
            form,
            lambda: actions.interest(
                current_user,
                form.idempotency_key.data,
                form.amount.data,
                form.earned_on.data,
                form.memo.data or "",
            ),
        )
        if tx is not None:
            flash(f"Interest of {show_money(form.amount.data)} recorded (transaction {tx.id}).", "success")
            return redirect(url_for("reserve_admin.dashboard"))
    return render_template("reserve/deposit.html", form=DepositForm(), interest=form), _status(form)


def _journal_args() -> dict[str, Any]:
    kind = request.args.get("kind") or None
    if kind is not None and kind not in {k.value for k in reserve.TransactionKind}:
        abort(400, description="Unknown transaction kind.")
    loan = request.args.get("loan_id", "").strip()
    if loan and not loan.isdigit():
        abort(400, description="loan_id must be a number.")
    return {
        "date_from": _date_arg("date_from"),
        "date_to": _date_arg("date_to"),
        "kind": reserve.TransactionKind(kind) if kind else None,
        "loan_id": int(loan) if loan else None,
    }


@bp.route("/journal")
@roles(*READERS)
def journal():  # type: ignore[no-untyped-def]
    filters = _journal_args()
    page = request.args.get("page", "1")
    page_number = int(page) if page.isdigit() and int(page) > 0 else 1
    result = reserve.journal(db.session, page=page_number, per_page=50, **filters)
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "reserve/journal.html",
        page=result,
        filters=filters,
        query=query,
        kinds=[k.value for k in reserve.TransactionKind],
    )


@bp.route("/journal.csv")
@roles(*READERS)
def journal_csv():  # type: ignore[no-untyped-def]
    filters = _journal_args()
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(
        [
            "transaction_id",
            "effective_date",
            "recorded_at",
            "kind",
            "loan_id",
            "claim_id",
            "reverses_id",
            "reversed_by_id",
            "account",
            "amount",
            "memo",
            "actor_id",
        ]
    )
    page_number = 1
    while True:
        page = reserve.journal(db.session, page=page_number, per_page=500, **filters)
        for tx in page.items:
            for posting in tx.postings:
                writer.writerow(
                    [
                        tx.id,
                        tx.effective_date,
                        tx.recorded_at.isoformat(),
                        tx.kind,
                        tx.loan_id or "",
                        tx.claim_id or "",
                        tx.reverses_id or "",
                        tx.reversed_by_id or "",
                        posting.account_code,
                        f"{posting.amount:.2f}",
                        tx.memo,
                        tx.actor_id,
                    ]
                )
        if page_number >= page.pages:
            break
        page_number += 1
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=reserve-journal.csv"},
    )


def _transaction(transaction_id: int) -> reserve.Transaction:
    from reserve.ledger import load_transaction

    try:
        return load_transaction(db.session, transaction_id)
    except (reserve.TransactionNotFound, IndexError):
        abort(404)


@bp.route("/transactions/<int:transaction_id>")
@roles(*READERS)
def transaction(transaction_id: int):  # type: ignore[no-untyped-def]
    return render_template("reserve/transaction.html", tx=_transaction(transaction_id), form=ReversalForm())


@bp.route("/transactions/<int:transaction_id>/reversal", methods=["POST"])
@roles("staff")
def reverse_transaction(transaction_id: int):  # type: ignore[no-untyped-def]
    tx = _transaction(transaction_id)
    form = ReversalForm()
    if form.validate_on_submit():
        reversal = _attempt(
            form,
            lambda: actions.reversal(
                current_user, form.idempotency_key.data, transaction_id, business_date(), form.reason.data
            ),
        )
        if reversal is not None:
            flash(f"Transaction {transaction_id} reversed by transaction {reversal.id}.", "success")
            return redirect(url_for("reserve_admin.transaction", transaction_id=reversal.id))
    return render_template("reserve/transaction.html", tx=tx, form=form), _status(form)


@bp.route("/loans/<int:loan_id>")
@roles(*READERS)
def loan(loan_id: int):  # type: ignore[no-untyped-def]
    from loanapp.loans.models import Loan

    record = db.session.get(Loan, loan_id)
    if record is None:
        abort(404)
    today = business_date()
    return render_template(
        "reserve/loan.html",
        loan=record,
        commitment=reserve.commitment_balance(db.session, loan_id, today),
        transactions=reserve.journal(db.session, loan_id=loan_id, per_page=200).items,
        claims=reserve.list_claims(db.session, loan_id=loan_id),
        today=today,
    )


@bp.route("/claims")
@roles(*READERS)
def claims():  # type: ignore[no-untyped-def]
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in reserve.ClaimStatus}:
        abort(400, description="Unknown claim status.")
    listed = reserve.list_claims(db.session, status=reserve.ClaimStatus(status) if status else None)
    return render_template("reserve/claims.html", claims=listed, status=status, form=ClaimForm())


@bp.route("/claims", methods=["POST"])
@roles("officer")
def file_claim():  # type: ignore[no-untyped-def]
    from loanapp.loans.models import Loan

    form = ClaimForm()
    if form.validate_on_submit():
        if db.session.get(Loan, form.loan_id.data) is None:
            form.loan_id.errors = ["No loan has this number."]
        else:
            claim = _attempt(
                form,
                lambda: actions.file_claim(
                    current_user,
                    form.idempotency_key.data,
                    form.loan_id.data,
                    form.cost_items(),
                    form.collateral_proceeds.data,
                    business_date(),
                    form.memo.data or "",
                ),
            )
            if claim is not None:
                flash(
                    f"Claim {claim.id} filed for loan {claim.loan_id}: loss {show_money(claim.loss)}.",
                    "success",
                )
                return redirect(url_for("reserve_admin.claim", claim_id=claim.id))
    listed = reserve.list_claims(db.session)
    return render_template("reserve/claims.html", claims=listed, status=None, form=form), _status(form)


def _claim(claim_id: int) -> reserve.Claim:
    try:
        return reserve.get_claim(db.session, claim_id)
    except reserve.ClaimNotFound:
        abort(404)


def _claim_page(claim: reserve.Claim, decision: Any = None, recovery: Any = None, status: int = 200) -> Any:
    from loanapp.accounts.models import User

    names = {
        u.id: u.email
        for u in db.session.query(User).filter(
            User.id.in_({claim.filed_by, *(e.actor_id for e in claim.events)})
        )
    }
    return render_template(
        "reserve/claim.html",
        claim=claim,
        names=names,
        decision=decision or ClaimDecisionForm(),
        recovery=recovery or RecoveryForm(),
        policy=reserve_policy(current_app.config),
    ), status


@bp.route("/claims/<int:claim_id>")
@roles(*READERS)
def claim(claim_id: int):  # type: ignore[no-untyped-def]
    return _claim_page(_claim(claim_id))


@bp.route("/claims/<int:claim_id>/decision", methods=["POST"])
@roles("staff")
def decide_claim(claim_id: int):  # type: ignore[no-untyped-def]
    existing = _claim(claim_id)
    form = ClaimDecisionForm()
    if form.validate_on_submit():
        decided = _attempt(
            form,
            lambda: actions.decide_claim(
                current_user,
                form.idempotency_key.data,
                claim_id,
                form.decision.data == "approve",
                business_date(),
                form.note.data or "",
            ),
        )
        if decided is not None:
            flash(f"Claim {claim_id} is {decided.status}.", "success")
            return redirect(url_for("reserve_admin.claim", claim_id=claim_id))
    return _claim_page(existing, decision=form, status=_status(form))


@bp.route("/claims/<int:claim_id>/recoveries", methods=["POST"])
@roles("officer", "staff")
def record_recovery(claim_id: int):  # type: ignore[no-untyped-def]
    existing = _claim(claim_id)
    form = RecoveryForm()
    if form.validate_on_submit():
        tx = _attempt(
            form,
            lambda: actions.recovery(
                current_user,
                form.idempotency_key.data,
                claim_id,
                form.amount.data,
                form.received_on.data,
                form.memo.data or "",
            ),
        )
        if tx is not None:
            flash(f"Recovery of {show_money(form.amount.data)} recorded.", "success")
            return redirect(url_for("reserve_admin.claim", claim_id=claim_id))
    return _claim_page(existing, recovery=form, status=_status(form))


def _statement_month() -> tuple[int, int]:
    try:
        return parse_month(request.args.get("month", ""), business_date())
    except BadMonth as exc:
        abort(400, description=str(exc))


def _statement_page(raw_month: str) -> Any:
    """The statement, or the page with a clear message: a bad month (400), a ledger that does not foot (409)."""
    today = business_date()
    try:
        year, month = parse_month(raw_month, today)
    except BadMonth as exc:
        return render_template(
            "reserve/statement.html", s=None, error=str(exc), month=raw_month, form=MonthCloseForm()
        ), 400
    try:
        result = reserve.monthly_statement(db.session, year, month)
    except reserve.LedgerInconsistent:
        message = (
            f"The statement for {dt.date(year, month, 1):%B %Y} does not add up against the ledger, so it is "
            "not shown. Nothing has been changed; ask the administrator to run the reserve check."
        )
        return render_template(
            "reserve/statement.html",
            s=None,
            error=message,
            month=f"{year}-{month:02d}",
            form=MonthCloseForm(),
        ), 409
    closes = {(c.year, c.month): c for c in reserve.closed_months(db.session)}
    close = closes.get((year, month))
    return render_template(
        "reserve/statement.html",
        s=result,
        error=None,
        month=f"{year}-{month:02d}",
        labels=STATEMENT_MOVEMENTS,
        prepared_on=today,
        prepared_by=current_user.full_name or current_user.email,
        close=close,
        closed_by=_user_name(close.closed_by) if close else None,
        form=MonthCloseForm(month=f"{year}-{month:02d}"),
        closed_through=reserve.closed_through(db.session),
    )


def _user_name(user_id: int) -> str:
    from loanapp.accounts.models import User

    user = db.session.get(User, user_id)
    return "" if user is None else (user.full_name or user.email)


@bp.route("/statement")
@roles("staff", "admin")
def statement():  # type: ignore[no-untyped-def]
    return _statement_page(request.args.get("month", ""))


#: The statement's movement lines: how each is printed (the sign of each amount is the block's own).
STATEMENT_MOVEMENTS = {
    "deposits": "Grant deposits",
    "commitments": "Commitments to booked loans",
    "releases": "Commitments released (paid-off and charged-off loans)",
    "claims_paid": "Claims paid",
    "recoveries": "Recoveries",
    "interest": "Interest earned",
    "reversals": "Reversals (net)",
}
BLOCK_TITLES = {"balance": "Reserve balance", "committed": "Committed", "available": "Available"}


@bp.route("/statement.csv")
@roles("staff", "admin")
def statement_csv():  # type: ignore[no-untyped-def]
    year, month = _statement_month()
    try:
        result = reserve.monthly_statement(db.session, year, month)
    except reserve.LedgerInconsistent:
        abort(409, description="This statement does not add up against the ledger; ask the administrator.")
    out = io.StringIO()
    writer = SafeWriter(out)
    blocks = result.blocks
    writer.writerow(["line", *(block.name for block in blocks)])
    writer.writerow(["Opening", *(f"{block.opening:.2f}" for block in blocks)])
    for index, code in enumerate(reserve.MOVEMENTS):
        writer.writerow(
            [STATEMENT_MOVEMENTS[code], *(f"{block.lines[index].amount:.2f}" for block in blocks)]
        )
    writer.writerow(["Movements", *(f"{block.movements:.2f}" for block in blocks)])
    writer.writerow(["Closing", *(f"{block.closing:.2f}" for block in blocks)])
    writer.writerow(["Difference", *(f"{block.difference:.2f}" for block in blocks)])
    for grant in result.deposits_by_grant:
        writer.writerow(
            [
                f"Deposits: {grant.funder} / {grant.grant}",
                f"{grant.amount:.2f}",
                "0.00",
                f"{grant.amount:.2f}",
            ]
        )
    writer.writerow(["Period", result.period_start.isoformat(), result.period_end.isoformat(), ""])
    writer.writerow(
        ["Prepared", business_date().isoformat(), current_user.full_name or current_user.email, ""]
    )
    writer.writerow(["Status", "closed" if result.closed else "open", "", ""])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=reserve-statement-{year}-{month:02d}.csv"},
    )


@bp.route("/months", methods=["POST"])
@roles("staff")
def close_month():  # type: ignore[no-untyped-def]
    form = MonthCloseForm()
    if form.validate_on_submit():
        year, month = form.year_month
        closed = _attempt(form, lambda: actions.close_month(current_user, year, month, business_date()))
        if closed is not None:
            flash(f"{year}-{month:02d} is closed: no posting may carry a date in it any more.", "success")
            return redirect(url_for("reserve_admin.statement", month=f"{year}-{month:02d}"))
    for error in [*form.form_errors, *form.month.errors]:
        flash(str(error), "error")
    return redirect(url_for("reserve_admin.statement", month=request.form.get("month", "")))
