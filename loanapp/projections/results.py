"""One projection, from the book's inputs to the stored result document. No request, no database.

The document is plain JSON: money in whole cents (ints, as ``risk.projection`` rounds them: half up,
each figure on its own), probabilities and expected counts as numbers, one list entry per month.
The API and the page turn cents into dollars with ``risk.money.from_cents``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from loanapp.projections.assumptions import risk_assumptions, stored
from loanapp.projections.book import ProjectionInputs
from risk.dates import add_months
from risk.projection import Assumptions, ExpectedProjection, ProjectionError, SimulationResult
from risk.projection import expected_projection as expected_model
from risk.projection.grant import GrantNeeded, grant_needed
from risk.projection.model import Cost, check_work, estimate_cost, group_loans
from risk.rollrate import DEFAULT_PRIOR, TransitionEstimate, estimate_transitions, validate_matrix
from risk.scenarios import SCENARIOS, concentration, run_scenarios, scenario_assumptions

ALL = "all"
#: The grant search (:mod:`risk.projection.grant`) costs about this many scenario runs: one pass of
#: the base case keeping its book events, then about eight re-settlements of the reserve.
GRANT_SEARCH_RUNS = 4
#: Why a scenario can give exactly the base case's figures (same seed, so equal means no change).
SAME_AS_BASE_REASONS = {
    "no_new_grant_money": "the assumptions already expect no new grant money",
    "recovery_rate_halves": "the assumptions already expect nothing from selling the cars",
    "largest_employer_closes": "the largest employer's closing changes nothing in this book",
    "roll_rates_x2": "doubling the roll rates changes nothing in this book",
}
#: Scenarios that need at least one loan in the book (they pick an employer by its balance).
NEEDS_LOANS = frozenset({"largest_employer_closes"})


@dataclass(frozen=True)
class ProjectionSpec:
    """What to project: checked assumption values, the scenario(s), the seed, optional matrices.

    ``transition_matrix`` replaces the estimate from the bucket history (a "what if the roll rates
    were these" run, no parameter uncertainty); ``stressed_matrix`` replaces the layoff stress.
    """

    values: Mapping[str, Decimal | int]
    scenario: str
    seed: int
    transition_matrix: tuple[tuple[float, ...], ...] | None = None
    stressed_matrix: tuple[tuple[float, ...], ...] | None = None


def scenario_names(scenario: str, inputs: ProjectionInputs) -> list[str]:
    """The scenarios a request runs: base alone, base beside one scenario, or all of them."""
    if scenario == ALL:
        names = list(SCENARIOS)
        if inputs.portfolio.n_loans == 0:
            names = [n for n in names if n not in NEEDS_LOANS]
        return names
    if scenario not in SCENARIOS:
        known = ", ".join([*SCENARIOS, ALL])
        raise ProjectionError("scenario", f"unknown scenario {scenario!r}; known: {known}")
    if scenario in NEEDS_LOANS and inputs.portfolio.n_loans == 0:
        raise ProjectionError("scenario", "the book has no loans, so there is no largest employer")
    return ["base"] if scenario == "base" else ["base", scenario]


def matrix_of(rows: Sequence[Sequence[Any]], field: str) -> tuple[tuple[float, ...], ...]:
    """A checked 7 x 7 transition matrix as nested tuples (JSON numbers arrive as Decimal)."""
    try:
        array = np.array([[float(Decimal(str(v))) for v in row] for row in rows], dtype=np.float64)
    except (TypeError, ValueError, ArithmeticError):
        raise ProjectionError(field, "must be a 7 x 7 array of probabilities") from None
    checked = validate_matrix(array, field)
    return tuple(tuple(float(v) for v in row) for row in checked)


def transitions_for(spec: ProjectionSpec, inputs: ProjectionInputs) -> TransitionEstimate:
    if spec.transition_matrix is not None:
        return TransitionEstimate.fixed(np.array(spec.transition_matrix))
    return estimate_transitions(inputs.counts)


def model_assumptions(spec: ProjectionSpec, config: Mapping[str, Any]) -> Assumptions:
    assumptions = risk_assumptions(spec.values, config, seed=spec.seed)
    if spec.stressed_matrix is not None:
        assumptions = dataclasses.replace(assumptions, stressed_matrix=np.array(spec.stressed_matrix))
    return assumptions


def check(spec: ProjectionSpec, inputs: ProjectionInputs, config: Mapping[str, Any]) -> list[str]:
    """Refuse, before any work, what the models would refuse; returns the scenarios to run."""
    names = scenario_names(spec.scenario, inputs)
    assumptions = model_assumptions(spec, config)
    for name in names:
        scenario = scenario_assumptions(inputs.portfolio, assumptions, name)
        scenario.check_against(inputs.portfolio)
    book = group_loans(inputs.portfolio, assumptions)
    # The grant search keeps one run's path records more, and takes about GRANT_SEARCH_RUNS runs' time.
    check_work(assumptions, book.n_groups, book.class_state.shape[0], scenarios=len(names) + 1)
    cost = cost_of(spec, inputs, config)
    if cost.seconds > assumptions.max_seconds:
        raise ProjectionError(
            "paths",
            f"this run would take about {cost.seconds / 60:,.0f} minutes, more than the limit of "
            f"{assumptions.max_seconds / 60:,.0f}; ask for fewer paths, draws or months",
        )
    if int(spec.values["grant_by_months"]) > assumptions.horizon_months:
        raise ProjectionError(
            "grant_by_months", f"must be within the horizon (1 to {assumptions.horizon_months} months)"
        )
    return names


def cost_of(spec: ProjectionSpec, inputs: ProjectionInputs, config: Mapping[str, Any]) -> Cost:
    """Estimated peak memory and time of the whole request (every scenario it runs)."""
    assumptions = model_assumptions(spec, config)
    book = group_loans(inputs.portfolio, assumptions)
    names = scenario_names(spec.scenario, inputs)
    classes = book.class_state.shape[0]
    memory = estimate_cost(assumptions, book.n_groups, classes, scenarios=len(names) + 1).bytes
    time = estimate_cost(
        assumptions, book.n_groups, classes, scenarios=len(names) + GRANT_SEARCH_RUNS
    ).seconds
    return Cost(memory, time)


def work_of(spec: ProjectionSpec, inputs: ProjectionInputs) -> int:
    """Paths x months x scenarios: what decides whether a request is answered at once or queued."""
    paths = int(spec.values["paths"])
    horizon = int(spec.values["horizon_months"])
    return paths * horizon * (len(scenario_names(spec.scenario, inputs)) + GRANT_SEARCH_RUNS)


def _ints(values: npt.ArrayLike) -> list[int]:
    return [int(v) for v in np.asarray(values).tolist()]


def _floats(values: npt.ArrayLike, places: int = 6) -> list[float]:
    return [round(float(v), places) for v in np.asarray(values).tolist()]


def _simulation(name: str, result: SimulationResult) -> dict[str, Any]:
    scenario = SCENARIOS[name]
    totals = result.total_claims
    return {
        "name": name,
        "title": scenario.title,
        "description": scenario.description,
        "available_cents": {
            "p5": _ints(result.available.p5),
            "p50": _ints(result.available.p50),
            "p95": _ints(result.available.p95),
        },
        "cumulative_claims_cents": {
            "p5": _ints(result.cumulative_claims.p5),
            "p50": _ints(result.cumulative_claims.p50),
            "p95": _ints(result.cumulative_claims.p95),
        },
        "exhaustion_probability": _floats(result.exhaustion_probability),
        "mean_available_cents": _ints(result.mean_available),
        "mean_committed_cents": _ints(result.mean_committed),
        "mean_cumulative_claims_cents": _ints(result.mean_cumulative_claims),
        "mean_charge_offs": _floats(result.mean_charge_offs),
        "mean_loss_cents": _ints(result.mean_loss_cents),
        "mean_new_loans": _floats(result.mean_new_loans),
        "total_claims": {
            "mean_cents": int(totals.mean_cents),
            "std_cents": int(totals.std_cents),
            "standard_error_cents": int(totals.standard_error_cents),
            "percentiles": _floats(totals.percentiles, 2),
            "values_cents": _ints(totals.values_cents),
            "histogram_edges_cents": _ints(totals.histogram_edges_cents),
            "histogram_counts": _ints(totals.histogram_counts),
        },
    }


def month_end_after(as_of: dt.date, months: int) -> dt.date:
    """The last day of the month ``months`` after the month of ``as_of``."""
    first = as_of.replace(day=1)
    return add_months(first, months + 1) - dt.timedelta(days=1)


def _grant(found: GrantNeeded, as_of: dt.date) -> dict[str, Any]:
    """The grant needed: ``amount_cents`` (whole $100s; None when no grant arriving by then can do it),
    the date it must arrive by (the end of its month) and what the search saw."""
    return {
        "target_probability": found.target_probability,
        "amount_cents": found.amount_cents,
        "by_date": month_end_after(as_of, found.month).isoformat(),
        "month": found.month,
        "probability": None if found.probability is None else round(found.probability, 6),
        "probability_without": round(found.probability_without, 6),
        "before_grant_probability": round(found.before_grant_probability, 6),
        "step_cents": found.step_cents,
        "evaluations": found.evaluations,
    }


def _same_as_base(entry: Mapping[str, Any], base: Mapping[str, Any]) -> bool:
    """The scenario's figures are the base case's to the cent (common random numbers: no change)."""
    skip = {"name", "title", "description", "same_as_base", "same_as_base_reason"}
    return all(entry[key] == base[key] for key in entry if key not in skip)


def _expected(result: ExpectedProjection) -> dict[str, Any]:
    return {
        "charge_offs": _floats(result.charge_offs),
        "payoffs": _floats(result.payoffs),
        "loss_cents": _ints(result.loss_cents),
        "claims_cents": _ints(result.claims_cents),
        "claims_from_commitments_cents": _ints(result.claims_from_commitments_cents),
        "claims_from_available_cents": _ints(result.claims_from_available_cents),
        "unpaid_claims_cents": _ints(result.unpaid_claims_cents),
        "releases_cents": _ints(result.releases_cents),
        "new_loans": _floats(result.new_loans),
        "new_commitments_cents": _ints(result.new_commitments_cents),
        "deposits_cents": _ints(result.deposits_cents),
        "available_cents": _ints(result.available_cents),
        "committed_cents": _ints(result.committed_cents),
        "exhaustion_month": result.exhaustion_month,
        "total_claims_cents": int(result.total_claims_cents),
        "total_loss_cents": int(result.total_loss_cents),
    }


def _transitions(estimate: TransitionEstimate, inputs: ProjectionInputs, overridden: bool) -> dict[str, Any]:
    return {
        "overridden": overridden,
        "matrix": [_floats(row) for row in estimate.matrix],
        "std": [_floats(row) for row in estimate.std],
        "counts": [_ints(row) for row in estimate.counts],
        "observed": _ints(estimate.observed),
        "prior_strength": _floats(estimate.prior_strength, 2),
        "data_weight": _floats(estimate.data_weight, 4),
        "months_of_history": inputs.transition_months,
        "prior_source": "" if overridden else DEFAULT_PRIOR.source,
    }


def project(
    spec: ProjectionSpec,
    inputs: ProjectionInputs,
    config: Mapping[str, Any],
    progress: Callable[[float], object] | None = None,
) -> dict[str, Any]:
    """Run the projection the spec asks for on the book and return the result document."""
    names = check(spec, inputs, config)
    assumptions = model_assumptions(spec, config)
    transitions = transitions_for(spec, inputs)
    portfolio, reserve = inputs.portfolio, inputs.reserve
    share = len(names) / (len(names) + GRANT_SEARCH_RUNS)

    def scenarios_progress(done: float) -> None:
        if progress is not None:
            progress(done * share)

    def grant_progress(done: float) -> None:
        if progress is not None:
            progress(share + done * (1 - share))

    simulations = run_scenarios(portfolio, reserve, transitions, assumptions, names, scenarios_progress)
    found = grant_needed(
        portfolio,
        reserve,
        transitions,
        assumptions,
        target=float(spec.values["grant_target_probability"]),
        month=int(spec.values["grant_by_months"]),
        progress=grant_progress,
    )
    expected = expected_model(portfolio, reserve, transitions, assumptions)
    spread = concentration(portfolio, reserve, transitions, assumptions)
    scenarios = [_simulation(name, simulations[name]) for name in names]
    for entry in scenarios[1:]:
        entry["same_as_base"] = _same_as_base(entry, scenarios[0])
        entry["same_as_base_reason"] = (
            SAME_AS_BASE_REASONS.get(entry["name"], "its change makes no difference here")
            if entry["same_as_base"]
            else ""
        )
    scenarios[0]["same_as_base"], scenarios[0]["same_as_base_reason"] = False, ""
    return {
        "as_of": inputs.as_of.isoformat(),
        "paths": assumptions.paths,
        "horizon_months": assumptions.horizon_months,
        "seed": spec.seed,
        "scenario": spec.scenario,
        "parameter_draws": next(iter(simulations.values())).parameter_draws,
        "assumptions": stored(spec.values),
        "matrices_overridden": {
            "transition_matrix": spec.transition_matrix is not None,
            "stressed_matrix": spec.stressed_matrix is not None,
        },
        "book": {
            "loans": portfolio.n_loans,
            "outstanding_cents": int(portfolio.balance_cents.sum()),
            "committed_cents": int(portfolio.commitment_cents.sum()),
            "available_cents": int(reserve.available_cents),
            "employers": portfolio.n_employers,
        },
        "transitions": _transitions(transitions, inputs, spec.transition_matrix is not None),
        "expected": _expected(expected),
        "grant_needed": _grant(found, inputs.as_of),
        "scenarios": scenarios,
        "concentration": [
            {
                "employer": spread.employer_names[i],
                "loans": int(spread.loans[i]),
                "balance_cents": int(spread.balance_cents[i]),
                "balance_share": round(float(spread.balance_share[i]), 6),
                "expected_loss_cents": int(spread.expected_loss_cents[i]),
                "expected_loss_share": round(float(spread.expected_loss_share[i]), 6),
            }
            for i in np.argsort(-spread.balance_cents, kind="stable")
        ],
    }


def scenario_result(document: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for entry in document.get("scenarios", ()):
        if entry["name"] == name:
            return entry  # type: ignore[no-any-return]
    return None
