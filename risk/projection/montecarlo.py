"""Monte Carlo draw-down of the reserve, vectorised over paths and over loans that behave alike.

How a path is drawn
-------------------
1. *Parameters.* Path ``i`` uses posterior draw ``i mod parameter_draws`` of the transition
   matrix (``TransitionEstimate.sample``), so the estimate's own uncertainty widens the
   percentiles. With ``parameter_draws=0`` every path uses the posterior mean.
2. *Layoffs.* Per path and employer one uniform number gives the month a layoff starts, or none;
   closures are certain. That regime history is shared by all the employer's borrowers: this is
   the correlation within an employer.
3. *Units of alike loans.* Given the path's matrices, loans with the same regime history and the
   same class (starting bucket, remaining term up to the horizon + 5) are exchangeable: each ends
   charged off in month m, paid off in month m, or live, with the same probabilities, computed
   once per (history, class) by the Markov chain (``model.outcome_probabilities``). So per path
   the loans of all quiet employers (no layoff, no closure) are pooled by class, and the loans of
   each other employer by its groups (class); each pool is a *unit*.
4. *Charge-offs.* Per unit one binomial draw gives the number charged off. In a unit with at most
   ``EXACT_EVENTS`` of them (all units of a book of some thousands of loans) each charge-off gets
   its month from the conditional distribution and a loan of the unit picked at random, whose own
   schedule gives the balance and the claim: exact in distribution, but for the pick being with
   replacement (two charge-offs of a unit may carry the same loan's balance). In a bigger unit
   the months are one multinomial draw and each month's charge-offs carry the unit's mean flows
   for that month (balance, loss, claim parts, release): exact in expectation, and the spread
   lost (the balances' dispersion within the unit) is negligible beside that of the count once
   dozens of loans charge off.
5. *Payoffs, by their conditional expectation.* Given the charge-offs, every other loan pays off
   in each month with known probability; the releases of commitment enter the reserve as that
   expectation (a Rao-Blackwell step), not as a draw. Means are unchanged; the payoff-timing
   noise is left out.
6. *The reserve* runs month by month over all paths at once (``model.settle_month``), then the
   pipeline books new loans as far as available covers their commitment; their charge-offs are
   drawn the same way (pipeline loans belong to no employer: no layoffs).

Accuracy
--------
Means are exact in expectation: the Monte Carlo mean converges to ``expected_projection`` while
the reserve does not run short (tests/risk/test_projection.py checks it within 4 standard errors)
and agrees with the per-loan ``reference_simulation``; the same tests measure the spread (standard
deviations of total claims and of the final available) against the reference.

Cost
----
One binomial per unit and path, plus per-charge-off work in small units and a multinomial per big
unit. Units are bounded by classes (5 buckets x (horizon + 6) terms) plus the groups of the few
employers in a layoff, so beyond some thousands of loans the cost grows far slower than the book.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from risk.projection.inputs import Assumptions, Portfolio, Reserve
from risk.projection.model import (
    CHARGE_OFF_LAG,
    Book,
    ClaimFlows,
    Pipeline,
    Regimes,
    check_work,
    claim_flows,
    group_loans,
    layoff_start,
    matrices,
    outcome_probabilities,
    pipeline,
    regimes,
    settle_month,
)
from risk.projection.results import PathRecord, SimulationResult, summarise
from risk.rollrate import FloatArray, IntArray, ProjectionError, TransitionEstimate

BoolArray = npt.NDArray[np.bool_]
Progress = Callable[[float], object]

#: Paths simulated together, each block with its own random stream (spawned from the seed), so the
#: figures do not depend on how the work is split and two scenarios draw the same numbers.
BLOCK_PATHS = 256
#: A unit with at most this many charge-offs in a path gets them one by one (exact); above, by
#: month with the unit's mean amounts (see the module docstring).
EXACT_EVENTS = 24
#: Resolution of the guide table that starts the search for a charge-off's month.
_GUIDE = 64
#: Cells of outcome probabilities computed at once (bounds the memory of that step).
_CHUNK_CELLS = 4_000_000
#: Number of flows carried per charge-off: loss, from commitment, from available, release.
_FLOWS = 4


def _flow_stack(flows: ClaimFlows) -> FloatArray:
    return np.stack([flows.loss, flows.from_commitment, flows.from_available, flows.release])


@dataclass(frozen=True)
class _Context:
    """Everything a block needs, computed once per simulation."""

    book: Book
    horizon: int
    n_classes: int
    book_classes: IntArray  # (Qb,) classes that have loans in the book
    size_eq: IntArray  # (E, Qb) loans per employer and class
    group_eq: IntArray  # (E, Qb) group index, -1 when empty
    commit_eq: FloatArray  # (E, Qb) commitments per employer and class
    flow_eq: FloatArray  # (4, E, Qb, H) per-loan flows summed, charge-off in month m
    employer_groups: IntArray  # (E + 1,) groups of employer e: employer_groups[e]:employer_groups[e+1]
    closed: BoolArray  # (E,) employer under a closure pattern (never quiet)
    history_of: IntArray  # (P, E)
    draw_of: IntArray  # (P,)
    quiet_history: IntArray  # (K,) history of an employer with no layoff, no closure
    co_total: FloatArray  # (R,) probability of a charge-off within the horizon, R = C x Q rows
    cdf: FloatArray  # (R * H,) CDF of the month of the charge-off given one
    guide: npt.NDArray[np.uint8]  # (R * _GUIDE,) lower bound of the CDF search
    payoff: npt.NDArray[np.float32]  # (R, H) payoff probability given no charge-off
    payoff_release: FloatArray  # (C, E, H) expected payoff releases if none charged off
    quiet_payoff: FloatArray  # (K, Qb, H) payoff probabilities of the quiet history's classes
    pipeline_co: FloatArray  # (K, H) pipeline loan's charge-off probability by age
    pipeline_po: FloatArray  # (K, H)
    new: Pipeline
    reserve: Reserve
    assumptions: Assumptions


def _seed(assumptions: Assumptions) -> int:
    if assumptions.seed is not None:
        return assumptions.seed
    return int(np.random.default_rng().integers(2**63))


def _probability_tables(
    book: Book, normal: FloatArray, stressed: FloatArray, history_draw: IntArray, windows: BoolArray
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.uint8], npt.NDArray[np.float32], FloatArray]:
    c, h = windows.shape
    q = book.class_state.shape[0]
    total = np.empty((c, q))
    cdf = np.empty((c, q, h))
    payoff = np.empty((c, q, h), dtype=np.float32)
    step = max(1, _CHUNK_CELLS // max(q * h, 1))
    for lo in range(0, c, step):
        hi = min(c, lo + step)
        co, po = outcome_probabilities(
            normal, stressed, history_draw[lo:hi], windows[lo:hi], book.class_state, book.class_term
        )
        tot = np.clip(co.sum(axis=2), 0.0, 1.0)
        total[lo:hi] = tot
        np.cumsum(co, axis=2, out=co)
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf[lo:hi] = np.where(tot[..., None] > 0, co / tot[..., None], 1.0)
            payoff[lo:hi] = np.where(tot[..., None] < 1, po / (1 - tot[..., None]), 0.0)
    cdf[..., -1] = 1.0
    np.minimum(cdf, 1.0, out=cdf)
    # Guide: for u in [i/G, (i+1)/G), the months whose CDF is below i/G certainly lie before u's.
    bucket = np.minimum(np.floor(cdf * _GUIDE), _GUIDE).astype(np.int64).reshape(c * q, h)
    rows = np.arange(c * q)[:, None] * (_GUIDE + 1)
    hist = np.bincount((rows + bucket).ravel(), minlength=c * q * (_GUIDE + 1)).reshape(c * q, _GUIDE + 1)
    guide = np.zeros((c * q, _GUIDE), dtype=np.uint8)
    guide[:, 1:] = np.cumsum(hist, axis=1)[:, : _GUIDE - 1]
    release = np.zeros((c, book.n_employers, h))
    for e in range(book.n_employers):
        mine = np.flatnonzero(book.group_employer == e)
        if mine.size:
            release[:, e, :] = np.einsum(
                "g,cgh->ch",
                book.group_commitment[mine],
                payoff[:, book.group_class[mine], :],
                dtype=np.float64,
            )
    return total.ravel(), cdf.ravel(), guide.ravel(), payoff.reshape(c * q, h), release


def _context(
    portfolio: Portfolio,
    reserve: Reserve,
    transitions: TransitionEstimate,
    assumptions: Assumptions,
    book: Book,
    reg: Regimes,
    seed: int,
) -> tuple[_Context, int]:
    h = assumptions.horizon_months
    p = assumptions.paths
    e_count = book.n_employers
    param_seq, layoff_seq, _ = np.random.SeedSequence(seed).spawn(3)
    n_draws = assumptions.parameter_draws if transitions.has_uncertainty else 0
    k = max(n_draws, 1)
    draws = transitions.sample(np.random.default_rng(param_seq), k) if n_draws else None
    normal, stressed = matrices(transitions, assumptions, draws)

    # Regime history of every (path, employer) = (draw, closure pattern, layoff start), deduplicated;
    # the quiet history (no layoff, no closure) of every draw is always present.
    uniforms = np.random.default_rng(layoff_seq).random((p, e_count))
    start = layoff_start(uniforms, reg.employer_q[None, :], h)
    draw_of = np.arange(p, dtype=np.int64) % k
    n_patterns = reg.pattern_window.shape[0]
    per_draw = n_patterns * reg.n_histories
    key = (draw_of[:, None] * n_patterns + reg.employer_pattern[None, :]) * reg.n_histories + (start - 1)
    quiet_key = np.arange(k) * per_draw + h
    unique, inverse = np.unique(np.concatenate((key.ravel(), quiet_key)), return_inverse=True)
    history_of = inverse[: p * e_count].reshape(p, e_count)
    windows = reg.windows((unique // reg.n_histories) % n_patterns, unique % reg.n_histories + 1)
    co_total, cdf, guide, payoff, release = _probability_tables(
        book, normal, stressed, unique // per_draw, windows
    )
    pipe_co, pipe_po = outcome_probabilities(
        normal,
        stressed,
        np.arange(k),
        np.zeros((k, h), dtype=bool),
        book.class_state[[book.pipeline_class]],
        book.class_term[[book.pipeline_class]],
    )

    # Per (employer, class) sizes, commitments and charge-off flows by month.
    book_classes = np.unique(book.group_class)
    local = np.full(book.class_state.shape[0], -1, dtype=np.int64)
    local[book_classes] = np.arange(book_classes.shape[0])
    qb = book_classes.shape[0]
    group_q = local[book.group_class]
    size_eq = np.zeros((e_count, qb), dtype=np.int64)
    size_eq[book.group_employer, group_q] = book.group_size
    group_eq = np.full((e_count, qb), -1, dtype=np.int64)
    group_eq[book.group_employer, group_q] = np.arange(book.n_groups)
    commit_eq = np.zeros((e_count, qb))
    commit_eq[book.group_employer, group_q] = book.group_commitment
    months = np.arange(1, h + 1)
    state = book.class_state[book.group_class[book.loan_group]]
    position = np.maximum(months[None, :] + state[:, None] - CHARGE_OFF_LAG, 0)
    balance = np.take_along_axis(book.balances, position, axis=1)
    flows = _flow_stack(
        claim_flows(balance, book.commitment[:, None], reserve.policy, assumptions.recovery_rate)
    )  # (4, n, H)
    flow_eq = np.zeros((_FLOWS, e_count, qb, h))
    if book.n_groups:
        sorted_flows = flows[:, book.order, :]
        flow_eq[:, book.group_employer, group_q, :] = np.add.reduceat(sorted_flows, book.group_start, axis=1)
    context = _Context(
        book=book,
        horizon=h,
        n_classes=book.class_state.shape[0],
        book_classes=book_classes,
        size_eq=size_eq,
        group_eq=group_eq,
        commit_eq=commit_eq,
        flow_eq=flow_eq,
        employer_groups=np.searchsorted(book.group_employer, np.arange(e_count + 1)).astype(np.int64),
        closed=reg.employer_pattern != 0,
        history_of=history_of,
        draw_of=draw_of,
        quiet_history=inverse[p * e_count :],
        co_total=co_total,
        cdf=cdf,
        guide=guide,
        payoff=payoff,
        payoff_release=release,
        quiet_payoff=payoff[
            (inverse[p * e_count :][:, None] * book.class_state.shape[0] + book_classes[None, :]).ravel()
        ]
        .reshape(k, book_classes.shape[0], h)
        .astype(np.float64),
        pipeline_co=pipe_co[:, 0, :],
        pipeline_po=pipe_po[:, 0, :],
        new=pipeline(assumptions, reserve.policy),
        reserve=reserve,
        assumptions=assumptions,
    )
    return context, n_draws


def _draw_months(ctx: _Context, rows: IntArray, u: FloatArray) -> IntArray:
    """Month index (0-based) of each charge-off: the first month whose CDF exceeds its uniform."""
    h = ctx.horizon
    position = ctx.guide[rows * _GUIDE + (u * _GUIDE).astype(np.int64)].astype(np.int64)
    base = rows * h
    active = np.arange(u.shape[0])
    while active.size:
        behind = ctx.cdf[base[active] + position[active]] <= u[active]
        active = active[behind]
        position[active] += 1
    return position


@dataclass
class _BlockFlows:
    """Per path (rows) and month (columns), float cents: the reserve's inputs for one block."""

    charge_offs: FloatArray
    flows: FloatArray  # (4, B, H): loss, from commitment, pool demand, release after claim
    payoff_releases: FloatArray

    def add(self, path: IntArray, month: IntArray, count: FloatArray | None, amounts: FloatArray) -> None:
        """Add charge-offs (``count`` each, or 1) with their ``amounts`` (4, n) at (path, month)."""
        b, h = self.charge_offs.shape
        flat = path * h + month
        self.charge_offs += np.bincount(flat, weights=count, minlength=b * h).reshape(b, h)
        for f in range(_FLOWS):
            self.flows[f] += np.bincount(flat, weights=amounts[f], minlength=b * h).reshape(b, h)


