"""Risk projection of the loan-loss reserve: how much it will pay in claims, when, and how surely.

* :func:`expected_projection`: the analytic month-by-month expectation (charge-offs, losses,
  claims under the policy, releases, pipeline commitments, available, month of exhaustion).
* :func:`simulate`: the Monte Carlo draw-down (percentile bands, probability of exhaustion,
  distribution of total claims), with layoffs correlated within an employer and the transition
  matrix's own uncertainty.
* :func:`reference_simulation`: the same model loan by loan, slow and obvious, for validation.

The model is described in :mod:`risk.projection.model`, the Monte Carlo's method and its
approximations in :mod:`risk.projection.montecarlo`; the roll-rate estimate in :mod:`risk.rollrate`,
named stress scenarios in :mod:`risk.scenarios`. Pure numpy: no web framework, no database.
"""

from risk.projection.expected import expected_projection
from risk.projection.inputs import (
    MAX_HORIZON_MONTHS,
    MAX_PARAMETER_DRAWS,
    Assumptions,
    ClaimPolicy,
    Closure,
    Portfolio,
    Reserve,
    portfolio_from_loans,
)
from risk.projection.montecarlo import simulate
from risk.projection.reference import reference_simulation
from risk.projection.results import Band, ClaimsDistribution, ExpectedProjection, SimulationResult
from risk.rollrate import ProjectionError

__all__ = [
    "MAX_HORIZON_MONTHS",
    "MAX_PARAMETER_DRAWS",
    "Assumptions",
    "Band",
    "ClaimPolicy",
    "ClaimsDistribution",
    "Closure",
    "ExpectedProjection",
    "Portfolio",
    "ProjectionError",
    "Reserve",
    "SimulationResult",
    "expected_projection",
    "portfolio_from_loans",
    "reference_simulation",
    "simulate",
]
