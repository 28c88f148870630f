"""Roll-rate estimate: matrix checks, the prior, the posterior and its uncertainty."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import risk.rollrate
from risk.errors import InvalidTerms
from risk.rollrate import (
    DEFAULT_PRIOR,
    N_STATES,
    Prior,
    ProjectionError,
    State,
    TransitionEstimate,
    cumulative_charge_off,
    estimate_transitions,
    validate_matrix,
    worsen,
)


def counts_from(matrix: np.ndarray, loan_months: int) -> np.ndarray:
    """Expected counts of ``loan_months`` per live row under ``matrix``, rounded."""
    return np.asarray(np.rint(matrix[:5] * loan_months), dtype=np.int64)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(risk.rollrate, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_projection_error_is_the_invalid_terms_the_app_maps_to_422() -> None:
    error = ProjectionError("paths", "too many")
    assert isinstance(error, InvalidTerms) and isinstance(error, ValueError)
    assert (error.field, error.message) == ("paths", "too many")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda m: m[:5, :5], "7 x 7"),
        (lambda m: np.vstack([m, m[:1]]), "7 x 7"),
        (lambda m: _set(m, 0, 1, -0.01, 0, 0, 0.01), "outside [0, 1]"),
        (lambda m: _set(m, 1, 0, 1.2, 1, 1, -0.2 + m[1, 1]), "outside [0, 1]"),
        (lambda m: _set(m, 0, 6, m[0, 6] + 1e-6), "sums to"),
        (lambda m: _set(m, 0, 0, np.nan), "finite"),
        (lambda m: _set(m, 5, 5, 0.0, 5, 0, 1.0), "absorbing"),
    ],
)
def test_bad_matrices_are_refused_with_a_named_reason(change: object, words: str) -> None:
    bad = change(DEFAULT_PRIOR.mean.copy())  # type: ignore[operator]
    with pytest.raises(ProjectionError, match=words.replace("[", r"\[").replace("]", r"\]")) as info:
        validate_matrix(bad)
    assert info.value.field == "matrix"


def _set(m: np.ndarray, *cells: float) -> np.ndarray:
    for i in range(0, len(cells), 3):
        m[int(cells[i]), int(cells[i + 1])] = cells[i + 2]
    return m


def test_rows_within_1e_9_of_one_are_accepted() -> None:
    m = DEFAULT_PRIOR.mean.copy()
    m[0, 0] += 5e-10
    validate_matrix(m)


def test_the_default_prior_is_calibrated_as_documented() -> None:
    m = DEFAULT_PRIOR.mean
    assert cumulative_charge_off(m, 36) == pytest.approx(0.098, abs=0.001)
    annual = cumulative_charge_off(m, 24) - cumulative_charge_off(m, 12)
    assert 0.035 < annual < 0.06
    # From 30 days late, 37% are eventually charged off.
    live = m[:5, :5]
    absorbed = np.linalg.solve(np.eye(5) - live, m[:5, 5:])
    assert absorbed[State.DPD30, 0] == pytest.approx(0.374, abs=0.001)
    assert DEFAULT_PRIOR.strength.tolist() == [1200.0, 60.0, 30.0, 20.0, 20.0]


def test_posterior_is_the_prior_when_nothing_is_observed() -> None:
    estimate = estimate_transitions(np.zeros((7, 7), dtype=np.int64))
    np.testing.assert_allclose(estimate.matrix, DEFAULT_PRIOR.mean, atol=1e-15)
    assert estimate.data_weight.tolist() == [0.0] * 5
    assert estimate.observed.tolist() == [0] * 5


def test_posterior_approaches_the_data_as_counts_grow() -> None:
    truth = worsen(DEFAULT_PRIOR.mean, 1.5)
    gaps = []
    for loan_months in (100, 10_000, 1_000_000, 100_000_000):
        estimate = estimate_transitions(counts_from(truth, loan_months))
        gaps.append(float(np.abs(estimate.matrix - truth).max()))
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-5


def test_data_weight_is_observed_over_observed_plus_prior_strength() -> None:
    counts = np.zeros((5, 7), dtype=np.int64)
    counts[State.CURRENT, State.CURRENT] = 1150
    counts[State.CURRENT, State.DPD30] = 50
    counts[State.DPD30, State.CURRENT] = 60
    estimate = estimate_transitions(counts)
    assert estimate.observed.tolist() == [1200, 60, 0, 0, 0]
    np.testing.assert_allclose(estimate.data_weight, [0.5, 0.5, 0.0, 0.0, 0.0])
    # Half prior (2%), half data (50 / 1200): the posterior mean is the weighted average.
    assert estimate.matrix[0, 1] == pytest.approx(0.5 * 0.02 + 0.5 * 50 / 1200)


def test_uncertainty_shrinks_with_data_and_intervals_cover_the_mean() -> None:
    prior_only = estimate_transitions(np.zeros((5, 7), dtype=np.int64))
    with_data = estimate_transitions(counts_from(DEFAULT_PRIOR.mean, 20_000))
    assert (with_data.std[:5] <= prior_only.std[:5] + 1e-15).all()
    assert with_data.std[0, 1] < prior_only.std[0, 1] / 3
    # Dirichlet marginal: sqrt(p (1 - p) / (a0 + 1)).
    assert prior_only.std[0, 1] == pytest.approx(np.sqrt(0.02 * 0.98 / 1201))
    lower, upper = prior_only.interval(0.90)
    assert (lower <= prior_only.matrix + 1e-12).all() and (prior_only.matrix <= upper + 1e-12).all()
    assert lower[0, 1] < 0.02 < upper[0, 1]
    assert np.array_equal(prior_only.interval(0.90)[0], lower)  # fixed seed: the same interval


def test_posterior_draws_are_valid_matrices_around_the_mean() -> None:
    estimate = estimate_transitions(counts_from(DEFAULT_PRIOR.mean, 500))
    draws = estimate.sample(np.random.default_rng(1), 4000)
    for m in draws[:50]:
        validate_matrix(m)
    np.testing.assert_allclose(
        draws.mean(axis=0), estimate.matrix, atol=4 * estimate.std.max() / np.sqrt(4000)
    )
    np.testing.assert_allclose(draws.std(axis=0)[0, 1], estimate.std[0, 1], rtol=0.1)
    assert (draws[:, 0, 2] == 0).all()  # structurally impossible in the prior and never observed


def test_a_fixed_matrix_has_no_uncertainty() -> None:
    fixed = TransitionEstimate.fixed(DEFAULT_PRIOR.mean)
    assert not fixed.has_uncertainty
    draws = fixed.sample(np.random.default_rng(0), 3)
    assert np.array_equal(draws[2], DEFAULT_PRIOR.mean)


@pytest.mark.parametrize(
    "counts",
    [
        np.zeros((4, 7), dtype=np.int64),
        np.zeros((7, 6), dtype=np.int64),
        -np.ones((5, 7), dtype=np.int64),
        np.full((5, 7), 0.5),
        np.full((5, 7), np.nan),
    ],
)
def test_bad_counts_are_refused(counts: np.ndarray) -> None:
    with pytest.raises(ProjectionError) as info:
        estimate_transitions(counts)
    assert info.value.field == "counts"


def test_a_prior_needs_positive_strength_per_live_row() -> None:
    with pytest.raises(ProjectionError, match="positive"):
        Prior(mean=DEFAULT_PRIOR.mean, strength=np.array([1.0, 1.0, 0.0, 1.0, 1.0]))
    with pytest.raises(ProjectionError):
        Prior(mean=DEFAULT_PRIOR.mean, strength=np.ones(7))


def test_worsen_doubles_roll_rates_and_keeps_rows_stochastic() -> None:
    base = DEFAULT_PRIOR.mean
    doubled = worsen(base, 2.0)
    validate_matrix(doubled)
    assert doubled[State.DPD30, State.DPD60] == pytest.approx(2 * base[State.DPD30, State.DPD60])
    assert doubled[State.DPD30, State.CHARGED_OFF] == pytest.approx(2 * base[State.DPD30, State.CHARGED_OFF])
    # The row's other cells keep their proportions.
    ratio = doubled[State.DPD30, State.CURRENT] / base[State.DPD30, State.CURRENT]
    assert doubled[State.DPD30, State.PAID_OFF] / base[State.DPD30, State.PAID_OFF] == pytest.approx(ratio)
    # 120+: 85% x 2 passes 1, so the row is all charge-off.
    assert doubled[State.DPD120, State.CHARGED_OFF] == pytest.approx(1.0)
    assert np.array_equal(worsen(base, 1.0), base)
    assert cumulative_charge_off(doubled, 36) > cumulative_charge_off(base, 36)
    assert cumulative_charge_off(worsen(base, 0.5), 36) < cumulative_charge_off(base, 36)
    with pytest.raises(ProjectionError):
        worsen(base, -1.0)


def test_states_are_the_seven_buckets_in_order() -> None:
    assert [s.name for s in State] == [
        "CURRENT",
        "DPD30",
        "DPD60",
        "DPD90",
        "DPD120",
        "CHARGED_OFF",
        "PAID_OFF",
    ]
    assert N_STATES == 7