def _book_charge_offs(ctx: _Context, rng: np.random.Generator, paths: IntArray, out: _BlockFlows) -> None:
    book = ctx.book
    h = ctx.horizon
    b = paths.shape[0]
    qb = ctx.book_classes.shape[0]
    histories = ctx.history_of[paths]  # (B, E)
    quiet_history = ctx.quiet_history[ctx.draw_of[paths]]  # (B,)
    quiet = (histories == quiet_history[:, None]) & ~ctx.closed[None, :]

    # Units: per path, one per class for the quiet employers' loans, one per group of the others.
    quiet_size = quiet.astype(np.int64) @ ctx.size_eq  # (B, Qb)
    loud_path, loud_employer = np.nonzero(~quiet)
    first = ctx.employer_groups[loud_employer]
    per_pair = ctx.employer_groups[loud_employer + 1] - first
    pair_of_unit = np.repeat(np.arange(loud_path.shape[0]), per_pair)
    loud_group = (
        first[pair_of_unit]
        + np.arange(pair_of_unit.shape[0])
        - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    )
    loud_unit_path = loud_path[pair_of_unit]
    n_quiet_units = b * qb
    unit_path = np.concatenate((np.repeat(np.arange(b), qb), loud_unit_path))
    unit_class = np.concatenate((np.tile(ctx.book_classes, b), book.group_class[loud_group]))
    unit_history = np.concatenate(
        (np.repeat(quiet_history, qb), histories[loud_path, loud_employer][pair_of_unit])
    )
    unit_row = unit_history * ctx.n_classes + unit_class
    unit_size = np.concatenate((quiet_size.ravel(), book.group_size[loud_group]))
    count = rng.binomial(unit_size, ctx.co_total[unit_row])
    charged_commitment = np.zeros(unit_size.shape[0])
    is_quiet = np.arange(unit_size.shape[0]) < n_quiet_units

    # Small units: each charge-off with its month and a loan of the unit picked at random.
    small = np.flatnonzero((count > 0) & (count <= EXACT_EVENTS))
    unit = np.repeat(small, count[small])
    if unit.size:
        rows = unit_row[unit]
        month = _draw_months(ctx, rows, rng.random(unit.shape[0]))
        pick = np.floor(rng.random(unit.shape[0]) * unit_size[unit]).astype(np.int64)
        group = np.empty(unit.shape[0], dtype=np.int64)
        offset = pick.copy()
        in_quiet = is_quiet[unit]
        if in_quiet.any():
            quiet_unit = unit[in_quiet]
            # bounds[p, q, e]: quiet loans of class q at employers before e (the j-th quiet loan of
            # the class is in the first employer whose bound passes j).
            bounds = np.zeros((b, qb, quiet.shape[1] + 1), dtype=np.int64)
            np.cumsum(quiet[:, None, :] * ctx.size_eq.T[None, :, :], axis=2, out=bounds[:, :, 1:])
            path_q, class_q = np.divmod(quiet_unit, qb)
            rows_q = bounds[path_q, class_q]  # (n, E + 1)
            employer = np.count_nonzero(rows_q[:, 1:] <= pick[in_quiet, None], axis=1)
            offset[in_quiet] = pick[in_quiet] - rows_q[np.arange(employer.shape[0]), employer]
            group[in_quiet] = ctx.group_eq[employer, class_q]
        group[~in_quiet] = loud_group[unit[~in_quiet] - n_quiet_units]
        loan = book.order[book.group_start[group] + offset]
        position = np.maximum(month + 1 + book.class_state[book.group_class[group]] - CHARGE_OFF_LAG, 0)
        commitment = book.commitment[loan].astype(np.float64)
        flows = claim_flows(
            book.balances[loan, position], commitment, ctx.reserve.policy, ctx.assumptions.recovery_rate
        )
        out.add(unit_path[unit], month, None, _flow_stack(flows))
        charged_commitment += np.bincount(unit, weights=commitment, minlength=unit_size.shape[0])

    # Big units: months by one multinomial, amounts at the unit's mean for the month.
    big = np.flatnonzero(count > EXACT_EVENTS)
    if big.size:
        rows = unit_row[big]
        cdf = ctx.cdf[(rows * h)[:, None] + np.arange(h)[None, :]]
        pvals = np.diff(cdf, axis=1, prepend=0.0)
        by_month = rng.multinomial(count[big], pvals).astype(np.float64)  # (L, H)
        sums, commit = _unit_sums(ctx, big, is_quiet, quiet, unit_path, unit_class, loud_group, n_quiet_units)
        mean = sums / unit_size[big][None, :, None]  # (4, L, H)
        path_big = np.repeat(unit_path[big], h)
        month_big = np.tile(np.arange(h), big.shape[0])
        out.add(path_big, month_big, by_month.ravel(), (mean * by_month[None]).reshape(_FLOWS, -1))
        charged_commitment[big] = count[big] * commit / unit_size[big]

    # Payoff releases: expected, given the charge-offs (all loans' less the charged-off loans').
    out.payoff_releases += ctx.payoff_release[histories, np.arange(histories.shape[1])[None, :], :].sum(
        axis=1
    )
    draws = ctx.draw_of[paths]
    charged_quiet = charged_commitment[:n_quiet_units].reshape(b, qb)
    for k in np.unique(draws):
        mine = np.flatnonzero(draws == k)
        out.payoff_releases[mine] -= charged_quiet[mine] @ ctx.quiet_payoff[k]
    hit = n_quiet_units + np.flatnonzero(charged_commitment[n_quiet_units:] > 0)
    if hit.size:
        correction = ctx.payoff[unit_row[hit]] * charged_commitment[hit, None]
        flat = (unit_path[hit][:, None] * h + np.arange(h)[None, :]).ravel()
        out.payoff_releases -= np.bincount(flat, weights=correction.ravel(), minlength=b * h).reshape(b, h)


