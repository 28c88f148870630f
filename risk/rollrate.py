"""Roll-rate (Markov) model of a loan's monthly delinquency bucket, estimated from the bucket history.

A live loan is in one of five buckets at each month end; each month it moves to another bucket, or
is charged off, or is paid off (both absorbing)::

    CURRENT -> DPD30 -> DPD60 -> DPD90 -> DPD120 (120+) -> CHARGED_OFF
        \\________________ cures, prepayment ________________/-> PAID_OFF

The monthly transition matrix is 7 x 7, rows summing to 1, one row per state at the start of a month
and one column per state at its end; the two absorbing rows are the identity.

Estimation (:func:`estimate_transitions`) is Bayesian and per row: each live row has a Dirichlet
prior whose pseudo-counts come from published experience of comparable programmes
(:data:`DEFAULT_PRIOR`), the observed transition counts are added, and the posterior mean is the
estimate. The programme is young, so the prior matters: :attr:`TransitionEstimate.data_weight`
says, row by row, how much of the estimate is data (``n / (n + prior strength)``), and the posterior
(its standard deviations, credible intervals and random draws) says how uncertain it is. The Monte
Carlo projection (``risk.projection.simulate``) draws matrices from this posterior, so parameter
uncertainty flows into its percentiles.

Number of installments behind: a loan in DPDk has missed k installments (DPD120 is "four or more";
a 120+ loan that is not charged off keeps paying, otherwise the charge-off policy would take it). The
projection uses this to place each loan on its schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from risk.errors import InvalidTerms

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: How far a row of a transition matrix may be from summing to 1.
ROW_SUM_TOLERANCE = 1e-9


class State(IntEnum):
    """A loan's bucket at a month end (the rows and columns of every transition matrix)."""

    CURRENT = 0
    DPD30 = 1
    DPD60 = 2
    DPD90 = 3
    DPD120 = 4  # 120 days past due or more
    CHARGED_OFF = 5
    PAID_OFF = 6


N_STATES = len(State)
#: The live (non-absorbing) states, the rows that are estimated.
LIVE_STATES = (State.CURRENT, State.DPD30, State.DPD60, State.DPD90, State.DPD120)
N_LIVE = len(LIVE_STATES)


class ProjectionError(InvalidTerms):
    """Input the risk projection models refuse: a bad matrix, count, portfolio or assumption.

    An :class:`~risk.errors.InvalidTerms` (a ``ValueError``), so the web layer answers 422 and names
    ``field``, the argument (or ``argument.attribute``) at fault.
    """


def validate_matrix(matrix: npt.ArrayLike, field: str = "matrix") -> FloatArray:
    """A checked copy of a monthly transition matrix, as float64, read-only.

    Refuses (with :class:`ProjectionError`) anything but a finite 7 x 7 array of probabilities in
    [0, 1] whose rows each sum to 1 within :data:`ROW_SUM_TOLERANCE`, with absorbing CHARGED_OFF and
    PAID_OFF rows.

    Examples
    --------
    >>> validate_matrix(np.eye(3))
    Traceback (most recent call last):
    ...
    risk.rollrate.ProjectionError: matrix: must be 7 x 7 (states 0..6), not (3, 3)
    """
    try:
        array = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ProjectionError(field, "must be a 7 x 7 array of probabilities") from exc
    if array.shape != (N_STATES, N_STATES):
        raise ProjectionError(field, f"must be {N_STATES} x {N_STATES} (states 0..6), not {array.shape}")
    if not np.isfinite(array).all():
        raise ProjectionError(field, "has a value that is not a finite number")
    bad = np.argwhere((array < 0) | (array > 1))
    if bad.size:
        i, j = (int(x) for x in bad[0])
        raise ProjectionError(field, f"{State(i).name} -> {State(j).name} is {array[i, j]!r}, outside [0, 1]")
    sums = array.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > ROW_SUM_TOLERANCE)
    if off.size:
        i = int(off[0])
        raise ProjectionError(field, f"row {State(i).name} sums to {sums[i]!r}, not 1")
    for state in (State.CHARGED_OFF, State.PAID_OFF):
        if array[state, state] != 1.0:
            raise ProjectionError(field, f"row {state.name} must stay {state.name} (an absorbing state)")
    array.setflags(write=False)
    return array


