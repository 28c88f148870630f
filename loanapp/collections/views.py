"""Officer pages for collections (English): the worklist (the officer's landing) and a loan's
workbench (borrower contact details, contact log, promises to pay, assignment, hardship plans).
Views parse the form, call one operation, and redirect or re-render the page with the messages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from loanapp.access import roles
from loanapp.clock import business_date
from loanapp.collections import operations, queries
from loanapp.collections.forms import (
    CHANNEL_NAMES,
    DIRECTION_NAMES,
    OUTCOME_NAMES,
    PLAN_NAMES,
    REASON_NAMES,
    STATUS_NAMES,
    TITLE_NAMES,
    AssignForm,
    CollateralForm,
    ContactForm,
    InsuranceForm,
    PlanForm,
    PromiseForm,
)
from loanapp.extensions import db
from loanapp.formatting import money as show_money
from loanapp.loans.models import Loan
from loanapp.servicing import queries as servicing_queries
from loanapp.servicing.errors import ServicingError
from loanapp.servicing.operations import scoped_key
from loanapp.servicing.policy import current_policy

bp = Blueprint("collections", __name__, url_prefix="/collections")

READERS = ("officer", "staff")


@bp.context_processor
def words() -> dict[str, Any]:
    return {
        "channel_names": CHANNEL_NAMES,
        "direction_names": DIRECTION_NAMES,
        "outcome_names": OUTCOME_NAMES,
        "reason_names": REASON_NAMES,
        "plan_names": PLAN_NAMES,
        "promise_status_names": STATUS_NAMES,
        "title_names": TITLE_NAMES,
    }


@bp.app_template_global("hardship_plan_summary")
def hardship_plan_summary(as_of: Any) -> list[Any]:
    """For the staff reports (program, delinquency): hardship plans by kind."""
    return queries.plan_summary(as_of)


@bp.app_template_global("today_date")
def today_date() -> Any:
    return business_date()


def _loan(loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    if loan is None:
        abort(404)
    return loan


def _put_errors(form: Any, exc: ServicingError) -> None:
    placed = False
    for name, messages in exc.errors.items():
        target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*list(target.errors or []), *messages]
            placed = True
    if not placed or not exc.errors:
        form.form_errors.append(exc.message)


@bp.route("/")
@roles(*READERS)
def worklist():  # type: ignore[no-untyped-def]
    today = business_date()
    policy = current_policy()
    reason = request.args.get("reason") if request.args.get("reason") in queries.REASONS else None
    bucket = request.args.get("bucket") if request.args.get("bucket") in policy.buckets.labels else None
    assigned_raw = request.args.get("assigned", "all")
    if assigned_raw == "me":
        assigned: str | int | None = int(current_user.id)
    elif assigned_raw == "unassigned":
        assigned = "unassigned"
    elif assigned_raw.isdigit():
        assigned = int(assigned_raw)
    else:
        assigned, assigned_raw = None, "all"
    sort = request.args.get("sort") if request.args.get("sort") in queries.SORTS else "days_past_due"
    descending = request.args.get("order", "desc") != "asc"
    search = request.args.get("q", "")[:100]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    filters = queries.WorklistFilters(reason, bucket, assigned, search, sort, descending)
    per_page = queries.page_size()
    items, total = queries.worklist(filters, today, page=page, per_page=per_page)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "collections/worklist.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // per_page)),
        args=args,
        today=today,
        reason=reason,
        bucket=bucket,
        assigned=assigned_raw,
        sort=sort,
        order="desc" if descending else "asc",
        search=search,
        buckets=policy.buckets.labels,
        reasons=queries.REASONS,
        sorts=queries.SORTS,
        officers=queries.officers(),
    )


def render_loan(loan: Loan, status: int = 200, **forms: Any) -> Any:
    today = business_date()
    policy = current_policy()
    position = servicing_queries.loan_position(loan, today, policy=policy)
    from loanapp.collections.models import CollectionCase

    case = db.session.get(CollectionCase, loan.id)
    collateral = queries.collateral_of(loan) or operations.open_collateral(loan)
    assign_form = forms.get("assign_form") or AssignForm(formdata=None)
    assign_form.officer_id.choices = [("", "Nobody")] + [(str(o.id), o.full_name) for o in queries.officers()]
    if not forms.get("assign_form"):
        assign_form.officer_id.data = str(case.assigned_to) if case and case.assigned_to else ""
    context = {
        "loan": loan,
        "position": position,
        "today": today,
        "contact": queries.borrower_contact(loan),
        "contacts": queries.contacts_of(loan),
        "promises": queries.promises_of(loan, today),
        "plans": plan_rows(loan),
        "case": case,
        "contact_form": forms.get("contact_form") or ContactForm(formdata=None),
        "promise_form": forms.get("promise_form") or PromiseForm(formdata=None),
        "plan_form": forms.get("plan_form") or PlanForm(formdata=None, effective_on=today),
        "assign_form": assign_form,
        "assigned_name": next(
            (o.full_name for o in queries.officers() if case is not None and o.id == case.assigned_to), None
        ),
        "grace_days": queries.grace_days(),
        "collateral": collateral,
        "insurance": queries.insurance_of(loan),
        "collateral_form": forms.get("collateral_form")
        or CollateralForm(
            formdata=None,
            vin=collateral.vin,
            title_status=collateral.title_status,
            lien_recorded_on=collateral.lien_recorded_on,
        ),
        "insurance_form": forms.get("insurance_form") or InsuranceForm(formdata=None),
    }
    return render_template("collections/loan.html", **context), status


def plan_rows(loan: Loan) -> list[Any]:
    from loanapp.collections import plans

    return plans.plans_of(loan)


@bp.route("/loans/<int:loan_id>")
@roles(*READERS)
def loan(loan_id: int):  # type: ignore[no-untyped-def]
    return render_loan(_loan(loan_id))


@bp.route("/loans/<int:loan_id>/contacts", methods=["POST"])
@roles("officer")
def log_contact(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _loan(loan_id)
    form = ContactForm()
    if not form.validate_on_submit():
        return render_loan(loan, 422, contact_form=form)
    try:
        operations.log_contact(
            loan.id,
            operations.ContactInput(
                form.channel.data,
                form.direction.data,
                form.outcome.data,
                form.note.data or "",
                form.next_action_on.data,
            ),
            actor=current_user,
            key=scoped_key(current_user, form.idempotency_key.data),
        )
    except ServicingError as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status, contact_form=form)
    db.session.commit()
    flash("Contact logged.", "success")
    return redirect(url_for(".loan", loan_id=loan.id) + "#contacts")


@bp.route("/loans/<int:loan_id>/promises", methods=["POST"])
@roles("officer")
def make_promise(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _loan(loan_id)
    form = PromiseForm()
    if not form.validate_on_submit():
        return render_loan(loan, 422, promise_form=form)
    try:
        written = operations.make_promise(
            loan.id,
            operations.PromiseInput(form.amount.data, form.promised_on.data, form.note.data or ""),
            actor=current_user,
            key=scoped_key(current_user, form.idempotency_key.data),
        )
    except ServicingError as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status, promise_form=form)
    db.session.commit()
    flash(
        f"Promise to pay {show_money(written.row.amount)} by {written.row.promised_on} recorded.", "success"
    )
    return redirect(url_for(".loan", loan_id=loan.id) + "#promises")


@bp.route("/loans/<int:loan_id>/assignment", methods=["POST"])
@roles("officer")
def assign(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _loan(loan_id)
    form = AssignForm()
    form.officer_id.choices = [("", "Nobody")] + [(str(o.id), o.full_name) for o in queries.officers()]
    if not form.validate_on_submit():
        return render_loan(loan, 422, assign_form=form)
    raw = form.officer_id.data or ""
    try:
        operations.assign(loan.id, int(raw) if raw.isdigit() else None, actor=current_user)
    except ServicingError as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status, assign_form=form)
    db.session.commit()
    flash("Assignment saved.", "success")
    return redirect(url_for(".loan", loan_id=loan.id))


def _plan_input(form: PlanForm) -> operations.PlanInput:
    return operations.PlanInput(
        kind=form.kind.data,
        effective_on=form.effective_on.data,
        installments=form.installments.data,
        due_day=form.due_day.data,
        term_months=form.term_months.data,
        reason=form.reason.data or "",
    )


@bp.route("/loans/<int:loan_id>/plans/preview", methods=["POST"])
@roles("officer")
def preview_plan(loan_id: int):  # type: ignore[no-untyped-def]
    """Step one: the before/after for the officer to read; nothing is written."""
    loan = _loan(loan_id)
    form = PlanForm()
    if not form.validate_on_submit():
        return render_loan(loan, 422, plan_form=form)
    try:
        preview = operations.preview_plan(loan.id, _plan_input(form))
        if not (form.reason.data or "").strip():
            raise operations.InvalidInput({"reason": ["Say why the borrower needs this help."]})
    except ServicingError as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status, plan_form=form)
    return render_template(
        "collections/plan_preview.html",
        loan=loan,
        contact=queries.borrower_contact(loan),
        preview=preview,
        form=form,
        today=business_date(),
    )


@bp.route("/loans/<int:loan_id>/plans", methods=["POST"])
@roles("officer")
def create_plan(loan_id: int):  # type: ignore[no-untyped-def]
    """Step two: the officer confirmed the preview."""
    loan = _loan(loan_id)
    form = PlanForm()
    if not form.validate_on_submit():
        return render_loan(loan, 422, plan_form=form)
    try:
        written = operations.create_plan(
            loan.id,
            _plan_input(form),
            actor=current_user,
            key=scoped_key(current_user, form.idempotency_key.data),
        )
    except ServicingError as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status, plan_form=form)
    db.session.commit()
    flash(
        f"{PLAN_NAMES[written.row.kind]} recorded. The borrower sees the new schedule on their loan page.",
        "success",
    )
    return redirect(url_for(".loan", loan_id=loan.id) + "#plans")


@bp.route("/loans/<int:loan_id>/collateral", methods=["POST"])
@roles("officer")
def put_collateral(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _loan(loan_id)
    form = CollateralForm()
    if not form.validate_on_submit():
        return render_loan(loan, 422, collateral_form=form)
    try:
        operations.put_collateral(
            loan.id,
            operations.CollateralInput(form.vin.data, form.title_status.data, form.lien_recorded_on.data),
            actor=current_user,
        )
    except ServicingError as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status, collateral_form=form)
    db.session.commit()
    flash("The car's record is saved.", "success")
    return redirect(url_for(".loan", loan_id=loan.id) + "#car")


@bp.route("/loans/<int:loan_id>/insurance", methods=["POST"])
@roles("officer")
def put_insurance(loan_id: int):  # type: ignore[no-untyped-def]
    loan = _loan(loan_id)
    form = InsuranceForm()
    if not form.validate_on_submit():
        return render_loan(loan, 422, insurance_form=form)
    try:
        operations.put_insurance(
            loan.id,
            operations.InsuranceInput(
                form.carrier.data, form.policy_number.data, form.covered_through.data, form.covered_from.data
            ),
            actor=current_user,
        )
    except ServicingError as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return render_loan(_loan(loan_id), exc.status, insurance_form=form)
    db.session.commit()
    flash("Proof of insurance recorded.", "success")
    return redirect(url_for(".loan", loan_id=loan.id) + "#car")
