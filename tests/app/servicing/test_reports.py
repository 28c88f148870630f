"""The delinquency report: buckets, call report, groups, the 60+ ratio, stored and computed figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from loanapp.jobs import runner
from loanapp.servicing import aging, reports
from tests.app.servicing.conftest import make_loan, pay


def lines(report_lines: list[reports.BucketLine]) -> dict[str, tuple[int, Decimal]]:
    return {line.label: (line.loans, line.balance) for line in report_lines if line.loans}


def test_report_per_bucket_with_call_report_groups_and_the_60_plus_ratio(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    on_date(dt.date(2026, 5, 10))
    officer = people["officer"]
    on_time = make_loan(people, amount="8000.00")
    late = make_loan(people, amount="6000.00")
    make_loan(people, amount="4000.00")  # never paid
    for day in (dt.date(2026, 2, 5), dt.date(2026, 3, 5), dt.date(2026, 4, 5), dt.date(2026, 5, 5)):
        pay(on_time, str(on_time.payment_amount), day, officer)
    pay(late, str(late.payment_amount), dt.date(2026, 2, 5), officer)
    computed = reports.delinquency_report(dt.date(2026, 5, 10))
    assert computed.source == "computed"
    runner.run_job("aging", dt.date(2026, 5, 10))
    stored = reports.delinquency_report(dt.date(2026, 5, 10))
    assert stored.source == "aging"
    assert stored == computed.__class__(**{**computed.__dict__, "source": "aging"})

    assert stored.loans == 3
    assert set(lines(stored.program)) == {"current", "60-89", "90-119"}
    assert lines(stored.program)["90-119"] == (1, Decimal("4000.00"))
    assert lines(stored.call_report).keys() == {"under 30", "60-89", "90-179"}
    late_balance = lines(stored.program)["60-89"][1] + Decimal("4000.00")
    assert stored.ratio_balance == (late_balance * 100 / stored.balance).quantize(Decimal("0.01"))
    assert stored.ratio_loans == Decimal("66.67")
    assert [g.name for g in stored.by_employer] == ["Cryomech"] and stored.by_employer[0].ratio_loans == 2
    assert [g.name for g in stored.by_program] == ["No training program"]
    # Each share is rounded to 0.01 on its own: three thirds add up to 99.99.
    assert abs(sum(line.share_of_loans for line in stored.program) - 100) <= Decimal("0.03")
    csv_text = reports.report_csv(stored)
    assert "2026-05-10,ratio_60_plus,all,,,66.67," in csv_text


def test_a_past_date_report_counts_only_the_payments_received_by_then(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    on_date(dt.date(2026, 5, 10))
    loan = make_loan(people)
    pay(loan, "411.04", dt.date(2026, 4, 1), people["officer"])  # two installments, late
    then = reports.delinquency_report(dt.date(2026, 3, 20))
    assert lines(then.program) == {"30-59": (1, Decimal("8500.00"))}  # 43 days on March 20
    now = aging.compute(dt.date(2026, 5, 10))
    assert now.days_past_due.tolist() == [35]  # April 5 is the oldest unpaid now


def test_a_paid_off_loan_leaves_the_portfolio_on_its_payoff_date(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    from loanapp.servicing import queries

    on_date(dt.date(2026, 3, 1))
    loan = make_loan(people)
    pay(
        loan, f"{queries.payoff_quote(loan, dt.date(2026, 3, 1)):.2f}", dt.date(2026, 3, 1), people["officer"]
    )
    assert reports.delinquency_report(dt.date(2026, 2, 28)).loans == 1
    assert reports.delinquency_report(dt.date(2026, 3, 1)).loans == 0


def test_the_reserve_dashboard_counts_the_unpaid_principal(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    from loanapp.reserve_admin.figures import outstanding_principal

    on_date(dt.date(2026, 3, 1))
    loan = make_loan(people)
    pay(loan, "205.52", dt.date(2026, 2, 5), people["officer"])
    assert outstanding_principal(dt.date(2026, 3, 1)) == (Decimal("8348.62"), 1)
    assert outstanding_principal(dt.date(2026, 2, 4)) == (Decimal("8500.00"), 1)
    assert outstanding_principal(dt.date(2026, 1, 4)) == (Decimal("0.00"), 0)
