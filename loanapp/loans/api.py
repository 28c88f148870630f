"""``GET /api/v1/loans/{id}``: the borrower, officers and Work Train staff."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort

from loanapp.access import request_user, roles
from loanapp.api.core import api_blueprint
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.loans.schemas import LoanSchema

blp = api_blueprint("loans_api", __name__, "/loans", "Booked loans with their disclosure and schedule.")


def present_loan(loan: Loan) -> dict[str, Any]:
    from loanapp.clock import business_date
    from loanapp.servicing.queries import summary_for_api

    columns = {column.key: getattr(loan, column.key) for column in Loan.__table__.columns}
    return {**columns, "schedule": loan.installments, "servicing": summary_for_api(loan, business_date())}


@blp.route("/<int:loan_id>")
class LoanItem(MethodView):
    @roles("worker", "officer", "staff")
    @blp.response(200, LoanSchema)
    def get(self, loan_id: int):  # type: ignore[no-untyped-def]
        """A loan: its borrower sees it, as do officers and Work Train staff."""
        user = request_user()
        loan = db.session.get(Loan, loan_id)
        if loan is None or (user.role == "worker" and loan.borrower_id != user.id):
            abort(404, message="No such loan.")
        assert loan is not None
        return present_loan(loan)