def worsen(matrix: npt.ArrayLike, multiplier: float, field: str = "multiplier") -> FloatArray:
    """The matrix with every delinquency-worsening probability multiplied, rows renormalised.

    In each live row the worsening cells are the moves to a later bucket and to CHARGED_OFF. They are
    multiplied by ``multiplier``; the other cells of the row (stay, cure, pay off) are scaled together
    so the row still sums to 1, keeping their proportions. If the worsening cells would pass 1 they
    are scaled down to sum to exactly 1 (the row then never stays, cures or pays off). A multiplier
    below 1 improves the matrix; 1 returns it unchanged.

    Used for the layoff stress (a layoff multiplies roll rates) and the "roll rates x 2" scenario.

    Examples
    --------
    >>> m = worsen(DEFAULT_PRIOR.mean, 2.0)
    >>> round(float(m[State.CURRENT, State.DPD30]), 3), round(float(m[State.CURRENT].sum()), 12)
    (0.04, 1.0)
    """
    base = validate_matrix(matrix)
    factor = float(multiplier)
    if not np.isfinite(factor) or factor < 0:
        raise ProjectionError(field, f"must be a finite number of at least 0, not {multiplier!r}")
    if factor == 1.0:
        return base
    result = base.copy()
    for state in LIVE_STATES:
        worse = np.zeros(N_STATES, dtype=bool)
        worse[state + 1 : State.CHARGED_OFF + 1] = True
        row = base[state]
        scaled = row[worse] * factor
        total = float(scaled.sum())
        rest = float(row[~worse].sum())
        if total >= 1.0 or rest == 0.0:
            result[state, worse] = scaled / total if total > 0 else row[worse]
            result[state, ~worse] = 0.0 if total > 0 else row[~worse]
        else:
            result[state, worse] = scaled
            result[state, ~worse] = row[~worse] * ((1.0 - total) / rest)
    result.setflags(write=False)
    return result


def cumulative_charge_off(matrix: npt.ArrayLike, months: int, start: State = State.CURRENT) -> float:
    """Probability that a loan starting in ``start`` is charged off within ``months`` (no maturity).

    Examples
    --------
    >>> round(cumulative_charge_off(DEFAULT_PRIOR.mean, 36), 3)
    0.098
    """
    m = validate_matrix(matrix)
    if months < 0:
        raise ProjectionError("months", f"must be 0 or more, not {months}")
    v = np.zeros(N_STATES)
    v[start] = 1.0
    for _ in range(months):
        v = v @ m
    return float(v[State.CHARGED_OFF])


@dataclass(frozen=True, eq=False)
class Prior:
    """A Dirichlet prior for each live row of the transition matrix.

    Attributes
    ----------
    mean
        7 x 7 transition matrix: the prior's expected probabilities (validated like any matrix).
    strength
        Five positive numbers, one per live row: how many observed loan-months the prior is worth.
        The row's pseudo-counts are ``mean[row] * strength[row]``.
    source
        Where the numbers come from, in words (shown to staff next to the projection).
    """

    mean: FloatArray
    strength: FloatArray
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", validate_matrix(self.mean, "prior.mean"))
        strength = np.array(self.strength, dtype=np.float64)
        if strength.shape != (N_LIVE,):
            raise ProjectionError("prior.strength", f"must hold {N_LIVE} numbers, one per live state")
        if not (np.isfinite(strength).all() and (strength > 0).all()):
            raise ProjectionError("prior.strength", "every pseudo-count total must be a positive number")
        strength.setflags(write=False)
        object.__setattr__(self, "strength", strength)

    @property
    def pseudo_counts(self) -> FloatArray:
        """The Dirichlet parameters of the live rows, 5 x 7."""
        return self.mean[:N_LIVE] * self.strength[:, None]


def _default_prior() -> Prior:
    mean = np.zeros((N_STATES, N_STATES))
    #             CUR    30     60     90     120    CO     PO
    mean[0] = [0.965, 0.020, 0.0, 0.0, 0.0, 0.0, 0.015]
    mean[1] = [0.450, 0.190, 0.340, 0.0, 0.0, 0.005, 0.015]
    mean[2] = [0.150, 0.200, 0.120, 0.500, 0.0, 0.020, 0.010]
    mean[3] = [0.080, 0.050, 0.120, 0.080, 0.600, 0.060, 0.010]
    mean[4] = [0.040, 0.010, 0.020, 0.030, 0.040, 0.850, 0.010]
    mean[5, 5] = mean[6, 6] = 1.0
    return Prior(
        mean=mean,
        strength=np.array([1200.0, 60.0, 30.0, 20.0, 20.0]),
        source=(
            "Comparable car-loan programmes for low-income workers (Ways to Work about 10% default, "
            "More Than Wheels about 5%, Capital Good Fund about 95% repaid, a non-prime credit-union "
            "auto programme 1.49% annual charge-offs) and typical non-prime auto roll rates; "
            "calibrated to about 10% charged off within three years, 4.8% a year."
        ),
    )


