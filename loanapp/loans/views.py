"""The loan page (the borrower, officers, Work Train staff) and the officer's booking action."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user

from loanapp.access import roles
from loanapp.applications import queries as application_queries
from loanapp.applications import vocabulary
from loanapp.applications.errors import InvalidApplication
from loanapp.applications.forms import version_of
from loanapp.applications.officer_views import officer_action
from loanapp.extensions import db
from loanapp.loans import operations as loan_ops
from loanapp.loans.forms import BookingForm
from loanapp.loans.models import Loan
from risk.amortization import Installment
from risk.disclosure import group_payments

bp = Blueprint("loans", __name__)


@bp.context_processor
def words() -> dict[str, Any]:
    return {"vocab": vocabulary, "status_labels": vocabulary.STATUS_LABELS}


def visible_loan(loan_id: int) -> Loan:
    """The loan, if the caller may see it: its borrower, any officer, any Work Train staff member."""
    loan = db.session.get(Loan, loan_id)
    if loan is None or (current_user.role == "worker" and loan.borrower_id != current_user.id):
        abort(404)
    return loan


@bp.route("/loans/<int:loan_id>")
@roles("worker", "officer", "staff")
def detail(loan_id: int):  # type: ignore[no-untyped-def]
    loan = visible_loan(loan_id)
    if current_user.role == "worker":
        # One loan page for the borrower: the disclosure and the live balance together.
        return redirect(url_for("portal.loan", loan_id=loan.id))
    return render_template(
        "loans/detail.html",
        loan=loan,
        application=loan.application,
        groups=group_payments(
            [
                Installment(r.number, r.due_date, r.payment, r.interest, r.principal, r.balance)
                for r in loan.installments
            ]
        ),
    )


@bp.route("/applications/<int:application_id>/booking", methods=["POST"])
@roles("officer")
def book(application_id: int):  # type: ignore[no-untyped-def]
    application = application_queries.get(application_id)
    if application is None:
        abort(404)
    form = BookingForm()

    def book_now() -> Loan:
        if form.errors:
            raise InvalidApplication(
                {name: list(errs) for name, errs in form.errors.items()}, "Check the dates."
            )
        return loan_ops.book_loan(
            application,
            version=version_of(form),
            data=loan_ops.BookingInput(form.contract_date.data, form.first_payment_date.data),
            actor=current_user,
        )

    return officer_action(
        application,
        form,
        "booking_form",
        book_now,
        "Loan booked; the reserve commitment is posted.",
        then=lambda loan: url_for(".detail", loan_id=loan.id),
    )