def _unit_sums(
    ctx: _Context,
    big: IntArray,
    is_quiet: BoolArray,
    quiet: BoolArray,
    unit_path: IntArray,
    unit_class: IntArray,
    loud_group: IntArray,
    n_quiet_units: int,
) -> tuple[FloatArray, FloatArray]:
    """Flows (4, L, H) and commitments (L,) summed over the loans of each big unit."""
    qb = ctx.book_classes.shape[0]
    book = ctx.book
    sums = np.empty((_FLOWS, big.shape[0], ctx.horizon))
    commit = np.empty(big.shape[0])
    quiet_big = is_quiet[big]
    if quiet_big.any():
        # Sums over the quiet employers' loans, for each distinct set of quiet employers.
        path, klass = np.divmod(big[quiet_big], qb)
        codes = np.packbits(quiet, axis=1)
        masks, which = np.unique(codes.view(np.dtype((np.void, codes.shape[1]))).ravel(), return_inverse=True)
        first = np.zeros(masks.shape[0], dtype=np.int64)
        first[which] = np.arange(which.shape[0])
        weights = quiet[first].astype(np.float64)  # (U, E): each distinct set of quiet employers
        flows = (weights @ ctx.flow_eq.transpose(1, 0, 2, 3).reshape(weights.shape[1], -1)).reshape(
            weights.shape[0], _FLOWS, qb, ctx.horizon
        )
        sums[:, quiet_big, :] = flows[which[path], :, klass, :].transpose(1, 0, 2)
        commit[quiet_big] = (weights @ ctx.commit_eq)[which[path], klass]
    if (~quiet_big).any():
        group = loud_group[big[~quiet_big] - n_quiet_units]
        employer = book.group_employer[group]
        klass = np.searchsorted(ctx.book_classes, book.group_class[group])
        sums[:, ~quiet_big, :] = ctx.flow_eq[:, employer, klass, :]
        commit[~quiet_big] = ctx.commit_eq[employer, klass]
    return sums, commit