DEFAULT_PRIOR: Prior = _default_prior()
"""The prior for the Car Buyer programme. How the numbers were derived:

*Default level.* Of the four published figures, Ways to Work's ~10% default is the closest
population (low-income workers buying a car to get to work; loans of two to three years) and the
worst; More Than Wheels (~5%) and Capital Good Fund (~95% repaid, so ~5% lost) are lower, and the
credit union's non-prime programme's 1.49% is an annual charge-off *ratio of balances* for a more
creditworthy book (about 4% of a loan's life at ~2.5 years). A loss reserve is finite, so the prior
leans to the worst comparable programme: it is calibrated so that a loan that starts current is
charged off within 36 months with probability 9.8% (:func:`cumulative_charge_off`), about 4.8% of
live loans a year. (That is below the 6-8% a year sometimes quoted for subprime auto; the
programme's own underwriting and the credit union's servicing are closer to the figures above.)

*Row by row* (monthly; columns CURRENT, 30, 60, 90, 120+, charged off, paid off):

* CURRENT: 2.0% miss an installment (the calibration knob: 1.5% gives 7.5% in 36 months, 2.5%
  gives 11.9%); 1.5% pay off early, the usual auto ABS prepayment speed (1.3-1.5% ABS) rounded up
  for a book that refinances as credit improves. Maturity is not a transition: the projection pays a
  loan off when its schedule ends.
* DPD30: 45% cure, 19% stay one behind, 34% roll to 60 (non-prime auto 30->60 roll rates run
  30-40%), 0.5% charged off at once (bankruptcy, total loss), 1.5% paid off (car sold).
* DPD60: 15% cure, 20% back to 30, 12% stay, 50% roll to 90, 2% charged off, 1% paid off.
* DPD90: 8% cure, 5%/12% back to 30/60, 8% stay, 60% roll to 120+, 6% charged off, 1% paid off.
* DPD120: the charge-off policy takes 85% the next month; 10% cure partly or fully, 4% stay
  (paying), 1% paid off.

From DPD30 a loan is eventually charged off with probability 37%, in line with published cure and
roll rates for non-prime auto.

*Strength* (pseudo loan-months per row): CURRENT 1200 (a year of a 100-loan book: the prior and
such a year of data weigh the same), DPD30 60, DPD60 30, DPD90 20, DPD120 20, about what the same
book would see in two to four years in those buckets, with a floor of 20 so a handful of
observations cannot swing a row. The posterior standard deviation of CURRENT -> DPD30 is then 0.4
percentage points before any data (a fifth of its value).
"""


