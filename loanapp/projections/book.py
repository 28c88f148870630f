"""The data feed of the risk projection: the book, the reserve and the roll-rate history as
``risk.projection`` takes them, read from the database on a date.

Set-based like the nightly aging (``loanapp.servicing.aging``): a few queries whose columns go
straight into numpy, no ORM object per loan, so a book of 100,000 loans with three years of bucket
history loads in seconds. Money stays in whole cents; floats appear only in the annuity arithmetic
that turns a balance and an installment into a whole number of remaining installments.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

import reserve
from loanapp.extensions import db
from loanapp.programs.models import Employer
from loanapp.reserve_admin.policy import reserve_policy
from loanapp.servicing import aging, bulk, positions
from loanapp.servicing.policy import current_policy
from risk import delinquency
from risk.money import to_cents
from risk.projection import MAX_HORIZON_MONTHS, ClaimPolicy, Portfolio, Reserve
from risk.rollrate import N_LIVE, N_STATES, State

IntArray = npt.NDArray[np.int64]

#: The name of the "employer" of loans booked without one (they share one layoff risk).
NO_EMPLOYER = "No employer on file"
#: Longest remaining term given to a loan: its installment no longer clears its balance beyond this.
MAX_REMAINING_TERM = MAX_HORIZON_MONTHS
#: Share of an installment left over after the whole ones that the final installment pays with them.
FINAL_INSTALLMENT_SLACK = 0.1
_UNIX_EPOCH = dt.date(1970, 1, 1).toordinal()
_UNKNOWN = -1  # a bucket label the configured scheme does not know, or no history at that month end


@dataclass(frozen=True)
class ProjectionInputs:
    """Everything the projection reads from the database on ``as_of``.

    Attributes
    ----------
    portfolio
        The loans live on ``as_of`` with a balance.
    reserve
        Available reserve on ``as_of`` and the claim policy of the configuration.
    counts
        5 x 7 monthly transition counts observed in the bucket history (``risk.rollrate`` order).
    transition_months
        How many month-to-month steps the counts cover (0 when there is no history).
    employer_ids
        The employer id behind each of ``portfolio.employer_names`` (None: no employer on file).
    """

    as_of: dt.date
    portfolio: Portfolio
    reserve: Reserve
    counts: IntArray
    transition_months: int
    employer_ids: tuple[int | None, ...]


@dataclass(frozen=True)
class ActualMonth:
    """What happened by a month end, to set beside a projection made earlier.

    ``claims_paid_cents`` is cumulative (all claims paid up to ``month_end``), as the ledger keeps it.
    """

    month_end: dt.date
    available_cents: int
    committed_cents: int
    claims_paid_cents: int
    live_loans: int
    outstanding_cents: int


# --- the book ----------------------------------------------------------------------------------------


def remaining_terms(balance_cents: IntArray, payment_cents: IntArray, rate_bp: IntArray) -> IntArray:
    """Level installments still needed to clear each balance: the annuity count, rounded up.

    ``n = -log(1 - r B / P) / log(1 + r)`` with ``r`` the monthly rate (``B / P`` at 0%), clipped to
    1..120. A payment that does not cover the month's interest never clears the balance: 120. A
    delinquent loan's balance has not fallen, so its count includes the installments it missed.

    A fraction of at most :data:`FINAL_INSTALLMENT_SLACK` of an installment is paid with the final
    one, as the disclosed schedule's final payment absorbs such differences: the level installment
    is rounded to the cent (a new 48-month loan computes as 48.0002 installments) and interest
    accrues by the day (a 31-day month leaves a dollar or so more to pay).

    >>> remaining_terms(np.array([100_000]), np.array([25_000]), np.array([0])).tolist()
    [4]
    >>> remaining_terms(np.array([850_000, 850_000]), np.array([20_552, 20_500]), np.array([750, 750])).tolist()
    [48, 49]
    """
    balance = balance_cents.astype(np.float64)
    payment = payment_cents.astype(np.float64)
    rate = rate_bp.astype(np.float64) / 120_000  # basis points a year -> share a month
    terms = np.full(balance.shape, float(MAX_REMAINING_TERM))
    ratio = rate * balance / payment
    free = rate == 0
    terms[free] = balance[free] / payment[free]
    clears = ~free & (ratio < 1)
    terms[clears] = -np.log1p(-ratio[clears]) / np.log1p(rate[clears])
    whole = np.floor(terms)
    needed = np.where(terms - whole <= FINAL_INSTALLMENT_SLACK, whole, whole + 1)
    result: IntArray = np.clip(needed, 1, MAX_REMAINING_TERM).astype(np.int64)
    return result


def _book(as_of: dt.date) -> tuple[Portfolio, tuple[int | None, ...]]:
    live = positions.positions_on(as_of)
    keep = live.balance_cents > 0
    loan_ids = live.loan_ids[keep]
    balance = live.balance_cents[keep]
    state = np.minimum(live.days_past_due[keep] // 30, int(State.DPD120)).astype(np.int64)
    employer_ids = live.employer_ids[keep]  # 0: none on file

    # A superset of the live loans (every loan booked by then), matched by id: one query, no id list.
    term_ids, rate_bp, payment = bulk.fetch_columns(
        db.session,
        "SELECT CAST(l.id AS BIGINT), CAST(ROUND(l.annual_rate * 100) AS BIGINT), "
        "CAST(ROUND(l.payment_amount * 100) AS BIGINT) FROM loans l "
        f"WHERE l.contract_date <= {bulk.sql_date(as_of)} ORDER BY l.id",
        ["int", "int", "int"],
    )
    where = np.searchsorted(term_ids, loan_ids)
    rate_bp, payment = rate_bp[where], payment[where]

    distinct_ids = np.unique(employer_ids)
    distinct = distinct_ids.tolist()
    named: dict[int, str] = {
        row.id: row.name
        for row in db.session.execute(
            select(Employer.id, Employer.name).where(Employer.id.in_([i for i in distinct if i]))
        )
    }
    ordered = sorted(distinct, key=lambda i: (named.get(i, NO_EMPLOYER), i))
    rank = np.empty(len(ordered), dtype=np.int64)
    rank[np.searchsorted(distinct_ids, ordered)] = np.arange(len(ordered))
    employer = rank[np.searchsorted(distinct_ids, employer_ids)]

    committed = reserve.commitment_balances(db.session, as_of)
    commitment = np.zeros(len(loan_ids), dtype=np.int64)
    if committed:
        held_ids = np.fromiter(committed.keys(), dtype=np.int64, count=len(committed))
        held = np.fromiter(committed.values(), dtype=np.int64, count=len(committed))
        at = np.minimum(np.searchsorted(loan_ids, held_ids), max(len(loan_ids) - 1, 0))
        mine = (loan_ids[at] == held_ids) if len(loan_ids) else np.zeros(len(held_ids), dtype=bool)
        commitment[at[mine]] = held[mine]

    portfolio = Portfolio(
        loan_id=loan_ids,
        state=state,
        balance_cents=balance,
        rate_bp=rate_bp,
        remaining_term=remaining_terms(balance, payment, rate_bp),
        payment_cents=payment,
        employer=employer,
        commitment_cents=commitment,
        employer_names=tuple(named.get(i, NO_EMPLOYER) for i in ordered),
    )
    return portfolio, tuple(i or None for i in ordered)


def portfolio_as_of(as_of: dt.date) -> Portfolio:
    """The loans live on ``as_of`` (booked, not yet paid off or charged off) that still owe principal.

    Days past due and balance come from the payments received by then (``positions.positions_on``:
    stored where they are, else computed), so a past date gives the book as it stood. State is ``min(days past due // 30, 4)``; employers are indexed
    in name order, loans with none sharing "No employer on file".
    """
    return _book(as_of)[0]


# --- roll-rate history -----------------------------------------------------------------------------------


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_indexes(ordinals: IntArray) -> IntArray:
    """Vectorised :func:`_month_index` of day ordinals."""
    months = (ordinals - _UNIX_EPOCH).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months + 1970 * 12


def _month_end(index: int) -> dt.date:
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _state_codes() -> dict[str, int]:
    """Risk state of each bucket label: a live bucket by its lower bound (30 days per installment
    missed), the two terminal labels as the absorbing states."""
    scheme = current_policy().buckets
    codes = {
        label: min(bound // 30, int(State.DPD120))
        for label, bound in zip(scheme.labels, scheme.lower_bounds, strict=True)
    }
    codes[delinquency.CHARGED_OFF] = int(State.CHARGED_OFF)
    codes[delinquency.PAID_OFF] = int(State.PAID_OFF)
    return codes


def transition_counts(as_of: dt.date, months: int | None = None) -> tuple[IntArray, int]:
    """Monthly transitions observed in the bucket history: 5 x 7 counts and the steps they cover.

    A loan's state at a month end is its bucket history row open on that day. For each pair of
    consecutive month ends up to ``as_of`` (the last ``months`` pairs, or every pair since the
    history began with ``None``), a loan live at the first adds one to (its state then, its state at
    the second). Not counted:

    * a payoff in or after the loan's maturity month: it is the schedule ending, which the model
      applies itself, not a prepayment;
    * a month end where the loan's bucket label is not in the configured scheme (a history written
      under an older scheme): that loan-month is skipped rather than guessed;
    * loans booked after the first month end of the pair.

    The steps covered start no earlier than the history does, so a young programme reports the few
    months it has rather than ``months``.
    """
    if months is not None and months < 0:
        raise ValueError(f"months must be 0 or more, not {months}")
    counts = np.zeros((N_LIVE, N_STATES), dtype=np.int64)
    last = _month_index(as_of) - (0 if as_of == _month_end(_month_index(as_of)) else 1)
    first = None if months is None else last - months
    if first is not None and first >= last:
        return counts, 0
    codes = _state_codes()
    code_sql = " ".join(f"WHEN {_sql_text(label)} THEN {code}" for label, code in codes.items())
    # Only rows open on some month end matter: a bucket entered and left within one month (a payment
    # a few days late, cured before the month ended) never shows in the counts, and most rows are that.
    next_month = (
        "CAST(date_trunc('month', CAST(h.opened_on AS TIMESTAMP)) + INTERVAL '1 month' AS DATE)"
        if bulk.is_postgres(db.session)
        else "date(h.opened_on, 'start of month', '+1 month')"
    )
    window = (
        f"h.opened_on <= {bulk.sql_date(_month_end(last))} "
        f"AND (h.closed_on IS NULL OR h.closed_on >= {next_month})"
    )
    if first is not None:
        window += f" AND (h.closed_on IS NULL OR h.closed_on > {bulk.sql_date(_month_end(first))})"
    # Open rows end after the window; a date literal keeps the column free of NULLs for the COPY.
    beyond = bulk.sql_date(_month_end(last) + dt.timedelta(days=1))
    loan_ids, code, opened, closed, maturity = bulk.fetch_columns(
        db.session,
        "SELECT CAST(h.loan_id AS BIGINT), "
        f"CAST(CASE h.bucket {code_sql} ELSE {_UNKNOWN} END AS BIGINT), "
        f"h.opened_on, COALESCE(h.closed_on, {beyond}), l.maturity_date "
        f"FROM loan_bucket_history h JOIN loans l ON l.id = h.loan_id WHERE {window}",
        ["int", "int", "date", "date", "date"],
    )
    if not len(loan_ids):
        return counts, 0
    earliest = _month_index(dt.date.fromordinal(int(opened.min())))
    start = earliest if first is None else max(first, earliest)
    if start >= last:
        return counts, 0
    ends = np.array([_month_end(i).toordinal() for i in range(start, last + 1)], dtype=np.int64)

    # state[loan, k]: the loan's state at month end k, from the one row open on that day.
    loans, row_loan = np.unique(loan_ids, return_inverse=True)
    state = np.full((len(loans), len(ends)), _UNKNOWN, dtype=np.int8)
    low = np.searchsorted(ends, opened, side="left")
    high = np.searchsorted(ends, closed, side="left")  # closed_on is exclusive
    spans = np.maximum(high - low, 0)
    row = np.repeat(np.arange(len(loan_ids)), spans)
    offset = np.arange(int(spans.sum())) - np.repeat(np.cumsum(spans) - spans, spans)
    state[row_loan[row], low[row] + offset] = code[row]

    before, after = state[:, :-1].astype(np.int64), state[:, 1:].astype(np.int64)
    maturity_month = np.empty(len(loans), dtype=np.int64)
    maturity_month[row_loan] = _month_indexes(maturity)
    month_of_after = np.arange(start + 1, last + 1, dtype=np.int64)
    matured = (after == int(State.PAID_OFF)) & (month_of_after[None, :] >= maturity_month[:, None])
    counted = (before >= 0) & (before < N_LIVE) & (after >= 0) & ~matured
    flat = np.bincount(before[counted] * N_STATES + after[counted], minlength=N_LIVE * N_STATES)
    return flat.reshape(N_LIVE, N_STATES).astype(np.int64), last - start


# --- the reserve -------------------------------------------------------------------------------------


def reserve_as_of(as_of: dt.date, config: Mapping[str, Any]) -> Reserve:
    """Available reserve at the end of ``as_of`` and the claim policy the configuration sets."""
    policy = reserve_policy(config)
    cap = policy.claim_cap_amount
    return Reserve(
        available_cents=to_cents(reserve.reserve_position(db.session, as_of).available),
        policy=ClaimPolicy(
            pooled=policy.pooled,
            cap_share=float(policy.claim_cap_share),
            # A cap of 0 would refuse every claim; the settings mean "no cap" by it.
            cap_cents=(to_cents(cap) or None) if cap is not None else None,
        ),
    )


def projection_inputs(
    as_of: dt.date, config: Mapping[str, Any], *, history_months: int | None = None
) -> ProjectionInputs:
    """The book, the reserve and the transition counts on ``as_of``, read together.

    ``history_months`` limits the counts to the last so many months (None: all the history); the
    caller maps the assumptions' ``history_months`` (0 for all) onto it.
    """
    portfolio, employer_ids = _book(as_of)
    counts, steps = transition_counts(as_of, history_months)
    return ProjectionInputs(
        as_of=as_of,
        portfolio=portfolio,
        reserve=reserve_as_of(as_of, config),
        counts=counts,
        transition_months=steps,
        employer_ids=employer_ids,
    )


def actual_reserve(month_ends: Sequence[dt.date]) -> list[ActualMonth]:
    """The reserve and the book as they stood at each date, to compare with an earlier forecast."""
    months = []
    for day in month_ends:
        position = reserve.reserve_position(db.session, day)
        outstanding, live = aging.outstanding_principal(day)
        months.append(
            ActualMonth(
                month_end=day,
                available_cents=to_cents(position.available),
                committed_cents=to_cents(position.committed),
                claims_paid_cents=to_cents(position.claims_paid),
                live_loans=live,
                outstanding_cents=outstanding,
            )
        )
    return months
