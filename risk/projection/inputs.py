"""What the projection models take: the portfolio, the reserve and its claim policy, the assumptions.

All are frozen value objects checked on construction; anything unusable raises
:class:`~risk.rollrate.ProjectionError` naming the field (the app answers 422). Money is whole cents
(int or int64 arrays; floats are refused), rates whole basis points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from risk import validation
from risk.money import to_cents
from risk.rollrate import N_LIVE, FloatArray, IntArray, ProjectionError, validate_matrix

#: Longest horizon, in months (the longest loan term the programme allows).
MAX_HORIZON_MONTHS = validation.MAX_TERM_MONTHS
#: Largest balance of one loan in cents (the programme's largest principal).
MAX_BALANCE_CENTS = to_cents(validation.MAX_PRINCIPAL)
#: Highest note rate in basis points.
MAX_RATE_BP = int(validation.MAX_ANNUAL_RATE * 100)
#: Most posterior matrices one projection draws (each costs a pass of the outcome model).
MAX_PARAMETER_DRAWS = 200


def _int_array(name: str, values: npt.ArrayLike, low: int, high: int | None) -> IntArray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ProjectionError(name, "must be a one-dimensional array, one entry per loan")
    if array.size and array.dtype.kind not in "iu":
        raise ProjectionError(
            name, f"must hold whole numbers (cents, basis points, months), not {array.dtype}"
        )
    result = array.astype(np.int64)
    bad = (result < low) if high is None else ((result < low) | (result > high))
    where = np.flatnonzero(bad)
    if where.size:
        i = int(where[0])
        limit = f"at least {low}" if high is None else f"within {low}..{high}"
        raise ProjectionError(name, f"loan at position {i}: {int(result[i])} is not {limit}")
    result.setflags(write=False)
    return result


def _whole(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ProjectionError(name, f"must be a whole number, not {type(value).__name__}")
    number = int(value)
    if number < low or (high is not None and number > high):
        limit = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ProjectionError(name, f"must be {limit}, not {number}")
    return number


def _share(name: str, value: object, *, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | np.floating | np.integer):
        raise ProjectionError(name, f"must be a number between 0 and 1, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or number > 1 or (low_open and number == 0):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ProjectionError(name, f"must be within {interval}, not {value}")
    return number


@dataclass(frozen=True, eq=False)
class Portfolio:
    """The live loans, one entry per loan in each array.

    Attributes
    ----------
    loan_id
        The loan's id (kept for the caller; the models do not use it).
    state
        Bucket at the projection date, a live :class:`~risk.rollrate.State` (0..4).
    balance_cents
        Principal owed, whole cents, more than 0.
    rate_bp
        Note rate in basis points (900 is 9.00%).
    remaining_term
        Installments still to pay to clear the balance (for a delinquent loan, including the
        missed ones), 1..120.
    payment_cents
        The level installment, whole cents; the last installment clears whatever is left.
    employer
        Index into ``employer_names`` of the borrower's employer (layoffs are per employer).
    commitment_cents
        Reserve committed to the loan and not yet used or released, whole cents, 0 or more.
    employer_names
        Names of the employers, indexed by ``employer``.
    """

    loan_id: IntArray
    state: IntArray
    balance_cents: IntArray
    rate_bp: IntArray
    remaining_term: IntArray
    payment_cents: IntArray
    employer: IntArray
    commitment_cents: IntArray
    employer_names: tuple[str, ...]

    def __post_init__(self) -> None:
        names = tuple(str(name) for name in self.employer_names)
        object.__setattr__(self, "employer_names", names)
        checks: dict[str, tuple[int, int | None]] = {
            "loan_id": (-(2**62), None),
            "state": (0, N_LIVE - 1),
            "balance_cents": (1, MAX_BALANCE_CENTS),
            "rate_bp": (0, MAX_RATE_BP),
            "remaining_term": (1, validation.MAX_TERM_MONTHS),
            "payment_cents": (1, MAX_BALANCE_CENTS),
            "employer": (0, max(len(names) - 1, 0)),
            "commitment_cents": (0, MAX_BALANCE_CENTS),
        }
        length: int | None = None
        for name, (low, high) in checks.items():
            array = _int_array(name, getattr(self, name), low, high)
            if length is None:
                length = array.shape[0]
            elif array.shape[0] != length:
                raise ProjectionError(name, f"has {array.shape[0]} entries where loan_id has {length}")
            object.__setattr__(self, name, array)
        if length and not names:
            raise ProjectionError("employer_names", "must name at least one employer")

    @property
    def n_loans(self) -> int:
        return int(self.loan_id.shape[0])

    @property
    def n_employers(self) -> int:
        return len(self.employer_names)


@dataclass(frozen=True)
class ClaimPolicy:
    """How the reserve pays a claim on a charged-off loan (Capital Access style, as ``reserve/``).

    The claim is the loss (balance at charge-off less what the car brings) times ``cap_share``, at
    most ``cap_cents`` when set. It is paid first from the loan's own commitment; what is left of the
    commitment then returns to available. With ``pooled`` the rest of the claim is paid from the
    available reserve, never beyond what is there (available never goes below zero); without it, a
    claim is paid from the loan's commitment only.
    """

    pooled: bool = True
    cap_share: float = 1.0
    cap_cents: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.pooled, bool):
            raise ProjectionError("policy.pooled", "must be true or false")
        object.__setattr__(self, "cap_share", _share("policy.cap_share", self.cap_share, low_open=True))
        if self.cap_cents is not None:
            _whole("policy.cap_cents", self.cap_cents, 1)


@dataclass(frozen=True)
class Reserve:
    """The reserve at the projection date: what is available (uncommitted) and the claim policy.

    What is committed to each loan is in :attr:`Portfolio.commitment_cents`.
    """

    available_cents: int
    policy: ClaimPolicy = field(default_factory=ClaimPolicy)

    def __post_init__(self) -> None:
        _whole("reserve.available_cents", self.available_cents, 0)
        if not isinstance(self.policy, ClaimPolicy):
            raise ProjectionError("reserve.policy", "must be a ClaimPolicy")


@dataclass(frozen=True)
class Closure:
    """An employer certainly in trouble: its borrowers follow the stressed matrix for these months.

    ``months=None`` lasts to the end of the horizon (a plant that closes for good).
    """

    employer: int
    start_month: int = 1
    months: int | None = None

    def __post_init__(self) -> None:
        _whole("closure.employer", self.employer, 0)
        _whole("closure.start_month", self.start_month, 1)
        if self.months is not None:
            _whole("closure.months", self.months, 1)


@dataclass(frozen=True)
class Assumptions:
    """Everything about the future the projection needs and the data cannot say.

    Attributes
    ----------
    horizon_months
        Months projected, 1..120 (default 36).
    paths
        Monte Carlo paths (default 10,000), at most ``max_paths``.
    seed
        Seed of the random numbers: the same seed gives the same figures. None draws a fresh one
        (reported in the result so the run can be repeated).
    recovery_rate
        Share of the balance at charge-off recovered by selling the car (default 0.35).
    originations_per_month
        New loans booked each month (the pipeline); each needs a commitment from available and
        is booked only if available can cover it.
    origination_amount_cents, origination_rate_bp, origination_term_months
        The pipeline's average loan: principal, note rate, term.
    commitment_share
        Share of a new loan's principal committed from available (default 0.15).
    grant_deposits_cents
        New grant money deposited into available each month (default 0).
    layoff_probability
        Probability per employer per year of a layoff episode (one number for all employers or one
        per employer). At most one episode per employer within the horizon; it puts all the
        employer's borrowers on the stressed matrix for ``layoff_months``.
    layoff_months
        Length of a layoff episode in months (default 6).
    stress_multiplier
        The stressed matrix is the normal one with delinquency-worsening probabilities multiplied
        by this (see :func:`risk.rollrate.worsen`), unless ``stressed_matrix`` is given.
    stressed_matrix
        An explicit stressed matrix (7 x 7), used as is for every path.
    roll_rate_multiplier
        Multiplies the worsening probabilities of the normal matrix (a scenario knob; default 1).
    closures
        Employers certainly stressed in given months (a plant closing).
    parameter_draws
        How many transition matrices to draw from the posterior; path ``i`` uses draw ``i mod
        parameter_draws``. 0 uses the posterior mean for every path (no parameter uncertainty).
    draw_payoffs_up_to
        Books of at most this many loans (default 5,000) get their payoffs drawn loan by loan in
        the Monte Carlo; bigger books get them as their expectation given the charge-offs, which
        is faster and leaves out payoff-timing noise (``risk.projection.montecarlo`` says how much
        that matters).
    max_paths
        Largest number of paths accepted (default 100,000).
    max_work
        Largest ``paths x loan groups x months`` accepted (default 5e9), so an absurd request is
        refused at once instead of running for hours.
    max_bytes
        Largest estimated peak memory of one run (default 1.5 GiB; see
        ``risk.projection.model.estimate_cost``): the parameter draws, not the paths, drive it.
    max_seconds
        Largest estimated running time of one run (default 15 minutes).
    """

    horizon_months: int = 36
    paths: int = 10_000
    seed: int | None = None
    recovery_rate: float = 0.35
    originations_per_month: int = 0
    origination_amount_cents: int = 1_200_000
    origination_rate_bp: int = 900
    origination_term_months: int = 60
    commitment_share: float = 0.15
    grant_deposits_cents: int = 0
    layoff_probability: float | tuple[float, ...] = 0.05
    layoff_months: int = 6
    stress_multiplier: float = 3.0
    stressed_matrix: FloatArray | None = field(default=None, compare=False)
    roll_rate_multiplier: float = 1.0
    closures: tuple[Closure, ...] = ()
    parameter_draws: int = 20
    draw_payoffs_up_to: int = 5_000
    max_paths: int = 100_000
    max_work: int = 5_000_000_000
    max_bytes: int = 1536 * 2**20
    max_seconds: int = 15 * 60

    def __post_init__(self) -> None:
        _whole("max_paths", self.max_paths, 1)
        _whole("max_work", self.max_work, 1)
        _whole("max_bytes", self.max_bytes, 1)
        _whole("max_seconds", self.max_seconds, 1)
        _whole("horizon_months", self.horizon_months, 1, MAX_HORIZON_MONTHS)
        _whole("paths", self.paths, 1)
        if self.paths > self.max_paths:
            raise ProjectionError("paths", f"{self.paths:,} is more than the limit of {self.max_paths:,}")
        if self.seed is not None:
            _whole("seed", self.seed, 0)
        object.__setattr__(self, "recovery_rate", _share("recovery_rate", self.recovery_rate))
        _whole("originations_per_month", self.originations_per_month, 0, 100_000)
        _whole(
            "origination_amount_cents",
            self.origination_amount_cents,
            to_cents(validation.MIN_PRINCIPAL),
            MAX_BALANCE_CENTS,
        )
        _whole("origination_rate_bp", self.origination_rate_bp, 0, MAX_RATE_BP)
        _whole("origination_term_months", self.origination_term_months, 1, validation.MAX_TERM_MONTHS)
        object.__setattr__(self, "commitment_share", _share("commitment_share", self.commitment_share))
        _whole("grant_deposits_cents", self.grant_deposits_cents, 0, 10**13)
        if isinstance(self.layoff_probability, Sequence) and not isinstance(self.layoff_probability, str):
            probabilities = tuple(
                _share(f"layoff_probability[{i}]", p) for i, p in enumerate(self.layoff_probability)
            )
            object.__setattr__(self, "layoff_probability", probabilities)
        else:
            object.__setattr__(
                self, "layoff_probability", _share("layoff_probability", self.layoff_probability)
            )
        _whole("layoff_months", self.layoff_months, 1, MAX_HORIZON_MONTHS)
        for name in ("stress_multiplier", "roll_rate_multiplier"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal | np.floating):
                raise ProjectionError(name, f"must be a number, not {type(value).__name__}")
            number = float(value)
            if not math.isfinite(number) or number < 0:
                raise ProjectionError(name, f"must be a finite number of at least 0, not {value}")
            object.__setattr__(self, name, number)
        if self.stressed_matrix is not None:
            object.__setattr__(
                self, "stressed_matrix", validate_matrix(self.stressed_matrix, "stressed_matrix")
            )
        closures = tuple(self.closures)
        if not all(isinstance(c, Closure) for c in closures):
            raise ProjectionError("closures", "must be Closure values")
        if len({c.employer for c in closures}) != len(closures):
            raise ProjectionError("closures", "name each employer at most once")
        object.__setattr__(self, "closures", closures)
        _whole("parameter_draws", self.parameter_draws, 0, MAX_PARAMETER_DRAWS)
        _whole("draw_payoffs_up_to", self.draw_payoffs_up_to, 0)

    def layoff_probabilities(self, n_employers: int) -> FloatArray:
        """Yearly layoff probability of each employer, checked against the number of employers."""
        if isinstance(self.layoff_probability, tuple):
            if len(self.layoff_probability) != n_employers:
                raise ProjectionError(
                    "layoff_probability",
                    f"has {len(self.layoff_probability)} entries for {n_employers} employers",
                )
            return np.array(self.layoff_probability, dtype=np.float64)
        return np.full(n_employers, float(self.layoff_probability))

    def check_against(self, portfolio: Portfolio) -> None:
        """Refuse assumptions that do not fit the portfolio (closures of unknown employers...)."""
        for closure in self.closures:
            if closure.employer >= portfolio.n_employers:
                raise ProjectionError(
                    "closures", f"employer {closure.employer} is not one of {portfolio.n_employers} employers"
                )
        self.layoff_probabilities(portfolio.n_employers)


def portfolio_from_loans(
    *,
    balance_cents: Sequence[int] | npt.ArrayLike,
    rate_bp: Sequence[int] | npt.ArrayLike,
    remaining_term: Sequence[int] | npt.ArrayLike,
    payment_cents: Sequence[int] | npt.ArrayLike,
    employer: Sequence[int] | npt.ArrayLike,
    commitment_cents: Sequence[int] | npt.ArrayLike,
    employer_names: Sequence[str],
    state: Sequence[int] | npt.ArrayLike | None = None,
    loan_id: Sequence[int] | npt.ArrayLike | None = None,
) -> Portfolio:
    """A :class:`Portfolio` with ids 0..n-1 and every loan current unless told otherwise."""
    n = int(np.asarray(balance_cents).shape[0])
    return Portfolio(
        loan_id=np.arange(n, dtype=np.int64) if loan_id is None else np.asarray(loan_id),
        state=np.zeros(n, dtype=np.int64) if state is None else np.asarray(state),
        balance_cents=np.asarray(balance_cents),
        rate_bp=np.asarray(rate_bp),
        remaining_term=np.asarray(remaining_term),
        payment_cents=np.asarray(payment_cents),
        employer=np.asarray(employer),
        commitment_cents=np.asarray(commitment_cents),
        employer_names=tuple(employer_names),
    )