@dataclass(frozen=True, eq=False)
class TransitionEstimate:
    """The estimated monthly transition matrix and how far to trust it.

    Attributes
    ----------
    matrix
        7 x 7 posterior mean: the estimate the expected projection uses.
    alpha
        5 x 7 posterior Dirichlet parameters of the live rows (prior pseudo-counts + counts), or
        None for a fixed matrix with no parameter uncertainty (:meth:`fixed`).
    counts
        5 x 7 observed transition counts of the live rows.
    observed
        Observed loan-months per live row (row sums of ``counts``).
    prior_strength
        Pseudo loan-months of the prior per live row.
    data_weight
        ``observed / (observed + prior_strength)`` per live row: 0 is all prior, 1 all data.
    std
        7 x 7 posterior standard deviation of each probability (0 on absorbing rows and for a
        fixed matrix).
    """

    matrix: FloatArray
    alpha: FloatArray | None
    counts: IntArray
    observed: IntArray
    prior_strength: FloatArray
    data_weight: FloatArray
    std: FloatArray

    @classmethod
    def fixed(cls, matrix: npt.ArrayLike) -> TransitionEstimate:
        """A known matrix, with no parameter uncertainty (data weight 1, standard deviations 0)."""
        m = validate_matrix(matrix)
        zeros = np.zeros((N_LIVE, N_STATES), dtype=np.int64)
        return cls(
            matrix=m,
            alpha=None,
            counts=zeros,
            observed=zeros.sum(axis=1),
            prior_strength=np.zeros(N_LIVE),
            data_weight=np.ones(N_LIVE),
            std=np.zeros((N_STATES, N_STATES)),
        )

    @property
    def has_uncertainty(self) -> bool:
        return self.alpha is not None

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """``size`` matrices drawn from the posterior, shape ``(size, 7, 7)``.

        Each live row is an independent Dirichlet draw (cells with a zero parameter stay 0); a fixed
        estimate returns copies of its matrix.
        """
        if size < 0:
            raise ProjectionError("size", f"must be 0 or more, not {size}")
        out = np.broadcast_to(self.matrix, (size, N_STATES, N_STATES)).copy()
        if self.alpha is None or size == 0:
            return out
        gammas = rng.standard_gamma(np.broadcast_to(self.alpha, (size, N_LIVE, N_STATES)))
        out[:, :N_LIVE, :] = gammas / gammas.sum(axis=2, keepdims=True)
        return out

    def interval(
        self, level: float = 0.90, draws: int = 20_000, seed: int = 0
    ) -> tuple[FloatArray, FloatArray]:
        """Equal-tailed credible interval of every probability: ``(lower, upper)``, each 7 x 7.

        Computed from ``draws`` posterior samples with a fixed ``seed`` (so the same estimate always
        shows the same interval); with 20,000 draws the bounds are good to about 0.1 of a standard
        deviation.
        """
        if not 0 < level < 1:
            raise ProjectionError("level", f"must be strictly between 0 and 1, not {level!r}")
        samples = self.sample(np.random.default_rng(seed), draws)
        tail = (1 - level) / 2
        lower, upper = np.quantile(samples, [tail, 1 - tail], axis=0)
        return lower, upper


def estimate_transitions(counts: npt.ArrayLike, prior: Prior = DEFAULT_PRIOR) -> TransitionEstimate:
    """Posterior estimate of the monthly transition matrix from observed transition counts.

    Parameters
    ----------
    counts
        Observed loan-months by (state at the start of the month, state at its end): non-negative
        integers, 5 x 7 (live rows only) or 7 x 7 (the absorbing rows are then ignored).
    prior
        Dirichlet prior per live row; :data:`DEFAULT_PRIOR` unless the programme sets its own.

    Returns
    -------
    TransitionEstimate
        Posterior mean ``(prior pseudo-counts + counts) / (strength + n)`` per row: the prior when
        nothing is observed, the observed frequencies as counts grow.

    Examples
    --------
    >>> est = estimate_transitions(np.zeros((7, 7), dtype=int))
    >>> bool(np.allclose(est.matrix, DEFAULT_PRIOR.mean)), est.data_weight.tolist()
    (True, [0.0, 0.0, 0.0, 0.0, 0.0])
    """
    raw = np.asarray(counts)
    if raw.ndim != 2 or raw.shape[1] != N_STATES or raw.shape[0] not in (N_LIVE, N_STATES):
        raise ProjectionError("counts", f"must be 5 x 7 or 7 x 7 transition counts, not shape {raw.shape}")
    whole = raw.dtype.kind in "iu" or (
        raw.dtype.kind == "f" and bool(np.isfinite(raw).all()) and bool((raw == np.round(raw)).all())
    )
    if raw.size and not whole:
        raise ProjectionError("counts", "must be whole numbers of loan-months")
    live = raw[:N_LIVE].astype(np.int64)
    if (live < 0).any():
        i, j = (int(x) for x in np.argwhere(live < 0)[0])
        raise ProjectionError("counts", f"{State(i).name} -> {State(j).name} is negative: {live[i, j]}")
    alpha = prior.pseudo_counts + live
    totals = alpha.sum(axis=1)
    matrix = np.zeros((N_STATES, N_STATES))
    matrix[:N_LIVE] = alpha / totals[:, None]
    matrix[State.CHARGED_OFF, State.CHARGED_OFF] = matrix[State.PAID_OFF, State.PAID_OFF] = 1.0
    std = np.zeros((N_STATES, N_STATES))
    p = matrix[:N_LIVE]
    std[:N_LIVE] = np.sqrt(p * (1 - p) / (totals[:, None] + 1))
    observed = live.sum(axis=1)
    for array in (matrix, std, alpha, live, observed):
        array.setflags(write=False)
    return TransitionEstimate(
        matrix=matrix,
        alpha=alpha,
        counts=live,
        observed=observed,
        prior_strength=prior.strength,
        data_weight=observed / (observed + prior.strength),
        std=std,
    )
