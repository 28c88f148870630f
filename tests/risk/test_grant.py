"""The grant needed: the same simulated paths settled again with a one-off grant, and the search over it."""

from __future__ import annotations

import pytest

from risk.projection import Assumptions, ProjectionError, Reserve, simulate
from risk.projection.grant import GrantReplay, grant_needed
from tests.risk.test_projection import PRIOR_ONLY, book

#: 30 loans, a pipeline of two $10,000 loans a month that the reserve cannot fund for long.
PIPELINE = Assumptions(
    horizon_months=24, paths=512, seed=3, originations_per_month=2, origination_amount_cents=1_000_000
)
TIGHT = Reserve(available_cents=1_000_000)


def test_without_a_grant_the_replay_is_the_simulation_path_for_path() -> None:
    replay = GrantReplay(book(), TIGHT, PRIOR_ONLY, PIPELINE, month=1)
    assert replay.without == simulate(book(), TIGHT, PRIOR_ONLY, PIPELINE).exhaustion_probability[-1]
    assert replay.chance(0) == replay.without


@pytest.mark.parametrize("amount", [250_000, 2_000_000, 6_000_000])
def test_a_grant_in_month_one_is_the_same_as_starting_with_that_much_more(amount: int) -> None:
    """Month 1's grant arrives before month 1's claims, as the opening available does: the replay and a
    full simulation with a bigger reserve must agree exactly (same seed, same paths)."""
    replay = GrantReplay(book(), TIGHT, PRIOR_ONLY, PIPELINE, month=1)
    richer = Reserve(available_cents=TIGHT.available_cents + amount)
    assert replay.chance(amount) == simulate(book(), richer, PRIOR_ONLY, PIPELINE).exhaustion_probability[-1]


def test_the_grant_found_meets_the_target_and_one_step_less_does_not() -> None:
    found = grant_needed(book(), TIGHT, PRIOR_ONLY, PIPELINE, target=0.05, month=2)
    assert found.probability_without > 0.5 and found.before_grant_probability == 0
    assert found.amount_cents is not None and found.amount_cents % 10_000 == 0
    assert found.probability is not None and found.probability <= 0.05
    replay = GrantReplay(book(), TIGHT, PRIOR_ONLY, PIPELINE, month=2)
    assert replay.chance(found.amount_cents) == found.probability
    assert replay.chance(found.amount_cents - found.step_cents) > 0.05
    looser = grant_needed(book(), TIGHT, PRIOR_ONLY, PIPELINE, target=0.25, month=2)
    assert looser.amount_cents is not None and looser.amount_cents < found.amount_cents


def test_an_ample_reserve_needs_no_grant_and_tries_nothing() -> None:
    found = grant_needed(
        book(), Reserve(available_cents=50_000_000), PRIOR_ONLY, PIPELINE, target=0.05, month=3
    )
    assert (found.amount_cents, found.evaluations) == (0, 0)
    assert found.probability == found.probability_without <= 0.05


def test_no_grant_helps_a_reserve_that_runs_out_before_it_arrives() -> None:
    found = grant_needed(
        book(), Reserve(available_cents=300_000), PRIOR_ONLY, PIPELINE, target=0.05, month=12
    )
    assert found.amount_cents is None and found.probability is None
    assert found.before_grant_probability > 0.05


@pytest.mark.parametrize(
    ("target", "month", "field"),
    [
        (0.0, 2, "grant_target_probability"),
        (1.0, 2, "grant_target_probability"),
        (0.05, 0, "grant_by_months"),
        (0.05, 25, "grant_by_months"),
    ],
)
def test_a_target_or_month_the_search_cannot_use_is_refused(target: float, month: int, field: str) -> None:
    with pytest.raises(ProjectionError) as refused:
        grant_needed(book(), TIGHT, PRIOR_ONLY, PIPELINE, target=target, month=month)
    assert refused.value.field == field
