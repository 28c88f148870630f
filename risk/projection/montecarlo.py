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
   ``EXACT_EVENTS`` of them each charge-off gets its month from the conditional distribution and a
   loan of the unit picked at random, whose own schedule gives the balance and the claim: exact in
   distribution but for the pick being with replacement (two charge-offs of a unit may carry the
   same loan's balance). In a bigger unit the months are one multinomial draw and each month's
   charge-offs carry the unit's mean flows for that month (balance, loss, claim parts, release):
   exact in expectation, leaving out only the dispersion of balances within the unit, which is
   small beside that of the count once dozens of loans charge off.
5. *Payoffs.* Given the charge-offs, each other loan of a unit pays off (prepaid or matured) with
   known probabilities. For books of at most ``Assumptions.draw_payoffs_up_to`` loans (default
   5,000) they are drawn the same way (count, month, which loan's commitment is released). For
   bigger books the releases enter at their conditional expectation (a Rao-Blackwell step): the
   same means, and the dependence on charge-offs kept, but no payoff-timing noise.
6. *The reserve* runs month by month over all paths at once (``model.settle_month``): deposits and
   releases arrive, claims are paid, then the pipeline books new loans as far as available covers
   their commitment; their charge-offs and payoffs are drawn the same way (pipeline loans belong
   to no employer: no layoffs).

Accuracy (measured)
-------------------
Against ``reference_simulation``, which follows every loan month by month, on the 30-loan book of
tests/risk/test_projection.py with a reserve that runs short in two paths out of three
(reference 2,500 paths, this 20,000):

=====================  ===============  ==========  ==============  =========  ============
method                 claims mean      claims sd   available mean  avail. sd  P(exhausted)
=====================  ===============  ==========  ==============  =========  ============
reference              $23,481 +- 156   $7,823      $5,071          $4,974     0.673
this (as used)         $23,362 +- 55    $7,835      $5,042          $4,855     0.664
unit means everywhere  $23,463          $7,776      $4,987          $4,857     0.666
expected payoffs       $23,554          $7,770      $4,137          $4,116     0.574
=====================  ===============  ==========  ==============  =========  ============

so the method as used agrees with the reference within its standard errors, and unit means even
for single charge-offs cost under 1% of the spread. Expected payoffs are another matter on so
small a book: payoff noise is a large part of a tight reserve's, and leaving it out shifts the
path's mean available (the reserve's limits make it non-linear) and P(exhausted) by 10 points.
That is why small books draw their payoffs. On the benchmark book of 10,000 loans (the
default above 5,000) expected payoffs change the standard deviation of available by 0.4% and
leave P(exhausted) unchanged where the reserve is not on the edge; in the tightest case tried
(available starting near zero, so month 1's releases decide whether the pipeline can be
committed) P(exhausted) was 0.685 against 0.723 with drawn payoffs (0.902 against 0.862 at 3,000
loans). Staff who need that edge exact can raise ``draw_payoffs_up_to`` (about 9 s instead of
2.5 s of CPU for 10,000 loans).

Means converge to ``expected_projection`` while the reserve does not run short (tested within 4
standard errors).

Cost
----
One binomial per unit and path, per-event work in small units, a multinomial per big unit.
Units are bounded by classes (5 buckets x (horizon + 6) terms) plus the groups of the few
employers in a layoff, so the cost grows far slower than the book (bench/projection.py).
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
#: Rounds of rejection sampling before a quiet loan is placed exactly (see ``_pick_quiet``).
_REJECTION_ROUNDS = 12
#: Resolution of the guide table that starts the search for a charge-off's month.
_GUIDE = 32
#: Cells of outcome probabilities computed at once (bounds the memory of that step).
_CHUNK_CELLS = 4_000_000
#: Number of flows carried per charge-off: loss, from commitment, from available, release.
_FLOWS = 4
#: Loans whose charge-off flows are computed at once (bounds the memory of that step).
_CHUNK_LOANS = 65_536


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
    class_members: IntArray  # (n,) loans sorted by class
    class_employer: IntArray  # (n,) their employers
    class_start: IntArray  # (Qb,)
    class_size: IntArray  # (Qb,)
    commit_eq: FloatArray  # (E, Qb) commitments per employer and class
    flow_eq: FloatArray  # (4, E, Qb, H) per-loan flows summed, charge-off in month m
    employer_groups: IntArray  # (E + 1,) groups of employer e: employer_groups[e]:employer_groups[e+1]
    closed: BoolArray  # (E,) employer under a closure pattern (never quiet)
    history_of: IntArray  # (P, E)
    draw_of: IntArray  # (P,)
    quiet_history: IntArray  # (K,) history of an employer with no layoff, no closure
    tables: _Tables  # rows R = regime histories x classes
    quiet_payoff: FloatArray | None  # (K, Qb, H) payoff | no charge-off, quiet history (expected mode)
    pipeline_co: FloatArray  # (K, H) pipeline loan's charge-off probability by age
    pipeline_po: FloatArray  # (K, H)
    new: Pipeline
    new_flows: FloatArray  # (4, H) the pipeline loan's charge-off flows by age
    reserve: Reserve
    assumptions: Assumptions


def _seed(assumptions: Assumptions) -> int:
    if assumptions.seed is not None:
        return assumptions.seed
    return int(np.random.default_rng().integers(2**63))


@dataclass(frozen=True)
class _MonthTable:
    """When an event happens, per row (regime history x class): its probability within the horizon
    and the CDF of its month given that it happens, with a guide table to start the search."""

    total: FloatArray  # (R,)
    cdf: FloatArray  # (R * H,)
    guide: npt.NDArray[np.uint8]  # (R * _GUIDE,)

    @classmethod
    def build(cls, total: FloatArray, running: FloatArray) -> _MonthTable:
        """From the within-horizon probability (R,) and the running sum of monthly ones (R, H)."""
        rows, h = running.shape
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf = np.where(running[:, -1:] > 0, running / running[:, -1:], 1.0)
        cdf[:, -1] = 1.0
        np.minimum(cdf, 1.0, out=cdf)
        # For u in [i/G, (i+1)/G), the months whose CDF is below i/G certainly lie before u's.
        bucket = np.minimum(np.floor(cdf * _GUIDE), _GUIDE).astype(np.int64)
        offsets = np.arange(rows)[:, None] * (_GUIDE + 1)
        counts = np.bincount((offsets + bucket).ravel(), minlength=rows * (_GUIDE + 1)).astype(np.uint8)
        guide = np.zeros((rows, _GUIDE), dtype=np.uint8)
        guide[:, 1:] = np.cumsum(counts.reshape(rows, _GUIDE + 1), axis=1, dtype=np.uint8)[:, : _GUIDE - 1]
        return cls(np.clip(total, 0.0, 1.0), cdf.ravel(), guide.ravel())

    def months(self, rows: IntArray, u: FloatArray) -> IntArray:
        """Month index (0-based) of each event: the first month whose CDF exceeds its uniform."""
        # ``take`` on flat arrays: several times faster than fancy indexing for these gathers.
        h = self.cdf.shape[0] // max(self.total.shape[0], 1)
        base = rows * h
        index = base + self.guide.take(rows * _GUIDE + (u * _GUIDE).astype(np.int64))
        active = np.flatnonzero(self.cdf.take(index) <= u)
        while active.size:
            index[active] += 1
            active = active[self.cdf.take(index.take(active)) <= u.take(active)]
        return np.asarray(index - base, dtype=np.int64)


@dataclass(frozen=True)
class _Tables:
    charge_off: _MonthTable
    payoff: _MonthTable | None  # exact payoffs: given no charge-off, when the loan pays off
    payoff_given_no_charge_off: npt.NDArray[np.float32] | None  # (R, H), expected payoffs mode
    payoff_release: FloatArray | None  # (C, E, H), expected payoffs mode


def _probability_tables(
    book: Book,
    normal: FloatArray,
    stressed: FloatArray,
    history_draw: IntArray,
    windows: BoolArray,
    exact_payoffs: bool,
) -> _Tables:
    c, h = windows.shape
    q = book.class_state.shape[0]
    co_total = np.empty((c, q))
    co_running = np.empty((c, q, h))
    po_total = np.empty((c, q))
    po_running = np.empty((c, q, h)) if exact_payoffs else None
    payoff = None if exact_payoffs else np.empty((c, q, h), dtype=np.float32)
    step = max(1, _CHUNK_CELLS // max(q * h, 1))
    for lo in range(0, c, step):
        hi = min(c, lo + step)
        co, po = outcome_probabilities(
            normal, stressed, history_draw[lo:hi], windows[lo:hi], book.class_state, book.class_term
        )
        tot = np.clip(co.sum(axis=2), 0.0, 1.0)
        co_total[lo:hi] = tot
        np.cumsum(co, axis=2, out=co_running[lo:hi])
        with np.errstate(invalid="ignore", divide="ignore"):
            given = np.where(tot[..., None] < 1, po / (1 - tot[..., None]), 0.0)  # payoff | no charge-off
        po_total[lo:hi] = given.sum(axis=2)
        if po_running is not None:
            np.cumsum(given, axis=2, out=po_running[lo:hi])
        if payoff is not None:
            payoff[lo:hi] = given
    release = None
    if payoff is not None:
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
    return _Tables(
        charge_off=_MonthTable.build(co_total.ravel(), co_running.reshape(c * q, h)),
        payoff=None
        if po_running is None
        else _MonthTable.build(po_total.ravel(), po_running.reshape(c * q, h)),
        payoff_given_no_charge_off=None if payoff is None else payoff.reshape(c * q, h),
        payoff_release=release,
    )


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
    exact_payoffs = portfolio.n_loans <= assumptions.draw_payoffs_up_to
    tables = _probability_tables(book, normal, stressed, unique // per_draw, windows, exact_payoffs)
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
    loan_class = local[book.group_class[book.loan_group]]
    class_members = np.argsort(loan_class, kind="stable").astype(np.int64)
    class_size = np.bincount(loan_class, minlength=qb).astype(np.int64)
    commit_eq = np.zeros((e_count, qb))
    commit_eq[book.group_employer, group_q] = book.group_commitment
    flow_eq = np.zeros((_FLOWS, e_count, qb, h))
    if book.n_groups:
        flow_eq[:, book.group_employer, group_q, :] = _group_flows(book, reserve, assumptions)
    new = pipeline(assumptions, reserve.policy)
    context = _Context(
        book=book,
        horizon=h,
        n_classes=book.class_state.shape[0],
        book_classes=book_classes,
        size_eq=size_eq,
        group_eq=group_eq,
        class_members=class_members,
        class_employer=portfolio.employer[class_members],
        class_start=np.concatenate(([0], np.cumsum(class_size)[:-1])).astype(np.int64),
        class_size=class_size,
        commit_eq=commit_eq,
        flow_eq=flow_eq,
        employer_groups=np.searchsorted(book.group_employer, np.arange(e_count + 1)).astype(np.int64),
        closed=reg.employer_pattern != 0,
        history_of=history_of,
        draw_of=draw_of,
        quiet_history=inverse[p * e_count :],
        tables=tables,
        quiet_payoff=None
        if tables.payoff_given_no_charge_off is None
        else tables.payoff_given_no_charge_off[
            (inverse[p * e_count :][:, None] * book.class_state.shape[0] + book_classes[None, :]).ravel()
        ]
        .reshape(k, book_classes.shape[0], h)
        .astype(np.float64),
        pipeline_co=pipe_co[:, 0, :],
        pipeline_po=pipe_po[:, 0, :],
        new=new,
        new_flows=_flow_stack(new.flows),
        reserve=reserve,
        assumptions=assumptions,
    )
    return context, n_draws


def _group_flows(book: Book, reserve: Reserve, assumptions: Assumptions) -> FloatArray:
    """Charge-off flows (4, G, H) summed over each group's loans, for a charge-off in each month.

    Per loan (the claim rules are not linear in the balance), a slice of :data:`_CHUNK_LOANS` loans
    at a time in group order, so the memory stays bounded whatever the size of the book.
    """
    h = book.horizon
    months = np.arange(1, h + 1)
    out = np.zeros((_FLOWS, book.n_groups, h))
    group_of = np.repeat(np.arange(book.n_groups), book.group_size)  # of each loan, in group order
    for lo in range(0, book.order.shape[0], _CHUNK_LOANS):
        loans = book.order[lo : lo + _CHUNK_LOANS]
        groups = group_of[lo : lo + _CHUNK_LOANS]
        state = book.class_state.take(book.group_class.take(groups))
        position = np.maximum(months[None, :] + state[:, None] - CHARGE_OFF_LAG, 0)
        balance = np.take_along_axis(book.balances[loans], position, axis=1)
        flows = claim_flows(
            balance, book.commitment[loans][:, None], reserve.policy, assumptions.recovery_rate
        )
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        for f, values in enumerate((flows.loss, flows.from_commitment, flows.from_available, flows.release)):
            out[f, groups[starts], :] += np.add.reduceat(values, starts, axis=0)
    return out


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
    """Charge-offs and payoffs of the book's loans for a block of paths."""
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
    units = _Units(
        n_quiet=b * qb,
        path=np.concatenate((np.repeat(np.arange(b), qb), loud_path[pair_of_unit])),
        klass=np.concatenate((np.tile(ctx.book_classes, b), book.group_class[loud_group])),
        row=np.concatenate((np.repeat(quiet_history, qb), histories[loud_path, loud_employer][pair_of_unit]))
        * ctx.n_classes
        + np.concatenate((np.tile(ctx.book_classes, b), book.group_class[loud_group])),
        size=np.concatenate((quiet_size.ravel(), book.group_size[loud_group])),
        loud_group=loud_group,
        quiet=quiet,
    )
    count = rng.binomial(units.size, ctx.tables.charge_off.total.take(units.row))
    charged_commitment = np.zeros(units.size.shape[0])

    # Small units: each charge-off with its month and a loan of the unit picked at random.
    small = np.flatnonzero((count > 0) & (count <= EXACT_EVENTS))
    unit = np.repeat(small, count[small])
    if unit.size:
        month = ctx.tables.charge_off.months(units.row.take(unit), rng.random(unit.shape[0]))
        loan = _pick(ctx, rng, units, unit)
        position = np.maximum(month + 1 + book.class_state.take(units.klass.take(unit)) - CHARGE_OFF_LAG, 0)
        commitment = book.commitment.take(loan).astype(np.float64)
        flows = claim_flows(
            book.balances.take(loan * h + position),
            commitment,
            ctx.reserve.policy,
            ctx.assumptions.recovery_rate,
        )
        out.add(units.path.take(unit), month, None, _flow_stack(flows))
        charged_commitment += np.bincount(unit, weights=commitment, minlength=units.size.shape[0])

    # Big units: months by one multinomial, amounts at the unit's mean for the month.
    big = np.flatnonzero(count > EXACT_EVENTS)
    if big.size:
        cdf = ctx.tables.charge_off.cdf[(units.row[big] * h)[:, None] + np.arange(h)[None, :]]
        by_month = rng.multinomial(count[big], np.diff(cdf, axis=1, prepend=0.0)).astype(np.float64)
        sums, commit = _unit_sums(ctx, units, big)
        mean = sums / units.size[big][None, :, None]  # (4, L, H)
        out.add(
            np.repeat(units.path[big], h),
            np.tile(np.arange(h), big.shape[0]),
            by_month.ravel(),
            (mean * by_month[None]).reshape(_FLOWS, -1),
        )
        charged_commitment[big] = count[big] * commit / units.size[big]

    if ctx.tables.payoff is not None:
        # Exact payoffs: of the loans not charged off, how many pay off, when, and which.
        paying = rng.binomial(units.size - count, ctx.tables.payoff.total.take(units.row))
        unit = np.repeat(np.arange(units.size.shape[0]), paying)
        if unit.size:
            month = ctx.tables.payoff.months(units.row.take(unit), rng.random(unit.shape[0]))
            loan = _pick(ctx, rng, units, unit)
            flat = units.path.take(unit) * h + month
            released = book.commitment.take(loan).astype(np.float64)
            out.payoff_releases += np.bincount(flat, weights=released, minlength=b * h).reshape(b, h)
        return

    # Expected payoffs, given the charge-offs: all loans' expected releases less the charged-off loans'.
    assert ctx.tables.payoff_release is not None and ctx.tables.payoff_given_no_charge_off is not None
    assert ctx.quiet_payoff is not None
    out.payoff_releases += ctx.tables.payoff_release[
        histories, np.arange(histories.shape[1])[None, :], :
    ].sum(axis=1)
    charged_quiet = charged_commitment[: units.n_quiet].reshape(b, qb)
    draws = ctx.draw_of[paths]
    for k in np.unique(draws):
        # (einsum, not a matrix product: small BLAS calls wake its threads for nothing)
        mine = np.flatnonzero(draws == k)
        out.payoff_releases[mine] -= np.einsum("bq,qh->bh", charged_quiet[mine], ctx.quiet_payoff[k])
    hit = units.n_quiet + np.flatnonzero(charged_commitment[units.n_quiet :] > 0)
    if hit.size:
        rows = np.take(ctx.tables.payoff_given_no_charge_off, units.row.take(hit), axis=0)
        correction = rows * charged_commitment.take(hit)[:, None]
        flat = (units.path.take(hit)[:, None] * h + np.arange(h)[None, :]).ravel()
        out.payoff_releases -= np.bincount(flat, weights=correction.ravel(), minlength=b * h).reshape(b, h)


@dataclass(frozen=True)
class _Units:
    """The units of one block: first ``n_quiet`` (path-major, one per path and book class) pool the
    quiet employers' loans of a class, the rest are the groups of employers in a layoff or closure."""

    n_quiet: int
    path: IntArray
    klass: IntArray
    row: IntArray  # regime history x n_classes + class
    size: IntArray
    loud_group: IntArray  # group of each unit past n_quiet
    quiet: BoolArray  # (B, E)


def _pick(ctx: _Context, rng: np.random.Generator, units: _Units, unit: IntArray) -> IntArray:
    """A loan picked at random (with replacement) in each of the given units."""
    book = ctx.book
    loan = np.empty(unit.shape[0], dtype=np.int64)
    in_quiet = unit < units.n_quiet
    loud = np.flatnonzero(~in_quiet)
    if loud.size:
        group = units.loud_group.take(unit.take(loud) - units.n_quiet)
        pick = (rng.random(loud.shape[0]) * book.group_size.take(group)).astype(np.int64)
        loan[loud] = book.order.take(book.group_start.take(group) + pick)
    quiet = np.flatnonzero(in_quiet)
    if quiet.size:
        path, klass = np.divmod(unit.take(quiet), ctx.book_classes.shape[0])
        loan[quiet] = _pick_quiet(ctx, rng, units.quiet, path, klass)
    return loan


def _pick_quiet(
    ctx: _Context, rng: np.random.Generator, quiet: BoolArray, path: IntArray, klass: IntArray
) -> IntArray:
    """A loan picked at random among the quiet employers' loans of each (path, class).

    Rejection: a loan of the class at any employer, drawn again while its employer is not quiet in
    that path. Draws still rejected after a few rounds (a class held almost only by employers in a
    layoff) are placed exactly by counting the quiet loans employer by employer.
    """
    employers = quiet.shape[1]
    flat_quiet = quiet.ravel()
    start = ctx.class_start.take(klass)
    size = ctx.class_size.take(klass)
    row = path * employers
    at = start + (rng.random(path.shape[0]) * size).astype(np.int64)
    loan = ctx.class_members.take(at)
    todo = np.flatnonzero(~flat_quiet.take(row + ctx.class_employer.take(at)))
    for _ in range(_REJECTION_ROUNDS):
        if not todo.size:
            return loan
        at = start.take(todo) + (rng.random(todo.shape[0]) * size.take(todo)).astype(np.int64)
        loan[todo] = ctx.class_members.take(at)
        todo = todo[~flat_quiet.take(row.take(todo) + ctx.class_employer.take(at))]
    if not todo.size:
        return loan
    quiet_size = quiet[path[todo]] * ctx.size_eq[:, klass[todo]].T  # (n, E)
    bounds = np.cumsum(quiet_size, axis=1)
    pick = np.floor(rng.random(todo.shape[0]) * bounds[:, -1]).astype(np.int64)
    employer = np.count_nonzero(bounds <= pick[:, None], axis=1)
    within = pick - (
        bounds[np.arange(todo.shape[0]), employer] - quiet_size[np.arange(todo.shape[0]), employer]
    )
    group = ctx.group_eq[employer, klass[todo]]
    loan[todo] = ctx.book.order[ctx.book.group_start[group] + within]
    return loan


def _unit_sums(ctx: _Context, units: _Units, big: IntArray) -> tuple[FloatArray, FloatArray]:
    """Flows (4, L, H) and commitments (L,) summed over the loans of each big unit."""
    qb = ctx.book_classes.shape[0]
    book = ctx.book
    sums = np.empty((_FLOWS, big.shape[0], ctx.horizon))
    commit = np.empty(big.shape[0])
    quiet_big = big < units.n_quiet
    if quiet_big.any():
        # Sums over the quiet employers' loans, for each distinct set of quiet employers.
        path, klass = np.divmod(big[quiet_big], qb)
        codes = np.packbits(units.quiet, axis=1)
        masks, which = np.unique(codes.view(np.dtype((np.void, codes.shape[1]))).ravel(), return_inverse=True)
        first = np.zeros(masks.shape[0], dtype=np.int64)
        first[which] = np.arange(which.shape[0])
        weights = units.quiet[first].astype(np.float64)  # (U, E): each distinct set of quiet employers
        needed = np.unique(klass)
        at = np.searchsorted(needed, klass)
        flows = np.einsum("ue,fenh->ufnh", weights, ctx.flow_eq[:, :, needed, :])
        sums[:, quiet_big, :] = flows[which[path], :, at, :].transpose(1, 0, 2)
        commit[quiet_big] = np.einsum("ue,en->un", weights, ctx.commit_eq[:, needed])[which[path], at]
    if (~quiet_big).any():
        group = units.loud_group[big[~quiet_big] - units.n_quiet]
        employer = book.group_employer[group]
        klass = np.searchsorted(ctx.book_classes, book.group_class[group])
        sums[:, ~quiet_big, :] = ctx.flow_eq[:, employer, klass, :]
        commit[~quiet_big] = ctx.commit_eq[employer, klass]
    return sums, commit


def _count_at_most(rows: FloatArray, row: IntArray, u: FloatArray) -> IntArray:
    """For each ``u``: how many entries of ``rows[row]`` (each row nondecreasing, within [0, 2)) are
    at most it. One binary search over all rows laid end to end, each lifted by 4 x its index so the
    whole is nondecreasing: O(log) per draw instead of a pass over the row."""
    n_rows, width = rows.shape
    if row.shape[0] * 8 < n_rows:  # a few draws: comparing their rows is cheaper than laying out all
        return np.asarray(np.count_nonzero(rows[row] <= u[:, None], axis=1), dtype=np.int64)
    lift = 4.0 * np.arange(n_rows, dtype=np.float64)
    flat = (rows + lift[:, None]).ravel()
    found = np.searchsorted(flat, u + lift.take(row), side="right") - row * width
    return np.asarray(found, dtype=np.int64)


def _book_pipeline(
    ctx: _Context,
    rng: np.random.Generator,
    booked: IntArray,
    running_co: FloatArray,
    payoff: FloatArray,
    j: int,
    out: _BlockFlows,
) -> None:
    """Charge-offs and payoffs of the loans booked at the end of month ``j`` (payoffs drawn or
    expected, as for the book). ``running_co`` and ``payoff`` are the pipeline loan's cumulative
    charge-off and monthly payoff probabilities by age, per path (B, H)."""
    h = ctx.horizon
    b = booked.shape[0]
    window = h - 1 - j
    cdf = running_co[:, :window]
    within = cdf[:, -1]
    count = rng.binomial(booked, within)
    # The month's new loans of a path are alike (same flows by age): a few charge-offs get their age
    # one by one, many get them by one multinomial draw, exact in distribution either way, so a big
    # pipeline costs per path and month rather than per loan.
    small = np.flatnonzero((count > 0) & (count <= EXACT_EVENTS))
    path = np.repeat(small, count[small])
    if path.size:
        u = rng.random(path.shape[0]) * within.take(path)
        age = np.minimum(_count_at_most(cdf, path, u), window - 1)
        out.add(path, j + 1 + age, None, ctx.new_flows[:, age])
    big = np.flatnonzero(count > EXACT_EVENTS)
    if big.size:
        pmf = np.maximum(np.diff(cdf[big], axis=1, prepend=0.0), 0.0)
        by_age = rng.multinomial(count[big], pmf / pmf.sum(axis=1, keepdims=True)).astype(np.float64)
        out.add(
            np.repeat(big, window),
            np.tile(j + 1 + np.arange(window), big.shape[0]),
            by_age.ravel(),
            (ctx.new_flows[:, None, :window] * by_age[None]).reshape(_FLOWS, -1),
        )
    # Payoff probability given no charge-off (``where`` rather than errstate: this runs every month).
    rest = 1 - within
    scale = np.divide(1.0, rest, out=np.zeros(b), where=rest > 0)
    if ctx.tables.payoff is None:
        out.payoff_releases[:, j + 1 : j + 1 + window] += ((booked - count) * scale * ctx.new.commitment)[
            :, None
        ] * payoff[:, :window]
        return
    running = np.cumsum(payoff[:, :window], axis=1) * scale[:, None]  # (B, window)
    paying = rng.binomial(booked - count, np.minimum(running[:, -1], 1.0))
    path = np.repeat(np.arange(b), paying)
    if path.size:
        u = rng.random(path.shape[0]) * running[:, -1].take(path)
        age = np.minimum(_count_at_most(running, path, u), window - 1)
        flat = path * h + j + 1 + age
        out.payoff_releases += (np.bincount(flat, minlength=b * h) * ctx.new.commitment).reshape(b, h)


def _book_phase(ctx: _Context, rng: np.random.Generator, paths: IntArray) -> _BlockFlows:
    """The book's charge-offs and payoffs for a block: they do not depend on the reserve's state."""
    h = ctx.horizon
    b = paths.shape[0]
    out = _BlockFlows(np.zeros((b, h)), np.zeros((_FLOWS, b, h)), np.zeros((b, h)))
    _book_charge_offs(ctx, rng, paths, out)
    return out


@dataclass
class _ReserveRun:
    """The reserve month by month over a block of paths (``_reserve_phase``)."""

    available: FloatArray  # (B, H)
    committed: FloatArray
    cumulative: FloatArray
    exhausted: BoolArray  # (B, H), the month it was short (not cumulative)
    new_loans: FloatArray  # (H,) summed over the block's paths
    missing: FloatArray  # (B, H) float cents short: claims unpaid plus commitments of loans not booked


def _reserve_phase(
    ctx: _Context,
    rng: np.random.Generator,
    paths: IntArray,
    out: _BlockFlows,
    extra_deposits: FloatArray | None = None,
) -> _ReserveRun:
    """Settle the reserve month by month, booking the pipeline as far as available allows; the
    pipeline's own charge-offs and payoffs are drawn into ``out`` as its loans are booked.
    ``extra_deposits`` (H,) are one-off grants (float cents) on top of the monthly deposit."""
    h = ctx.horizon
    b = paths.shape[0]
    _loss, from_commitment, pool_demand, claim_release = out.flows
    new = ctx.new
    available = np.full(b, float(ctx.reserve.available_cents))
    committed = np.full(b, float(ctx.book.commitment.sum()))
    cumulative = np.zeros(b)
    draws = ctx.draw_of[paths]
    running_co = np.cumsum(ctx.pipeline_co, axis=1)[draws]  # (B, H)
    payoff = ctx.pipeline_po[draws]
    deposit = float(ctx.assumptions.grant_deposits_cents)
    run = _ReserveRun(
        np.empty((b, h)),
        np.empty((b, h)),
        np.empty((b, h)),
        np.zeros((b, h), dtype=bool),
        np.zeros(h),
        np.zeros((b, h)),
    )
    for j in range(h):
        available, committed, paid, short = settle_month(
            available,
            committed,
            deposit=deposit + (0.0 if extra_deposits is None else float(extra_deposits[j])),
            releases=claim_release[:, j] + out.payoff_releases[:, j],
            from_commitment=from_commitment[:, j],
            pool_demand=pool_demand[:, j],
        )
        cumulative = cumulative + from_commitment[:, j] + paid
        run.exhausted[:, j] = short > 0.5
        run.missing[:, j] = short
        if new.per_month:
            wanted = float(new.per_month)
            if new.commitment > 0:
                booked = np.minimum(wanted, np.floor(available / new.commitment))
            else:
                booked = np.full(b, wanted)
            available = available - booked * new.commitment
            committed = committed + booked * new.commitment
            run.exhausted[:, j] |= booked < wanted
            run.missing[:, j] += (wanted - booked) * new.commitment
            run.new_loans[j] += booked.sum()
            if j < h - 1:
                _book_pipeline(ctx, rng, booked.astype(np.int64), running_co, payoff, j, out)
        run.available[:, j] = available
        run.committed[:, j] = committed
        run.cumulative[:, j] = cumulative
    return run


def _simulate_block(ctx: _Context, rng: np.random.Generator, paths: IntArray, record: PathRecord) -> None:
    out = _book_phase(ctx, rng, paths)
    run = _reserve_phase(ctx, rng, paths, out)
    rows = slice(int(paths[0]), int(paths[-1]) + 1)
    record.available[rows] = run.available
    record.committed[rows] = run.committed
    record.cumulative_claims[rows] = run.cumulative
    record.exhausted[rows] = run.exhausted
    record.new_loans += run.new_loans
    record.charge_offs += out.charge_offs.sum(axis=0)
    record.loss += out.flows[0].sum(axis=0)


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
    check_work(assumptions, book.n_groups, book.class_state.shape[0])
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
