"""The projection's data feed: the book, the roll-rate history and the reserve, read from the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import delete, insert, select, update

import reserve
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.projections import book
from loanapp.servicing import operations, queries
from loanapp.servicing.models import BucketHistory, LoanServicing
from risk.projection import ClaimPolicy
from risk.rollrate import State
from tests.app.applications.conftest import employer_id
from tests.app.servicing.conftest import make_loan, pay

C, D30, D60, CO, PO = State.CURRENT, State.DPD30, State.DPD60, State.CHARGED_OFF, State.PAID_OFF


def set_employer(loan: Any, name: str | None) -> None:
    db.session.execute(
        update(Loan).where(Loan.id == loan.id).values(employer_id=employer_id(name) if name else None)
    )


def counted(counts: np.ndarray) -> dict[tuple[State, State], int]:
    return {(State(i), State(j)): int(n) for (i, j), n in np.ndenumerate(counts) if n}


# --- the book ----------------------------------------------------------------------------------------


def test_the_book_gives_each_live_loan_its_state_balance_terms_commitment_and_employer(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    on_date(dt.date(2026, 5, 10))
    officer = people["officer"]
    on_time = make_loan(people, amount="8000.00")
    once = make_loan(people, amount="6000.00")
    never = make_loan(people, amount="4000.00")
    for day in (dt.date(2026, 2, 5), dt.date(2026, 3, 5), dt.date(2026, 4, 5), dt.date(2026, 5, 5)):
        pay(on_time, str(on_time.payment_amount), day, officer)
    pay(once, str(once.payment_amount), dt.date(2026, 2, 5), officer)
    set_employer(once, "Associated Spring")
    set_employer(never, None)

    portfolio = book.portfolio_as_of(dt.date(2026, 5, 10))

    assert portfolio.loan_id.tolist() == [on_time.id, once.id, never.id]
    # 0, 66 and 94 days past due: current, 60-89, 90-119.
    assert portfolio.state.tolist() == [C, D60, State.DPD90]
    assert portfolio.balance_cents[2] == 400_000
    servicing = {row.loan_id: row.principal_balance for row in db.session.scalars(select(LoanServicing))}
    assert portfolio.balance_cents.tolist() == [
        int(servicing[on_time.id] * 100),
        int(servicing[once.id] * 100),
        400_000,
    ]
    assert portfolio.rate_bp.tolist() == [750, 750, 750]
    assert portfolio.payment_cents.tolist() == [
        int(loan.payment_amount * 100) for loan in (on_time, once, never)
    ]
    # Four installments paid, one paid, none paid: the late loans still owe the ones they missed.
    assert portfolio.remaining_term.tolist() == [44, 47, 48]
    # 15% of the principal, committed when each loan was booked.
    assert portfolio.commitment_cents.tolist() == [120_000, 90_000, 60_000]
    assert portfolio.employer_names == ("Associated Spring", "Cryomech", "No employer on file")
    assert portfolio.employer.tolist() == [1, 0, 2]


def test_a_past_date_gives_the_book_as_it_stood_then(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    on_date(dt.date(2026, 5, 10))
    loan = make_loan(people)
    pay(loan, "411.04", dt.date(2026, 4, 1), people["officer"])  # two installments, late
    assert book.portfolio_as_of(dt.date(2026, 1, 4)).n_loans == 0  # booked on the 5th
    march = book.portfolio_as_of(dt.date(2026, 3, 20))  # 43 days past due, nothing paid yet
    assert (march.state.tolist(), march.balance_cents.tolist()) == ([D30], [850_000])
    assert march.remaining_term.tolist() == [48]


def test_a_paid_off_loan_leaves_the_book_and_its_commitment_is_released(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    on_date(dt.date(2026, 3, 1))
    loan = make_loan(people)
    assert reserve.commitment_balances(db.session, dt.date(2026, 2, 28)) == {loan.id: 127_500}
    pay(
        loan, f"{queries.payoff_quote(loan, dt.date(2026, 3, 1)):.2f}", dt.date(2026, 3, 1), people["officer"]
    )
    assert reserve.commitment_balances(db.session, dt.date(2026, 3, 1)) == {}
    assert reserve.commitment_balances(db.session, dt.date(2026, 2, 28)) == {loan.id: 127_500}
    assert book.portfolio_as_of(dt.date(2026, 3, 1)).n_loans == 0
    assert book.portfolio_as_of(dt.date(2026, 2, 28)).commitment_cents.tolist() == [127_500]


def test_an_empty_database_gives_an_empty_book_no_counts_and_no_reserve(app: Flask, ctx: None) -> None:
    inputs = book.projection_inputs(dt.date(2026, 5, 31), app.config)
    portfolio = inputs.portfolio
    assert portfolio.n_loans == 0 and portfolio.employer_names == () and inputs.employer_ids == ()
    assert all(
        len(getattr(portfolio, name)) == 0
        for name in ("loan_id", "state", "balance_cents", "remaining_term", "commitment_cents")
    )
    assert inputs.counts.shape == (5, 7) and inputs.counts.dtype == np.int64 and not inputs.counts.any()
    assert inputs.transition_months == 0
    assert inputs.reserve.available_cents == 0


def test_remaining_terms_round_up_but_leave_small_remainders_to_the_final_installment() -> None:
    terms = book.remaining_terms(
        np.array([850_000, 850_000, 589_315, 100_000, 50, 1_000_000]),
        np.array([20_552, 20_500, 14_507, 30_000, 20_000, 100]),
        np.array([750, 750, 750, 0, 900, 1_200]),
    )
    # 48.0002 installments is the disclosed 48 (cents of rounding); 48.14 needs a 49th; 47.008 is a
    # 31-day month's interest more (the final installment pays it); 3.33 at 0% is 4; less than one
    # is one; a payment under the month's interest never clears the balance: 120.
    assert terms.tolist() == [48, 49, 47, 4, 1, 120]


# --- the roll-rate history -----------------------------------------------------------------------------


def write_history(loan: Any, rows: list[tuple[str, dt.date, dt.date | None]]) -> None:
    db.session.execute(delete(BucketHistory).where(BucketHistory.loan_id == loan.id))
    db.session.execute(
        insert(BucketHistory),
        [{"loan_id": loan.id, "bucket": b, "opened_on": o, "closed_on": c} for b, o, c in rows],
    )


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


@pytest.fixture
def histories(people: dict[str, Any], funded: None) -> None:
    """Month ends January to May 2026 (four steps), one loan per behaviour."""
    cured = make_loan(people)
    write_history(
        cured, [("current", d(1, 5), d(2, 6)), ("1-29", d(2, 6), d(2, 25)), ("30-59", d(2, 25), d(3, 15)),
                ("current", d(3, 15), None)]
    )  # fmt: skip
    charged = make_loan(people)
    write_history(
        charged, [("current", d(1, 5), d(2, 6)), ("1-29", d(2, 6), d(3, 7)), ("30-59", d(3, 7), d(4, 6)),
                  ("60-89", d(4, 6), d(5, 6)), ("charged_off", d(5, 6), None)]
    )  # fmt: skip
    prepaid = make_loan(people)
    write_history(prepaid, [("current", d(1, 5), d(3, 10)), ("paid_off", d(3, 10), None)])
    matured = make_loan(people)
    db.session.execute(update(Loan).where(Loan.id == matured.id).values(maturity_date=d(4, 5)))
    write_history(matured, [("current", d(1, 5), d(4, 5)), ("paid_off", d(4, 5), None)])
    later = make_loan(people, booked_on=d(3, 5))
    write_history(later, [("current", d(3, 5), None)])
    legacy = make_loan(people)
    write_history(
        legacy, [("current", d(1, 5), d(2, 1)), ("legacy 30", d(2, 1), d(3, 1)), ("current", d(3, 1), None)]
    )


def test_transitions_are_counted_between_consecutive_month_ends(histories: None) -> None:
    counts, steps = book.transition_counts(d(5, 31))
    assert steps == 4
    assert counted(counts) == {
        # cured 2, charged 1, prepaid 1, matured 2, booked in March 2, unknown label in February 2
        (C, C): 10,
        (C, D30): 2,  # cured in February, charged in March
        (D30, C): 1,  # cured
        (D30, D60): 1,
        (D60, CO): 1,
        (C, PO): 1,  # the prepayment; the payoff in the maturity month is not one
    }


def test_the_window_keeps_the_last_months_and_never_reaches_before_the_history(histories: None) -> None:
    counts, steps = book.transition_counts(d(5, 31), months=1)
    assert steps == 1
    assert counted(counts) == {(C, C): 3, (D60, CO): 1}
    assert book.transition_counts(d(5, 31), months=36)[1] == 4
    assert book.transition_counts(d(5, 31), months=0)[1] == 0
    # June has not ended on June 15: the last step is still April to May.
    june = book.transition_counts(d(6, 15))
    assert june[1] == 4 and (june[0] == book.transition_counts(d(5, 31))[0]).all()


def test_a_bucket_counts_by_its_lower_bound_in_the_configured_scheme(
    app: Flask, people: dict[str, Any], funded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "DELINQUENCY_BUCKETS", [["ok", 0], ["late", 45], ["very late", 95]])
    loan = make_loan(people)
    write_history(
        loan, [("ok", d(1, 5), d(2, 20)), ("late", d(2, 20), d(3, 20)), ("very late", d(3, 20), None)]
    )
    assert counted(book.transition_counts(d(4, 30))[0]) == {
        (C, D30): 1,
        (D30, State.DPD90): 1,
        (State.DPD90, State.DPD90): 1,
    }


# --- the reserve -------------------------------------------------------------------------------------


def test_the_reserve_is_what_is_available_with_the_configured_claim_policy(
    app: Flask, people: dict[str, Any], funded: None
) -> None:
    make_loan(people)
    assert book.reserve_as_of(d(1, 4), app.config).available_cents == 50_000_000
    default = book.reserve_as_of(d(1, 31), app.config)
    assert default.available_cents == 50_000_000 - 127_500
    assert default.policy == ClaimPolicy(pooled=True, cap_share=1.0, cap_cents=None)
    capped = {
        **app.config,
        "RESERVE_POOLED": False,
        "RESERVE_CLAIM_CAP_SHARE": Decimal("0.90"),
        "RESERVE_CLAIM_CAP_AMOUNT": Decimal("5000.00"),
    }
    assert book.reserve_as_of(d(1, 31), capped).policy == ClaimPolicy(False, 0.9, 500_000)


def test_projection_inputs_name_each_employer_by_id(app: Flask, people: dict[str, Any], funded: None) -> None:
    cryomech = make_loan(people)
    nobody = make_loan(people)
    set_employer(nobody, None)
    inputs = book.projection_inputs(d(1, 31), app.config)
    assert inputs.portfolio.employer_names == ("Cryomech", "No employer on file")
    assert inputs.employer_ids == (employer_id("Cryomech"), None)
    assert inputs.portfolio.loan_id.tolist() == [cryomech.id, nobody.id]
    assert inputs.reserve.available_cents == 50_000_000 - 2 * 127_500
    assert inputs.as_of == d(1, 31) and inputs.transition_months == 0  # no month has ended since


def test_the_actual_reserve_at_each_month_end_shows_commitments_and_claims_paid(
    people: dict[str, Any], funded: None, on_date: Any
) -> None:
    loan = make_loan(people)
    on_date(d(6, 5))  # 120 days past due
    entry = operations.charge_off(
        loan.id,
        operations.ChargeOffInput("repossessed_sold", Decimal("3000.00"), Decimal("250.00")),
        actor=people["officer"],
    )
    reserve.approve_claim(
        db.session,
        key="approve-test",
        actor_id=people["staff"].id,
        claim_id=entry.claim_id,
        effective_date=d(6, 10),
    )
    months = book.actual_reserve([dt.date(2025, 12, 31), d(1, 31), d(6, 30)])
    loss = 876_373 + 25_000 - 300_000  # balance at charge-off + costs - the car
    assert months == [
        book.ActualMonth(dt.date(2025, 12, 31), 50_000_000, 0, 0, 0, 0),
        book.ActualMonth(d(1, 31), 50_000_000 - 127_500, 127_500, 0, 1, 850_000),
        # The claim took the loan's commitment first, then the rest from available.
        book.ActualMonth(d(6, 30), 50_000_000 - loss, 0, loss, 0, 0),
    ]
