"""The model shared by the expected projection, the Monte Carlo and the per-loan reference.

The loan model
--------------
Each month a live loan moves by the transition matrix of its employer's regime that month (normal,
or stressed during a layoff or closure). It sits on its own schedule: a loan in DPDk has missed k
installments, so after ``t`` months a loan that started ``k0`` behind and is now in state ``s`` has
paid ``pos = t + k0 - lag(s)`` of its remaining installments (``lag`` is 0..4 for CURRENT..DPD120) and
owes its scheduled balance after ``pos`` installments. When ``pos`` reaches the loan's remaining term
it is paid off (maturity). A charge-off in month ``t`` takes the balance of the 120+ month before it,
``pos = t + k0 - 5`` (at least 0); the loss is that balance times ``1 - recovery_rate``.

Schedules follow ``risk.amortization``'s rounding: each month's interest is ``balance x rate / 12``
rounded half-up to the cent, the contractual payment is applied, and the installment numbered
``remaining_term`` clears what is left.

Groups
------
All loans of one employer that start in the same bucket with the same remaining term (terms past
the horizon plus five months are alike: they cannot mature within the horizon) have the same
outcome distribution: charged off in month 1..H, paid off in month 1..H, or still live. That
distribution is computed once per (group class, regime history, parameter draw) by propagating the
Markov chain (:func:`outcome_probabilities`); the simulation then draws counts per group instead
of following loans.

Layoffs: at most one episode per employer within the horizon, starting in month ``s`` with
probability ``(1 - q)^(s-1) q`` (``q`` the monthly probability from the yearly one) and lasting
``layoff_months``; a closure stresses given months for certain. So a regime history is (closure
pattern, layoff start) and there are at most ``patterns x (H + 1)`` of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from risk.projection.inputs import Assumptions, ClaimPolicy, Portfolio
from risk.rollrate import (
    N_LIVE,
    N_STATES,
    FloatArray,
    IntArray,
    ProjectionError,
    State,
    TransitionEstimate,
    worsen,
)

BoolArray = npt.NDArray[np.bool_]

#: Installments behind in each live state.
LAG = np.arange(N_LIVE, dtype=np.int64)
#: A charge-off takes the balance of the month before, when the loan was 120+ (four behind).
CHARGE_OFF_LAG = N_LIVE

_PERIOD_DIVISOR = 120_000  # interest cents = balance_cents * rate_bp / 120000 (see risk.amortization)


def cents(values: npt.ArrayLike) -> IntArray:
    """Float amounts in cents to whole int64 cents, rounding half up (every amount here is >= 0)."""
    return np.floor(np.asarray(values, dtype=np.float64) + 0.5).astype(np.int64)


def balance_paths(
    balance_cents: IntArray, rate_bp: IntArray, payment_cents: IntArray, remaining_term: IntArray, width: int
) -> npt.NDArray[np.int32]:
    """Scheduled balance of each loan after 0, 1, ..., ``width - 1`` installments, int32 cents."""
    n = balance_cents.shape[0]
    out = np.empty((n, width), dtype=np.int32)
    owed = balance_cents.astype(np.int64)
    rate = np.asarray(rate_bp, dtype=np.int64)
    payment = np.asarray(payment_cents, dtype=np.int64)
    half = _PERIOD_DIVISOR // 2
    if width:
        out[:, 0] = owed
    # In place, one scratch vector: a book of a million loans makes no new arrays per month.
    scratch = np.empty_like(owed)
    for j in range(1, width):
        np.multiply(owed, rate, out=scratch)
        scratch += half
        scratch //= _PERIOD_DIVISOR
        owed += scratch  # what is due: balance and the month's interest
        # The installment numbered ``remaining_term`` clears the balance; before it, the payment
        # (or what is due, when less).
        np.minimum(payment, owed, out=scratch)
        last = j >= remaining_term
        scratch[last] = owed[last]
        owed -= scratch
        out[:, j] = owed
    return out


def level_payment_cents(principal_cents: int, rate_bp: int, term: int) -> int:
    """Level payment in cents (float formula, half-up; the pipeline's average loan only)."""
    if rate_bp == 0:
        return (2 * principal_cents + term) // (2 * term)
    r = rate_bp / _PERIOD_DIVISOR
    return int(np.floor(principal_cents * r / -np.expm1(-term * np.log1p(r)) + 0.5))


@dataclass(frozen=True)
class ClaimFlows:
    """What one charge-off does to the reserve, float cents, one entry per charge-off.

    ``from_commitment + from_available + uncovered`` is the claim (the loss times the cap share, at
    most the cap); ``from_available`` is what the pooled reserve is asked for (it may pay less);
    ``uncovered`` is what a non-pooled policy leaves unpaid; ``release`` returns the rest of the
    loan's commitment to available.
    """

    balance: FloatArray
    loss: FloatArray
    from_commitment: FloatArray
    from_available: FloatArray
    uncovered: FloatArray
    release: FloatArray


def claim_flows(
    balance: npt.ArrayLike, commitment: npt.ArrayLike, policy: ClaimPolicy, recovery_rate: float
) -> ClaimFlows:
    """The claim policy applied to charge-offs (vectorised; same rule as ``reserve.claims``)."""
    bal = np.asarray(balance, dtype=np.float64)
    commit = np.asarray(commitment, dtype=np.float64)
    loss = bal * (1.0 - recovery_rate)
    claim = loss * policy.cap_share
    if policy.cap_cents is not None:
        claim = np.minimum(claim, float(policy.cap_cents))
    from_commitment = np.minimum(claim, commit)
    rest = claim - from_commitment
    zero = np.zeros_like(rest)
    return ClaimFlows(
        balance=bal,
        loss=loss,
        from_commitment=from_commitment,
        from_available=rest if policy.pooled else zero,
        uncovered=zero if policy.pooled else rest,
        release=commit - from_commitment,
    )


@dataclass(frozen=True)
class Book:
    """The portfolio grouped for the models (see the module docstring).

    Classes are (starting state, remaining term capped at ``horizon + 5``), shared by employers; the
    last class is the pipeline's new loan. Groups are (employer, class) with their loans.
    """

    horizon: int
    n_employers: int
    class_state: IntArray  # (Q,)
    class_term: IntArray  # (Q,)
    pipeline_class: int
    group_employer: IntArray  # (G,)
    group_class: IntArray  # (G,)
    group_size: IntArray  # (G,)
    group_start: IntArray  # (G,) offset into order
    order: IntArray  # loan indices sorted by group
    loan_group: IntArray  # (n,)
    balances: npt.NDArray[np.int32]  # (n, horizon) scheduled balance after pos installments
    commitment: IntArray  # (n,)
    group_commitment: FloatArray  # (G,) sum of commitments

    @property
    def n_groups(self) -> int:
        return int(self.group_size.shape[0])


def group_loans(portfolio: Portfolio, assumptions: Assumptions) -> Book:
    horizon = assumptions.horizon_months
    cap = horizon + CHARGE_OFF_LAG
    term = np.minimum(portfolio.remaining_term, cap)
    class_key = portfolio.state * (cap + 1) + term
    pipeline_key = int(State.CURRENT) * (cap + 1) + min(assumptions.origination_term_months, cap)
    keys, loan_class = np.unique(np.append(class_key, pipeline_key), return_inverse=True)
    loan_class = loan_class[:-1]
    pipeline_class = int(np.searchsorted(keys, pipeline_key))
    n_classes = keys.shape[0]
    group_key = portfolio.employer * n_classes + loan_class
    groups, loan_group = np.unique(group_key, return_inverse=True)
    order = np.argsort(loan_group, kind="stable")
    sizes = np.bincount(loan_group, minlength=groups.shape[0]).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    commitment = portfolio.commitment_cents
    return Book(
        horizon=horizon,
        n_employers=portfolio.n_employers,
        class_state=(keys // (cap + 1)).astype(np.int64),
        class_term=(keys % (cap + 1)).astype(np.int64),
        pipeline_class=pipeline_class,
        group_employer=(groups // n_classes).astype(np.int64),
        group_class=(groups % n_classes).astype(np.int64),
        group_size=sizes,
        group_start=starts,
        order=order.astype(np.int64),
        loan_group=loan_group.astype(np.int64),
        balances=balance_paths(
            portfolio.balance_cents,
            portfolio.rate_bp,
            portfolio.payment_cents,
            portfolio.remaining_term,
            horizon,
        ),
        commitment=commitment,
        group_commitment=np.bincount(
            loan_group, weights=commitment.astype(np.float64), minlength=groups.shape[0]
        ).astype(np.float64),
    )


@dataclass(frozen=True)
class Pipeline:
    """The pipeline's average new loan: its commitment and its charge-off flows by age in months."""

    per_month: int
    commitment: float
    flows: ClaimFlows  # index a - 1 for a charge-off a months after booking, a = 1..horizon


def pipeline(assumptions: Assumptions, policy: ClaimPolicy) -> Pipeline:
    amount = assumptions.origination_amount_cents
    term = assumptions.origination_term_months
    payment = level_payment_cents(amount, assumptions.origination_rate_bp, term)
    h = assumptions.horizon_months
    path = balance_paths(
        np.array([amount]),
        np.array([assumptions.origination_rate_bp]),
        np.array([payment]),
        np.array([term]),
        h,
    )[0]
    commitment = float(np.floor(amount * assumptions.commitment_share + 0.5))
    ages = np.arange(1, h + 1)
    balances = path[np.maximum(ages - CHARGE_OFF_LAG, 0)]
    return Pipeline(
        per_month=assumptions.originations_per_month,
        commitment=commitment,
        flows=claim_flows(balances, np.full(h, commitment), policy, assumptions.recovery_rate),
    )


def matrices(
    transitions: TransitionEstimate, assumptions: Assumptions, draws: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Normal and stressed matrices, ``(K, 7, 7)`` each: posterior draws, or the posterior mean."""
    base = transitions.matrix[None] if draws is None else draws
    normal = np.stack([worsen(m, assumptions.roll_rate_multiplier, "roll_rate_multiplier") for m in base])
    if assumptions.stressed_matrix is not None:
        fixed = worsen(assumptions.stressed_matrix, assumptions.roll_rate_multiplier, "roll_rate_multiplier")
        stressed = np.broadcast_to(fixed, normal.shape).copy()
    else:
        stressed = np.stack([worsen(m, assumptions.stress_multiplier, "stress_multiplier") for m in normal])
    return normal, stressed


def monthly_layoff_probability(yearly: FloatArray) -> FloatArray:
    """Monthly probability with the same chance of an event within a year."""
    certain = yearly >= 1.0
    safe = np.where(certain, 0.0, yearly)
    return np.where(certain, 1.0, -np.expm1(np.log1p(-safe) / 12.0))


@dataclass(frozen=True)
class Regimes:
    """Closure patterns and what each employer follows.

    ``pattern_window[k]`` marks the months (0-based) pattern ``k`` is stressed for certain; pattern 0
    is "no closure". ``employer_pattern[e]`` and ``employer_q[e]`` (monthly layoff probability) say
    what employer ``e`` follows.
    """

    horizon: int
    layoff_months: int
    pattern_window: BoolArray  # (n_patterns, H)
    employer_pattern: IntArray  # (E,)
    employer_q: FloatArray  # (E,)

    @property
    def n_histories(self) -> int:
        """Histories per pattern: layoff starting in month 1..H, or none (H + 1)."""
        return self.horizon + 1

    def windows(self, pattern: IntArray, start: IntArray) -> BoolArray:
        """Stressed months of histories (pattern, layoff start month 1..H+1), shape (n, H)."""
        months = np.arange(1, self.horizon + 1)
        layoff = (months >= start[:, None]) & (months < start[:, None] + self.layoff_months)
        return np.asarray(self.pattern_window[pattern] | layoff)

    def start_weights(self) -> FloatArray:
        """Probability of each layoff start 1..H and of none (index H), per employer: (E, H + 1)."""
        q = self.employer_q[:, None]
        s = np.arange(1, self.horizon + 1)[None, :]
        weights = np.empty((q.shape[0], self.horizon + 1))
        weights[:, :-1] = (1 - q) ** (s - 1) * q
        weights[:, -1] = (1 - q[:, 0]) ** self.horizon
        return weights


def regimes(portfolio: Portfolio, assumptions: Assumptions) -> Regimes:
    h = assumptions.horizon_months
    windows = [np.zeros(h, dtype=bool)]
    employer_pattern = np.zeros(portfolio.n_employers, dtype=np.int64)
    for closure in assumptions.closures:
        window = np.zeros(h, dtype=bool)
        end = h if closure.months is None else min(h, closure.start_month - 1 + closure.months)
        window[closure.start_month - 1 : end] = True
        windows.append(window)
        employer_pattern[closure.employer] = len(windows) - 1
    yearly = assumptions.layoff_probabilities(portfolio.n_employers)
    return Regimes(
        horizon=h,
        layoff_months=assumptions.layoff_months,
        pattern_window=np.array(windows),
        employer_pattern=employer_pattern,
        employer_q=monthly_layoff_probability(yearly),
    )


def _propagate(
    v: FloatArray,
    normal: FloatArray,
    stressed: FloatArray,
    window: BoolArray,
    class_state: IntArray,
    class_term: IntArray,
    first_month: int,
    keep_states: bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Run the chain from state ``v`` (C, 7, Q) through months ``first_month..H``.

    Returns the charge-off and payoff probabilities of those months (C, Q, n) and, if asked, the
    state after each of them (C, n, 7, Q).
    """
    c, h = window.shape
    q = class_state.shape[0]
    n = h - first_month + 1
    charged_off = np.empty((c, q, n))
    paid_off = np.empty((c, q, n))
    states = np.empty((c, n, N_STATES, q)) if keep_states else None
    for i, t in enumerate(range(first_month, h + 1)):
        # Only the live rows move mass (the absorbing rows are the identity).
        step = np.where(window[:, t - 1, None, None], stressed, normal)[:, :N_LIVE, :]
        moved = np.matmul(step.transpose(0, 2, 1), v[:, :N_LIVE, :])  # (C, 7, Q)
        moved[:, State.CHARGED_OFF, :] += v[:, State.CHARGED_OFF, :]
        moved[:, State.PAID_OFF, :] += v[:, State.PAID_OFF, :]
        matured = (t + class_state[None, :] - LAG[:, None]) >= class_term[None, :]  # (5, Q)
        if matured.any():
            gone = moved[:, :N_LIVE, :] * matured[None]
            moved[:, :N_LIVE, :] -= gone
            moved[:, State.PAID_OFF, :] += gone.sum(axis=1)
        charged_off[:, :, i] = moved[:, State.CHARGED_OFF, :] - v[:, State.CHARGED_OFF, :]
        paid_off[:, :, i] = moved[:, State.PAID_OFF, :] - v[:, State.PAID_OFF, :]
        v = moved
        if states is not None:
            states[:, i] = v
    return charged_off, paid_off, states


def outcome_probabilities(
    normal: FloatArray,
    stressed: FloatArray,
    history_draw: IntArray,
    history_window: BoolArray,
    class_state: IntArray,
    class_term: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """Probability that a loan of each class is charged off / paid off in each month.

    Parameters
    ----------
    normal, stressed
        ``(K, 7, 7)`` matrices per parameter draw.
    history_draw, history_window
        Per regime history: its parameter draw ``(C,)`` and stressed months ``(C, H)``.
    class_state, class_term
        Per class: starting state and remaining term ``(Q,)``.

    Returns
    -------
    charged_off, paid_off
        ``(C, Q, H)``: probability of the event happening in month ``m + 1`` (maturity included in
        ``paid_off``); what is left is the probability of being live after the horizon.

    Notes
    -----
    Histories of one draw agree with its all-normal chain until their first stressed month, so that
    chain is run once per draw and each history only from its first stressed month on.
    """
    c, h = history_window.shape
    q = class_state.shape[0]
    first = np.where(history_window.any(axis=1), history_window.argmax(axis=1) + 1, h + 1)
    draws, of_draw = np.unique(history_draw, return_inverse=True)
    start = np.zeros((draws.shape[0], N_STATES, q))
    start[:, class_state, np.arange(q)] = 1.0
    base_co, base_po, base_states = _propagate(
        start,
        normal[draws],
        normal[draws],
        np.zeros((draws.shape[0], h), dtype=bool),
        class_state,
        class_term,
        1,
        keep_states=True,
    )
    assert base_states is not None
    charged_off = np.empty((c, q, h))
    paid_off = np.empty((c, q, h))
    for month in np.unique(first):
        s = int(month)
        mine = np.flatnonzero(first == s)
        base = of_draw[mine]
        charged_off[mine, :, : s - 1] = base_co[base, :, : s - 1]
        paid_off[mine, :, : s - 1] = base_po[base, :, : s - 1]
        if s <= h:
            v = base_states[base, s - 2] if s > 1 else start[base]
            co, po, _ = _propagate(
                v,
                normal[history_draw[mine]],
                stressed[history_draw[mine]],
                history_window[mine],
                class_state,
                class_term,
                s,
            )
            charged_off[mine, :, s - 1 :] = co
            paid_off[mine, :, s - 1 :] = po
    np.maximum(charged_off, 0.0, out=charged_off)
    np.maximum(paid_off, 0.0, out=paid_off)
    return charged_off, paid_off


@dataclass(frozen=True)
class Cost:
    """What one Monte Carlo run is estimated to take: peak memory above the process's own, and time."""

    bytes: int
    seconds: float


#: Coefficients of :func:`estimate_cost`, fitted on ``bench/projection_memory.py`` runs (300 and 3,000
#: loans; 0-200 draws; 36 and 120 months; 10,000-100,000 paths) and rounded up by about a fifth, so
#: the estimate lies above every measured peak. Re-fit them there when the model's arrays change.
BYTES_BASE = 64 * 2**20
BYTES_PER_DRAW_CLASS_MONTH2 = 96  # the per-draw outcome tables: draws x loan classes x months^2
BYTES_PER_PATH_MONTH = 40  # the path records (available, committed, claims...)
SECONDS_PER_PATH_GROUP_MONTH = 2.0e-7
SECONDS_PER_DRAW_CLASS_MONTH2 = 2.5e-6


def estimate_cost(assumptions: Assumptions, n_groups: int, n_classes: int, scenarios: int = 1) -> Cost:
    """Peak memory and time of a run from every input that scales them.

    Memory is dominated by the outcome tables built for each posterior draw of the transition
    matrix (``parameter_draws``; up to 200): ``draws x classes x months^2``. The pipeline's
    originations are one class of their own (their number per month was measured to change
    neither memory nor time: they are counts, not rows). The paths' records grow with
    ``paths x months``. Scenarios run one after the other (the peak is one run's; each adds its
    result). Time grows with ``paths x groups x months`` plus the tables.

    >>> small = estimate_cost(Assumptions(paths=1_000, parameter_draws=0), n_groups=100, n_classes=50)
    >>> big = estimate_cost(Assumptions(paths=1_000, parameter_draws=200), n_groups=100, n_classes=50)
    >>> big.bytes > 10 * small.bytes // 2
    True
    """
    h = assumptions.horizon_months
    draws = max(assumptions.parameter_draws, 1)
    classes = max(n_classes, 1) + 1  # the pipeline's class
    tables = draws * classes * h * h
    paths = assumptions.paths * h
    memory = BYTES_BASE + BYTES_PER_DRAW_CLASS_MONTH2 * tables + BYTES_PER_PATH_MONTH * paths
    memory = int(memory * (1 + 0.1 * max(scenarios - 1, 0)))
    seconds = scenarios * (
        SECONDS_PER_PATH_GROUP_MONTH * assumptions.paths * max(n_groups, 1) * h
        + SECONDS_PER_DRAW_CLASS_MONTH2 * tables
    )
    return Cost(memory, seconds)


def check_work(
    assumptions: Assumptions, n_groups: int, n_classes: int | None = None, scenarios: int = 1
) -> Cost:
    """Refuse, before any work, a run beyond the limits of work, memory or time; returns its cost."""
    work = assumptions.paths * max(n_groups, 1) * assumptions.horizon_months
    if work > assumptions.max_work:
        raise ProjectionError(
            "paths",
            f"{assumptions.paths:,} paths x {n_groups:,} loan groups x {assumptions.horizon_months} months "
            f"is {work:,}, more than the limit of {assumptions.max_work:,}; ask for fewer paths or months",
        )
    cost = estimate_cost(assumptions, n_groups, n_groups if n_classes is None else n_classes, scenarios)
    if cost.bytes > assumptions.max_bytes:
        raise ProjectionError(
            "parameter_draws",
            f"this run would need about {cost.bytes / 2**20:,.0f} MB, more than the limit of "
            f"{assumptions.max_bytes / 2**20:,.0f} MB; ask for fewer roll-rate draws or a shorter horizon",
        )
    if cost.seconds > assumptions.max_seconds:
        raise ProjectionError(
            "paths",
            f"this run would take about {cost.seconds / 60:,.0f} minutes, more than the limit of "
            f"{assumptions.max_seconds / 60:,.0f}; ask for fewer paths, draws or months",
        )
    return cost


def settle_month(
    available: FloatArray,
    committed: FloatArray,
    *,
    deposit: float,
    releases: FloatArray,
    from_commitment: FloatArray,
    pool_demand: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """One month of the reserve, in a fixed order: deposits and releases arrive, then claims are paid
    (each from its loan's commitment, the rest from available as far as it goes).

    Returns the new ``(available, committed, paid_from_available, shortfall)``.
    """
    available = available + deposit + releases
    committed = committed - releases - from_commitment
    paid = np.minimum(pool_demand, available)
    return available - paid, committed, paid, pool_demand - paid


def layoff_start(uniforms: FloatArray, q: FloatArray, horizon: int) -> IntArray:
    """First layoff month (1-based; ``horizon + 1`` for none) from uniforms, by inverting the geometric
    distribution of the first monthly event: ``P(start = s) = (1 - q)^(s-1) q``.

    Monotone in ``q`` for fixed uniforms (a higher probability never delays a layoff), which keeps
    scenario comparisons with common random numbers clean.
    """
    q = np.broadcast_to(q, uniforms.shape)
    start = np.full(uniforms.shape, horizon + 1, dtype=np.int64)
    certain = q >= 1.0
    possible = (q > 0) & ~certain
    with np.errstate(divide="ignore"):
        s = np.floor(np.log1p(-uniforms[possible]) / np.log1p(-q[possible])) + 1
    start[possible] = np.minimum(s, horizon + 1).astype(np.int64)
    start[certain] = 1
    return start
