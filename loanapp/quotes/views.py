"""``POST /api/v1/quotes`` and the estimate page: parse, call ``terms.quote``, show the figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, render_template
from flask.views import MethodView
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort

from loanapp import charts
from loanapp.access import public
from loanapp.api.core import api_blueprint
from loanapp.clock import business_date
from loanapp.formatting import money as show_money
from loanapp.quotes.forms import QuoteForm
from loanapp.quotes.schemas import QuoteRequestSchema, QuoteSchema
from loanapp.quotes.terms import ProgramLimits, quote
from risk.disclosure import TruthInLending
from risk.errors import InvalidTerms

bp = Blueprint("quotes", __name__)
blp = api_blueprint(
    "quotes_api", __name__, "/quotes", "Payment and Truth-in-Lending figures for proposed terms."
)


def as_response(tila: TruthInLending) -> dict[str, Any]:
    return {
        "payment": tila.schedule[0].payment,
        "apr": tila.annual_percentage_rate,
        "finance_charge": tila.finance_charge,
        "total_of_payments": tila.total_of_payments,
        "amount_financed": tila.amount_financed,
        "payment_schedule": tila.payment_summary,
        "schedule": tila.schedule,
    }


@blp.route("")
class Quotes(MethodView):
    @public
    @blp.arguments(QuoteRequestSchema)
    @blp.response(200, QuoteSchema)
    def post(self, terms: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Quote a loan: payment, APR, finance charge, total of payments and the schedule. No sign-in."""
        try:
            tila = quote(
                ProgramLimits.from_config(current_app.config),
                amount_financed=terms["amount_financed"],
                annual_rate=terms["annual_rate"],
                term_months=terms["term_months"],
                contract_date=terms["contract_date"] or business_date(),
                first_payment_date=terms["first_payment_date"],
                prepaid_finance_charge=terms["prepaid_finance_charge"] or Decimal("0.00"),
            )
        except InvalidTerms as exc:
            abort(422, errors={exc.field: [exc.message]}, message=exc.message)
        return as_response(tila)


def balance_chart(tila: TruthInLending) -> charts.Chart:
    rows = tila.schedule
    return charts.Chart(
        title=_("Balance after each payment"),
        # Month names in the page's language ("dic 2026" on a Spanish page).
        x_labels=[format_date(row.due_date, "MMM yyyy") if row.due_date else str(row.number) for row in rows],
        series=[charts.Series(_("Balance"), [row.balance for row in rows])],
        y_format=lambda v: show_money(v).split(".")[0],
        width=420,  # drawn for a phone: its labels stay readable at 390 px
    )


@bp.route("/estimate", methods=["GET", "POST"])
@public
def page():  # type: ignore[no-untyped-def]
    """Workers see the program's standard rate; officers may quote any rate within the limits."""
    config = current_app.config
    may_set_rate = current_user.is_authenticated and current_user.role == "officer"
    form = QuoteForm(may_set_rate=may_set_rate, standard_rate=config["QUOTE_STANDARD_RATE"])
    tila, status = None, 200
    if form.validate_on_submit():
        rate = form.annual_rate.data if may_set_rate else config["QUOTE_STANDARD_RATE"]
        try:
            tila = quote(
                ProgramLimits.from_config(config),
                amount_financed=form.amount_financed.data,
                annual_rate=rate,
                term_months=form.term_months.data,
                contract_date=business_date(),
            )
        except InvalidTerms as exc:
            form.error_for(exc.field, exc.message)
            status = 422
    elif form.is_submitted():
        status = 422
    chart = charts.render(balance_chart(tila)) if tila else None
    return render_template(
        "quotes/page.html", form=form, tila=tila, chart=chart, may_set_rate=may_set_rate
    ), status
