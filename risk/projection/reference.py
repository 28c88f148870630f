"""The slow, obvious Monte Carlo: every loan, every month, one random number each.

It implements the same model as :func:`risk.projection.simulate` (see ``risk.projection.model``)
in the most direct way, with none of its shortcuts: no groups, payoffs drawn rather than expected,
each charge-off's own balance, claims paid one by one. Tests compare the two; the benchmark times
both. Not for production use: about 25 ms per path for a thousand loans (four minutes for
10,000 paths, against about a second for ``simulate``).
"""

from __future__ import annotations

import numpy as np

from risk.projection.inputs import Assumptions, Portfolio, Reserve
from risk.projection.model import (
    CHARGE_OFF_LAG,
    balance_paths,
    check_work,
    group_loans,
    level_payment_cents,
    matrices,
    regimes,
)
from risk.projection.results import PathRecord, SimulationResult, summarise
from risk.rollrate import N_LIVE, State, TransitionEstimate

_CHARGED_OFF = int(State.CHARGED_OFF)
_PAID_OFF = int(State.PAID_OFF)


class _Loan:
    __slots__ = ("employer", "state", "start_state", "origin", "term", "commitment", "schedule")

    def __init__(
        self, employer: int, state: int, origin: int, term: int, commitment: float, schedule: list[int]
    ) -> None:
        self.employer = employer  # -1: a pipeline loan, no employer's layoffs
        self.state = state
        self.start_state = state
        self.origin = origin
        self.term = term
        self.commitment = commitment
        self.schedule = schedule


def reference_simulation(
    portfolio: Portfolio, reserve: Reserve, transitions: TransitionEstimate, assumptions: Assumptions
) -> SimulationResult:
    """Per-loan Monte Carlo of the same model as ``simulate`` (its own random numbers, same seed rule).

    With ``parameter_draws > 0`` and an uncertain estimate, each path draws its own matrix from the
    posterior (``simulate`` shares ``parameter_draws`` draws among the paths: the same distribution).
    """
    assumptions.check_against(portfolio)
    check_work(assumptions, portfolio.n_loans)
    h = assumptions.horizon_months
    p = assumptions.paths
    seed = assumptions.seed if assumptions.seed is not None else int(np.random.default_rng().integers(2**63))
    rng = np.random.default_rng(seed)
    reg = regimes(portfolio, assumptions)
    book = group_loans(portfolio, assumptions)
    policy = reserve.policy
    recovery = assumptions.recovery_rate
    uncertain = transitions.has_uncertainty and assumptions.parameter_draws > 0

    schedules = [list(map(int, row)) for row in book.balances]
    new_amount = assumptions.origination_amount_cents
    new_term = assumptions.origination_term_months
    new_schedule = list(
        map(
            int,
            balance_paths(
                np.array([new_amount]),
                np.array([assumptions.origination_rate_bp]),
                np.array([level_payment_cents(new_amount, assumptions.origination_rate_bp, new_term)]),
                np.array([new_term]),
                h,
            )[0],
        )
    )
    new_commitment = float(np.floor(new_amount * assumptions.commitment_share + 0.5))
    deposit = float(assumptions.grant_deposits_cents)

    record = PathRecord(
        available=np.zeros((p, h)),
        committed=np.zeros((p, h)),
        cumulative_claims=np.zeros((p, h)),
        exhausted=np.zeros((p, h), dtype=bool),
        charge_offs=np.zeros(h),
        loss=np.zeros(h),
        new_loans=np.zeros(h),
    )
    for path in range(p):
        draw = transitions.sample(rng, 1) if uncertain else None
        normal, stressed = matrices(transitions, assumptions, draw)
        cumulative_rows = []
        for m in (normal[0], stressed[0]):
            rows = np.cumsum(m, axis=1)
            rows[:, -1] = np.inf
            cumulative_rows.append([list(map(float, row)) for row in rows])
        normal_rows, stressed_rows = cumulative_rows

        # Layoffs: a Bernoulli trial each month until the first one (at most one episode).
        stressed_month = reg.pattern_window[reg.employer_pattern].copy()  # (E, H)
        for e in range(portfolio.n_employers):
            for t in range(h):
                if rng.random() < reg.employer_q[e]:
                    stressed_month[e, t : t + assumptions.layoff_months] = True
                    break

        loans = [
            _Loan(
                int(portfolio.employer[i]),
                int(portfolio.state[i]),
                0,
                int(portfolio.remaining_term[i]),
                float(portfolio.commitment_cents[i]),
                schedules[i],
            )
            for i in range(portfolio.n_loans)
        ]
        available = float(reserve.available_cents)
        committed = float(portfolio.commitment_cents.sum())
        claims_paid = 0.0
        for t in range(1, h + 1):
            releases = 0.0
            from_commitments = 0.0
            pool_claims: list[float] = []
            still_live: list[_Loan] = []
            for loan in loans:
                layoff = loan.employer >= 0 and stressed_month[loan.employer, t - 1]
                row = (stressed_rows if layoff else normal_rows)[loan.state]
                u = rng.random()
                new_state = 0
                while u >= row[new_state]:
                    new_state += 1
                age = t - loan.origin
                if new_state == _CHARGED_OFF:
                    balance = loan.schedule[max(age + loan.start_state - CHARGE_OFF_LAG, 0)]
                    loss = balance * (1.0 - recovery)
                    claim = loss * policy.cap_share
                    if policy.cap_cents is not None:
                        claim = min(claim, float(policy.cap_cents))
                    own = min(claim, loan.commitment)
                    from_commitments += own
                    releases += loan.commitment - own
                    if policy.pooled:
                        pool_claims.append(claim - own)
                    record.charge_offs[t - 1] += 1
                    record.loss[t - 1] += loss
                elif new_state == _PAID_OFF or age + loan.start_state - new_state >= loan.term:
                    releases += loan.commitment
                else:
                    assert new_state < N_LIVE
                    loan.state = new_state
                    still_live.append(loan)
            loans = still_live

            available += deposit + releases
            committed -= releases + from_commitments
            paid = from_commitments
            shortfall = 0.0
            for claim in pool_claims:
                part = min(claim, available)
                available -= part
                paid += part
                shortfall += claim - part
            exhausted = shortfall > 0.5
            claims_paid += paid
            for _ in range(assumptions.originations_per_month):
                if new_commitment > available:
                    exhausted = True
                    continue
                available -= new_commitment
                committed += new_commitment
                record.new_loans[t - 1] += 1
                loans.append(_Loan(-1, 0, t, new_term, new_commitment, new_schedule))
            record.available[path, t - 1] = available
            record.committed[path, t - 1] = committed
            record.cumulative_claims[path, t - 1] = claims_paid
            record.exhausted[path, t - 1] = exhausted
    return summarise(record, seed=seed, parameter_draws=p if uncertain else 0)