def _book_pipeline(
    ctx: _Context, rng: np.random.Generator, booked: IntArray, draws: IntArray, j: int, out: _BlockFlows
) -> None:
    """Charge-offs (drawn) and payoffs (expected) of the loans booked at the end of month ``j``."""
    h = ctx.horizon
    window = h - 1 - j
    cdf = np.cumsum(ctx.pipeline_co[:, :window], axis=1)  # (K, window)
    within = cdf[draws, -1]
    count = rng.binomial(booked, within)
    path = np.repeat(np.arange(booked.shape[0]), count)
    if path.size:
        u = rng.random(path.shape[0]) * within[path]
        age = np.minimum((cdf[draws[path]] <= u[:, None]).sum(axis=1), window - 1)
        out.add(path, j + 1 + age, None, _flow_stack(ctx.new.flows)[:, age])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(within < 1, (booked - count) / (1 - within), 0.0)
    out.payoff_releases[:, j + 1 : j + 1 + window] += (
        share[:, None] * ctx.pipeline_po[draws, :window] * ctx.new.commitment
    )


def _simulate_block(ctx: _Context, rng: np.random.Generator, paths: IntArray, record: PathRecord) -> None:
    h = ctx.horizon
    b = paths.shape[0]
    out = _BlockFlows(np.zeros((b, h)), np.zeros((_FLOWS, b, h)), np.zeros((b, h)))
    _book_charge_offs(ctx, rng, paths, out)
    loss, from_commitment, pool_demand, claim_release = out.flows

    new = ctx.new
    available = np.full(b, float(ctx.reserve.available_cents))
    committed = np.full(b, float(ctx.book.commitment.sum()))
    cumulative = np.zeros(b)
    draws = ctx.draw_of[paths]
    deposit = float(ctx.assumptions.grant_deposits_cents)
    for j in range(h):
        available, committed, paid, short = settle_month(
            available,
            committed,
            deposit=deposit,
            releases=claim_release[:, j] + out.payoff_releases[:, j],
            from_commitment=from_commitment[:, j],
            pool_demand=pool_demand[:, j],
        )
        cumulative = cumulative + from_commitment[:, j] + paid
        exhausted = short > 0.5
        if new.per_month:
            wanted = float(new.per_month)
            if new.commitment > 0:
                booked = np.minimum(wanted, np.floor(available / new.commitment))
            else:
                booked = np.full(b, wanted)
            available = available - booked * new.commitment
            committed = committed + booked * new.commitment
            exhausted |= booked < wanted
            record.new_loans[j] += booked.sum()
            if j < h - 1:
                _book_pipeline(ctx, rng, booked.astype(np.int64), draws, j, out)
        record.available[paths, j] = available
        record.committed[paths, j] = committed
        record.cumulative_claims[paths, j] = cumulative
        record.exhausted[paths, j] = exhausted
    record.charge_offs += out.charge_offs.sum(axis=0)
    record.loss += loss.sum(axis=0)


