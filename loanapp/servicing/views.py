"""Officer and staff pages for servicing (English): the loans list, a loan's servicing page with its
actions, the charge-off queue, the delinquency report with its CSV and chart, and the payment import.

Views parse the form, call one operation, and either redirect or re-render the page with the
messages (422; 409 for a closed loan)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from loanapp import charts
from loanapp.access import roles
from loanapp.clock import business_date
from loanapp.collections.queries import borrower_contact
from loanapp.extensions import db
from loanapp.formatting import money as show_money
from loanapp.loans.models import Loan
from loanapp.servicing import imports, operations, queries, reports
from loanapp.servicing.errors import ExcessNotConfirmed, LoanClosed, NotEligibleForChargeOff, ServicingError
from loanapp.servicing.forms import (
    COLLATERAL_NAMES,
    METHOD_NAMES,
    ChargeOffForm,
    ImportForm,
    PaymentForm,
    RecoveryForm,
    ReversalForm,
)
from loanapp.servicing.models import PAYMENT_METHODS, LoanServicing, Payment
from loanapp.servicing.policy import current_policy
from risk.money import ZERO

bp = Blueprint("servicing", __name__, url_prefix="/servicing")

READERS = ("officer", "staff")
STATUSES = ("active", "paid_off", "charged_off")


@bp.context_processor
def words() -> dict[str, Any]:
    return {"method_names": METHOD_NAMES, "collateral_names": COLLATERAL_NAMES}


def _loan(loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    if loan is None:
        abort(404)
    return loan


def _date_arg(name: str) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{name} must be a date like 2026-11-30.")


@bp.route("/loans")
@roles(*READERS)
def loans():  # type: ignore[no-untyped-def]
    policy = current_policy()
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    bucket = request.args.get("bucket") if request.args.get("bucket") in policy.buckets.labels else None
    search = request.args.get("q", "")[:100]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows, total = queries.loan_list(queries.LoanListFilters(status, bucket, search), page=page)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "servicing/loans.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // 50)),
        page_url=lambda n: url_for(".loans", **args, page=n),
        status=status,
        bucket=bucket,
        search=search,
        statuses=STATUSES,
        buckets=policy.buckets.labels,
    )


def render_loan(loan: Loan, status: int = 200, **forms: Any) -> Any:
    policy = current_policy()
    today = business_date()
    row = queries.servicing_row(loan)
    position = queries.loan_position(loan, today, policy=policy, row=row)
    lines = queries.schedule_with_marks(
        loan, today, position.credited, policy, paid_off=loan.status == "paid_off"
    )
    context = {
        "loan": loan,
        "application": loan.application,
        "position": position,
        "row": row,
        "lines": lines,
        "history": queries.payment_history(loan),
        "adjustments": queries.adjustments_of(loan),
        "buckets": queries.bucket_history(loan),
        "charge_off": queries.charge_off_of(loan),
        "recoveries": queries.recoveries_of(loan),
        "policy": policy,
        "today": today,
        "payment_form": forms.get("payment_form") or PaymentForm(formdata=None, received_on=today),
        "reversal_form": forms.get("reversal_form") or ReversalForm(formdata=None),
        "reversal_for": forms.get("reversal_for"),
        "excess_payoff": forms.get("excess_payoff"),
        "charge_off_form": forms.get("charge_off_form") or ChargeOffForm(formdata=None),
        "recovery_form": forms.get("recovery_form") or RecoveryForm(formdata=None, received_on=today),
        "new_key": lambda: uuid.uuid4().hex,
        "contact": borrower_contact(loan),
    }
    return render_template("servicing/loan.html", **context), status


def _put_errors(form: Any, exc: ServicingError) -> None:
    placed = False
    for name, messages in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), *messages]
            placed = True
    if not placed or not exc.errors:
        form.form_errors.append(exc.message)


@bp.route("/loans/<int:loan_id>")
@roles(*READERS)
def loan(loan_id: int):  # type: ignore[no-untyped-def]
    return render_loan(_loan(loan_id))


@bp.route("/loans/<int:loan_id>/payments", methods=["POST"])
@roles("officer")
def record_payment(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _loan(loan_id)
    form = PaymentForm()
    if not form.validate_on_submit():
        return render_loan(loan, 422, payment_form=form)
    try:
        result = operations.record_payment(
            loan.id,
            operations.PaymentInput(
                form.amount.data,
                form.received_on.data,
                form.method.data,
                form.reference.data or "",
                bool(form.allow_excess.data),
            ),
            actor=current_user,
            key=operations.scoped_key(current_user, form.idempotency_key.data),
            source="page",
        )
    except ExcessNotConfirmed as exc:
        # Not a field error to fix but a question: the form comes back with the payoff and a box to
        # confirm the overpayment (the amount stays as typed).
        db.session.rollback()
        return render_loan(_loan(loan_id), 422, payment_form=form, excess_payoff=exc.payoff)
    except ServicingError as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status if exc.status != 400 else 422, payment_form=form)
    db.session.commit()
    if result.created:
        flash(
            f"Payment of {show_money(result.payment.amount)} received {result.payment.received_on} recorded.",
            "success",
        )
    else:
        flash("That payment was already recorded.", "info")
    return redirect(url_for(".loan", loan_id=loan.id))


@bp.route("/loans/<int:loan_id>/payments/<int:payment_id>/reversal", methods=["POST"])
@roles("officer")
def reverse_payment(loan_id: int, payment_id: int):  # type: ignore[no-untyped-def]
    loan = _loan(loan_id)
    form = ReversalForm()
    if not form.validate_on_submit():
        return render_loan(loan, 422, reversal_form=form, reversal_for=payment_id)
    if form.confirmed.data != "yes":
        payment = db.session.get(Payment, payment_id)
        if payment is None or payment.loan_id != loan.id or payment.kind != "payment":
            abort(404)
        return render_template(
            "servicing/reversal_confirm.html", loan=loan, payment=payment, form=form, today=business_date()
        )
    try:
        operations.reverse_payment(
            loan.id,
            payment_id,
            actor=current_user,
            key=operations.scoped_key(current_user, form.idempotency_key.data),
            reason=form.reason.data,
            returned_on=form.returned_on.data,
            entered_in_error=bool(form.entered_in_error.data),
        )
    except ServicingError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status, reversal_form=form, reversal_for=payment_id)
    db.session.commit()
    flash(f"Payment {payment_id} reversed; later payments were re-applied.", "success")
    return redirect(url_for(".loan", loan_id=loan.id))


@bp.route("/loans/<int:loan_id>/charge-off", methods=["POST"])
@roles("officer")
def charge_off(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _loan(loan_id)
    form = ChargeOffForm()
    if not form.validate_on_submit():
        return render_loan(loan, 422, charge_off_form=form)
    if form.confirmed.data != "yes":
        return _confirm_charge_off(loan, form)
    try:
        entry = operations.charge_off(
            loan.id,
            operations.ChargeOffInput(
                form.collateral_status.data,
                form.collateral_proceeds.data if form.collateral_proceeds.data is not None else ZERO,
                form.allowed_costs.data if form.allowed_costs.data is not None else ZERO,
                form.memo.data or "",
            ),
            actor=current_user,
        )
    except ServicingError as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status, charge_off_form=form)
    db.session.commit()
    flash(
        f"Loan {loan.id} charged off; reserve claim #{entry.claim_id} filed for a staff decision.", "success"
    )
    return redirect(url_for(".loan", loan_id=loan.id))


def _confirm_charge_off(loan: Loan, form: ChargeOffForm) -> Any:
    """The confirmation step: the claim the charge-off will file, before anything is written."""
    policy = current_policy()
    today = business_date()
    position = queries.loan_position(loan, today, policy=policy)
    if loan.status != "active" or position.standing.days_past_due < policy.charge_off_days:
        exc: ServicingError = (
            LoanClosed(loan.status, "be charged off")
            if loan.status != "active"
            else NotEligibleForChargeOff(position.standing.days_past_due, policy.charge_off_days)
        )
        _put_errors(form, exc)
        return render_loan(loan, exc.status, charge_off_form=form)
    costs = form.allowed_costs.data if form.allowed_costs.data is not None else ZERO
    proceeds = form.collateral_proceeds.data
    claim = position.balance + costs - proceeds
    return render_template(
        "servicing/charge_off_confirm.html",
        loan=loan,
        application=loan.application,
        position=position,
        form=form,
        costs=costs,
        proceeds=proceeds,
        claim=claim,
        today=today,
        policy=policy,
    )


@bp.route("/loans/<int:loan_id>/recoveries", methods=["POST"])
@roles("officer")
def record_recovery(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _loan(loan_id)
    form = RecoveryForm()
    if not form.validate_on_submit():
        return render_loan(loan, 422, recovery_form=form)
    try:
        recovery = operations.record_recovery(
            loan.id,
            form.amount.data,
            form.received_on.data,
            actor=current_user,
            key=operations.scoped_key(current_user, form.idempotency_key.data),
            reference=form.reference.data or "",
        )
    except ServicingError as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status, recovery_form=form)
    db.session.commit()
    flash(
        f"Recovery of {show_money(recovery.amount)} recorded"
        + (f"; {show_money(recovery.to_reserve)} went back to the reserve." if recovery.to_reserve else "."),
        "success",
    )
    return redirect(url_for(".loan", loan_id=loan.id))


@bp.route("/charge-offs")
@roles("officer")
def charge_off_queue():  # type: ignore[no-untyped-def]
    policy = current_policy()
    rows = db.session.execute(
        select(Loan, LoanServicing)
        .join(LoanServicing, LoanServicing.loan_id == Loan.id)
        .where(Loan.status == "active", LoanServicing.days_past_due >= policy.charge_off_days)
        .order_by(LoanServicing.days_past_due.desc(), Loan.id)
    ).all()
    return render_template("servicing/charge_offs.html", rows=rows, policy=policy, today=business_date())


@bp.route("/delinquency")
@roles(*READERS)
def delinquency_report():  # type: ignore[no-untyped-def]
    as_of = _date_arg("as_of") or business_date()
    report = reports.delinquency_report(as_of)
    points = reports.delinquency_over_time(24)
    chart = None
    if points:
        chart = charts.render(
            charts.Chart(
                title="Share of principal 30+ and 60+ days past due at each month-end",
                x_labels=[p.as_of.strftime("%b %y") for p in points],
                series=[
                    charts.Series("30+ days", [p.past_due_30 for p in points], "series-3"),
                    charts.Series("60+ days", [p.past_due_60 for p in points], "series-4"),
                ],
                y_format=lambda v: f"{v:.1f}%",
            )
        )
    return render_template(
        "servicing/delinquency.html", report=report, chart=chart, points=points, as_of=as_of
    )


@bp.route("/delinquency.csv")
@roles(*READERS)
def delinquency_csv():  # type: ignore[no-untyped-def]
    as_of = _date_arg("as_of") or business_date()
    body = reports.report_csv(reports.delinquency_report(as_of))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="delinquency-{as_of.isoformat()}.csv"'},
    )


@bp.route("/payments/import", methods=["GET", "POST"])
@roles("officer")
def import_payments():  # type: ignore[no-untyped-def]
    form = ImportForm()
    report = None
    dry_run = False
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors = ["Choose the CSV file to import."]
            status = 422
        else:
            dry_run = request.form.get("action") == "check"
            report = imports.import_payments(
                upload.stream,
                actor=current_user,
                skip_bad=bool(form.skip_bad.data),
                max_rows=int(current_app.config["PAYMENT_IMPORT_MAX_ROWS"]),
            )
            if dry_run or (report.errors and not form.skip_bad.data):
                # A dry run posts the rows like a real import, then takes everything back: what it
                # reports is exactly what importing the file would do.
                db.session.rollback()
                status = 422 if report.errors and not form.skip_bad.data else 200
            else:
                db.session.commit()
    elif form.is_submitted():
        status = 422
    return render_template(
        "servicing/import.html",
        form=form,
        report=report,
        dry_run=dry_run,
        columns=imports.COLUMNS,
        methods=PAYMENT_METHODS,
    ), status


@bp.route("/payments/import-template.csv")
@roles("officer")
def import_template():  # type: ignore[no-untyped-def]
    """An example file with the header row the import expects and one row to copy."""
    today = business_date().isoformat()
    body = ",".join(imports.COLUMNS) + "\r\n" + f"1,229.66,{today},{PAYMENT_METHODS[0]},CORE-000123\r\n"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="payment-import-template.csv"'},
    )
