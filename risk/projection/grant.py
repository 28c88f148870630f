"""The grant the reserve needs: the smallest one-off deposit, arriving in a given month, that keeps the
chance of running out within the horizon at or under a target.

Method
------
The Monte Carlo of :mod:`risk.projection.montecarlo` is run once as usual (same seed, same blocks,
same random streams, so the chance without a grant is exactly the simulation's). For each block the
book's charge-offs and payoffs (which do not depend on the reserve) are kept together with the state of
the block's random stream after drawing them. A candidate amount is then tried by settling the reserve
again, month by month, on those *same paths*: the same book events, the stream restored to the same
state for the pipeline, and the candidate added to the deposits of the grant's month (before that
month's claims are paid). A path "runs out" as in the simulation: a claim it cannot pay in full, or a
month it cannot fund the pipeline's new loans.

The search is a bisection over the amount on a grid (``step``: 1% of a first guess, at least $100,
in whole $100), so the answer is rounded *up* to the grid: the amount returned met the target on the
paths, the amount one step below did not (or is zero). The first guess is the share-(1 - target)
quantile over paths of what each path lacked from the grant's month on (claims unpaid plus the
commitments of loans it could not book). The chance of running out is not perfectly monotone in the
amount (a bigger grant books more pipeline loans, whose own charge-offs are new draws), so the
bisection finds *an* amount on the grid that meets the target with the one below it failing; on the
books tried it agreed with a scan of the grid.

Paths that run out *before* the grant arrives cannot be helped by it: when they alone exceed the
target, no amount is returned (``amount_cents`` None) and ``before_grant_probability`` says why.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from risk.projection.inputs import Assumptions, Portfolio, Reserve
from risk.projection.model import check_work, group_loans, regimes
from risk.projection.montecarlo import (
    BLOCK_PATHS,
    _BlockFlows,
    _book_phase,
    _context,
    _reserve_phase,
    _seed,
)
from risk.rollrate import FloatArray, IntArray, ProjectionError, TransitionEstimate

#: The grid of amounts is never finer than $100 (amounts are whole $100s).
MIN_STEP_CENTS = 10_000
#: Book flows of at most this many path-months are kept between tries (about 100 MB); above, each try
#: draws them again from the same streams (the same numbers, more time).
CACHE_CELLS = 2_000_000
#: Doublings of the bracket before giving up (2**24 times the first guess: no real grant).
MAX_DOUBLINGS = 24


@dataclass(frozen=True)
class GrantNeeded:
    """The answer of :func:`grant_needed`.

    Attributes
    ----------
    target_probability
        The chance of running out within the horizon that the grant must keep the reserve under.
    month
        The month (1-based, from the projection's date) in which the grant arrives.
    amount_cents
        The grant, in cents (whole $100s); 0 when the reserve meets the target without one; None when
        no grant arriving in ``month`` can (the reserve runs out before it too often).
    probability
        The chance of running out within the horizon with ``amount_cents`` (None with no amount).
    probability_without
        The chance without a grant (the simulation's own figure).
    before_grant_probability
        The chance of running out before ``month``: no grant arriving then can lower it.
    step_cents
        The grid of the search (the answer is rounded up to it).
    evaluations
        How many amounts were tried.
    """

    target_probability: float
    month: int
    amount_cents: int | None
    probability: float | None
    probability_without: float
    before_grant_probability: float
    step_cents: int
    evaluations: int


class GrantReplay:
    """The simulation's paths, kept so that the reserve can be settled again with a one-off grant.

    Built like :func:`~risk.projection.montecarlo.simulate` (same seed, blocks and streams), so
    ``without`` is the simulation's chance of running out within the horizon, to the last path.
    """

    def __init__(
        self,
        portfolio: Portfolio,
        reserve: Reserve,
        transitions: TransitionEstimate,
        assumptions: Assumptions,
        month: int,
    ) -> None:
        h = assumptions.horizon_months
        if not 1 <= month <= h:
            raise ProjectionError("grant_by_months", f"must be within the horizon (1 to {h} months)")
        assumptions.check_against(portfolio)
        book = group_loans(portfolio, assumptions)
        check_work(assumptions, book.n_groups, book.class_state.shape[0])
        seed = _seed(assumptions)
        reg = regimes(portfolio, assumptions)
        self.ctx, _ = _context(portfolio, reserve, transitions, assumptions, book, reg, seed)
        self.month, self.horizon, self.paths = month, h, assumptions.paths
        p = assumptions.paths
        self.block_seqs = np.random.SeedSequence(seed).spawn(3)[2].spawn(-(-p // BLOCK_PATHS))
        keep = p * h <= CACHE_CELLS
        self.blocks: list[tuple[IntArray, Any, _BlockFlows | None]] = []
        #: Per path: what it lacked from the grant's month on (float cents), whether it ran out at all,
        #: and whether it ran out before the grant's month.
        self.lacking = np.zeros(p)
        ever = np.zeros(p, dtype=bool)
        before = np.zeros(p, dtype=bool)
        for index, block_seq in enumerate(self.block_seqs):
            paths = np.arange(index * BLOCK_PATHS, min(p, (index + 1) * BLOCK_PATHS), dtype=np.int64)
            rng = np.random.default_rng(block_seq)
            out = _book_phase(self.ctx, rng, paths)
            state = copy.deepcopy(rng.bit_generator.state)
            self.blocks.append((paths, state, copy.deepcopy(out) if keep else None))
            run = _reserve_phase(self.ctx, rng, paths, out)
            self.lacking[paths] = run.missing[:, month - 1 :].sum(axis=1)
            ever[paths] = run.exhausted.any(axis=1)
            before[paths] = run.exhausted[:, : month - 1].any(axis=1)
        self.without = float(ever.mean()) if p else 0.0
        self.before_grant = float(before.mean()) if p else 0.0
        self.evaluations = 0

    def _book_flows(self, index: int) -> tuple[_BlockFlows, Any]:
        paths, state, cached = self.blocks[index]
        if cached is not None:
            return copy.deepcopy(cached), state
        return _book_phase(self.ctx, np.random.default_rng(self.block_seqs[index]), paths), state

    def chance(self, amount_cents: int) -> float:
        """The chance of running out within the horizon with ``amount_cents`` arriving in the month."""
        self.evaluations += 1
        extra: FloatArray = np.zeros(self.horizon)
        extra[self.month - 1] = float(amount_cents)
        short = 0
        for index in range(len(self.blocks)):
            out, state = self._book_flows(index)
            rng = np.random.default_rng()
            rng.bit_generator.state = state
            run = _reserve_phase(self.ctx, rng, self.blocks[index][0], out, extra)
            short += int(run.exhausted.any(axis=1).sum())
        return short / self.paths


def grant_needed(
    portfolio: Portfolio,
    reserve: Reserve,
    transitions: TransitionEstimate,
    assumptions: Assumptions,
    *,
    target: float,
    month: int,
    progress: Callable[[float], object] | None = None,
) -> GrantNeeded:
    """The smallest grant arriving in ``month`` that keeps P(run out within the horizon) <= ``target``.

    Raises
    ------
    ProjectionError
        ``target`` outside (0, 1) or ``month`` outside the horizon (named after the app's settings,
        ``grant_target_probability`` and ``grant_by_months``), or a request the simulation refuses.
    """
    if not 0.0 < target < 1.0:
        raise ProjectionError("grant_target_probability", "must be a probability between 0 and 1")
    replay = GrantReplay(portfolio, reserve, transitions, assumptions, month)
    without, floor = replay.without, replay.before_grant
    guess = float(np.quantile(replay.lacking, 1.0 - target)) if replay.paths else 0.0
    step = max(MIN_STEP_CENTS, math.ceil(guess * 0.01 / MIN_STEP_CENTS) * MIN_STEP_CENTS)

    def chance(amount_cents: int) -> float:
        found = replay.chance(amount_cents)
        if progress is not None:
            progress(min(1.0, replay.evaluations / 10))
        return found

    def answer(amount: int | None, probability: float | None) -> GrantNeeded:
        return GrantNeeded(target, month, amount, probability, without, floor, step, replay.evaluations)

    if without <= target:
        return answer(0, without)
    if floor > target:
        return answer(None, None)
    lo, hi = 0, max(1, math.ceil(guess / step))  # in steps; lo is known to miss the target
    at_hi = chance(hi * step)
    doublings = 0
    while at_hi > target:
        if doublings == MAX_DOUBLINGS:
            return answer(None, None)
        lo, hi, doublings = hi, hi * 2, doublings + 1
        at_hi = chance(hi * step)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        at_mid = chance(mid * step)
        if at_mid <= target:
            hi, at_hi = mid, at_mid
        else:
            lo = mid
    return answer(hi * step, at_hi)


__all__ = ["GrantNeeded", "GrantReplay", "grant_needed"]