def simulate(
    portfolio: Portfolio,
    reserve: Reserve,
    transitions: TransitionEstimate,
    assumptions: Assumptions,
    progress: Progress | None = None,
) -> SimulationResult:
    """Monte Carlo projection of the reserve (the method is in the module docstring).

    Parameters
    ----------
    portfolio, reserve, transitions, assumptions
        The book, the reserve with its claim policy, the estimated transition matrix (its posterior
        supplies the parameter draws) and the assumptions (paths, horizon, seed, layoffs, pipeline).
    progress
        Called with the fraction done (0 < x <= 1) after each block of paths, e.g. for a CLI bar.

    Returns
    -------
    SimulationResult
        Percentile bands by month, exhaustion probabilities, the distribution of total claims and
        the mean path. The same inputs and seed give identical figures.

    Raises
    ------
    ProjectionError
        When the request is too large (``paths x groups x months`` above ``max_work``) or does not
        fit the portfolio; checked before any work is done.
    """
    if progress is not None and not callable(progress):
        raise ProjectionError("progress", "must be a function of the fraction done, or None")
    assumptions.check_against(portfolio)
    book = group_loans(portfolio, assumptions)
    check_work(assumptions, book.n_groups)
    reg = regimes(portfolio, assumptions)
    seed = _seed(assumptions)
    ctx, n_draws = _context(portfolio, reserve, transitions, assumptions, book, reg, seed)
    p = assumptions.paths
    h = assumptions.horizon_months
    record = PathRecord(
        available=np.zeros((p, h)),
        committed=np.zeros((p, h)),
        cumulative_claims=np.zeros((p, h)),
        exhausted=np.zeros((p, h), dtype=bool),
        charge_offs=np.zeros(h),
        loss=np.zeros(h),
        new_loans=np.zeros(h),
    )
    n_blocks = -(-p // BLOCK_PATHS)
    path_seq = np.random.SeedSequence(seed).spawn(3)[2]
    for index, block_seq in enumerate(path_seq.spawn(n_blocks)):
        paths = np.arange(index * BLOCK_PATHS, min(p, (index + 1) * BLOCK_PATHS), dtype=np.int64)
        _simulate_block(ctx, np.random.default_rng(block_seq), paths, record)
        if progress is not None:
            progress((index + 1) / n_blocks)
    return summarise(record, seed=seed, parameter_draws=n_draws)
