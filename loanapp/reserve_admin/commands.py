"""``flask --app loanapp reserve-check``: verify every ledger invariant; non-zero exit with a report."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

import reserve
from loanapp.clock import business_date
from loanapp.extensions import db


def live_loan_ids() -> set[int]:
    """Loans that may still hold a commitment: not paid off (a charged-off loan's pending claim draws on it)."""
    from loanapp.loans.models import Loan

    return set(db.session.scalars(select(Loan.id).where(Loan.status != "paid_off")))


@click.command("reserve-check")
@with_appcontext
def reserve_check_command() -> None:
    """Check the reserve ledger: balanced, totals recomputed, never negative, commitments live, claims capped."""
    problems = reserve.verify(db.session, live_loan_ids())
    for problem in problems:
        click.echo(f"FAIL {problem.code}: {problem.message}")
    if problems:
        click.echo(f"reserve-check: {len(problems)} problem(s)", err=True)
        raise SystemExit(1)
    position = reserve.reserve_position(db.session, business_date())
    click.echo(
        f"reserve-check: all invariants hold. Balance {position.balance}, committed {position.committed}, "
        f"available {position.available}."
    )
