"""The projection's assumptions: what staff may set, how each value is checked, and their versions.

Every setting is described once in :data:`SETTINGS`; the staff form, the API's overrides and the CLI
all check values with :func:`parse`. Saved assumptions are append-only versions
(:class:`~loanapp.projections.models.AssumptionSet`), each change audited with what changed.
Probabilities are shares from 0 to 1; money is exact Decimal dollars, stored as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select

from loanapp.audit.trail import record
from loanapp.extensions import db
from loanapp.projections.models import AssumptionSet
from risk import validation
from risk.money import CENT, has_at_most_cents, to_cents
from risk.projection import Assumptions

KINDS = ("share", "number", "money", "percent", "whole")
#: An upper bound this high is no real bound: the model refuses more against a configured limit
#: (``PROJECTION_MAX_PATHS``) with its own message.
NO_PRACTICAL_LIMIT = Decimal(10**12)


@dataclass(frozen=True)
class Setting:
    """One assumption staff can set. ``low``/``high`` bound the value (inclusive)."""

    name: str
    label: str
    help: str
    kind: str
    low: Decimal
    high: Decimal


def _setting(name: str, label: str, help: str, kind: str, low: str, high: str) -> Setting:
    return Setting(name, label, help, kind, Decimal(low), Decimal(high))


SETTINGS: tuple[Setting, ...] = (
    _setting(
        "recovery_rate",
        "Recovery rate",
        "Share of the balance at charge-off recovered by selling the car (0 to 1).",
        "share",
        "0",
        "1",
    ),
    _setting(
        "layoff_probability",
        "Layoff probability",
        "Probability per employer per year of a layoff episode at that employer (0 to 1).",
        "share",
        "0",
        "1",
    ),
    _setting(
        "layoff_months",
        "Layoff length (months)",
        "How long a layoff keeps the employer's borrowers on the stressed roll rates.",
        "whole",
        "1",
        "120",
    ),
    _setting(
        "stress_multiplier",
        "Layoff stress multiplier",
        "During a layoff, the chances of falling further behind are multiplied by this.",
        "number",
        "0",
        "50",
    ),
    _setting(
        "roll_rate_multiplier",
        "Roll-rate multiplier",
        "Multiplies the chances of falling further behind for everyone (1 = as estimated).",
        "number",
        "0",
        "50",
    ),
    _setting(
        "originations_per_month",
        "New loans per month",
        "Loans the pipeline books each month; each needs its commitment from available.",
        "whole",
        "0",
        "100000",
    ),
    _setting(
        "origination_amount",
        "Average new loan",
        "Principal of the pipeline's average loan, in dollars.",
        "money",
        str(validation.MIN_PRINCIPAL),
        str(validation.MAX_PRINCIPAL),
    ),
    _setting(
        "origination_rate",
        "Average note rate (%)",
        "Annual note rate of the pipeline's average loan, in percent.",
        "percent",
        "0",
        str(validation.MAX_ANNUAL_RATE),
    ),
    _setting(
        "origination_term_months",
        "Average term (months)",
        "Term of the pipeline's average loan.",
        "whole",
        "1",
        "120",
    ),
    _setting(
        "grant_deposits_per_month",
        "New grant money per month",
        "Grant money expected into the reserve each month, in dollars (0 for none).",
        "money",
        "0",
        "100000000",
    ),
    _setting(
        "grant_target_probability",
        "Target chance of running out",
        "The grant needed is the smallest that keeps the chance the reserve runs out within the "
        "horizon at or under this (0.05 = 5%).",
        "share",
        "0.001",
        "0.5",
    ),
    _setting(
        "grant_by_months",
        "Grant arrives within (months)",
        "The grant needed is counted as arriving this many months ahead (within the horizon).",
        "whole",
        "1",
        "120",
    ),
    _setting(
        "parameter_draws",
        "Roll-rate draws",
        "Transition matrices drawn from the estimate's uncertainty (0 uses the estimate alone).",
        "whole",
        "0",
        "200",
    ),
    _setting(
        "history_months",
        "Months of history used",
        "Months of bucket history the roll rates are estimated from (0 for all of it).",
        "whole",
        "0",
        "600",
    ),
    _setting(
        "paths",
        "Monte Carlo paths",
        "Simulated futures per scenario; more paths, steadier percentiles, longer runs.",
        "whole",
        "1",
        "1000000000000",
    ),
    _setting(
        "horizon_months",
        "Horizon (months)",
        "How many months ahead to project.",
        "whole",
        "1",
        "120",
    ),
)
BY_NAME = {s.name: s for s in SETTINGS}


class AssumptionErrors(ValueError):
    """Values that cannot be used, by setting name (the form and the API show them per field)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _number(value: Any) -> Decimal:
    if isinstance(value, bool | float):
        # Floats are refused so a share like 0.1 is exactly what was meant (JSON numbers arrive as
        # Decimal through the API's parser; forms send text).
        raise ValueError("Send the value as text or an exact number, e.g. '0.35'.")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError("Enter a number.") from None
    if not number.is_finite():
        raise ValueError("Enter a finite number.")
    return number


def parse_value(setting: Setting, value: Any) -> Decimal | int:
    """The checked value of one setting (raises ``ValueError`` with a message for the user)."""
    number = _number(value)
    if number < setting.low or number > setting.high:
        if setting.kind == "share":
            raise ValueError(f"Must be a probability between {setting.low} and {setting.high}.")
        if setting.high >= NO_PRACTICAL_LIMIT:  # the real limit is a setting the model applies (paths)
            raise ValueError(f"Must be at least {setting.low:,}.")
        raise ValueError(f"Must be between {setting.low:,} and {setting.high:,}.")
    if setting.kind == "whole":
        if number != number.to_integral_value():
            raise ValueError("Must be a whole number.")
        return int(number)
    if setting.kind in ("money", "percent"):
        if not has_at_most_cents(number):
            raise ValueError("Use at most two decimals.")
        return number.quantize(CENT)
    return number


def parse(raw: Mapping[str, Any], *, partial: bool = True) -> dict[str, Decimal | int]:
    """Checked values of the settings in ``raw``; unknown names and bad values raise
    :class:`AssumptionErrors` naming each field. With ``partial=False`` every setting is required."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Decimal | int] = {}
    for name, value in raw.items():
        setting = BY_NAME.get(name)
        if setting is None:
            errors[name] = ["Unknown assumption."]
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = ["Enter a value."]
            continue
        try:
            values[name] = parse_value(setting, value)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if not partial:
        for setting in SETTINGS:
            if setting.name not in raw:
                errors.setdefault(setting.name, ["Enter a value."])
    if errors:
        raise AssumptionErrors(errors)
    return values


def stored(values: Mapping[str, Decimal | int]) -> dict[str, str | int]:
    """JSON form: whole numbers as ints, the rest as exact strings."""
    return {k: v if isinstance(v, int) else f"{v:f}" for k, v in values.items()}


def defaults(config: Mapping[str, Any]) -> dict[str, Decimal | int]:
    """The programme's defaults (``PROJECTION_ASSUMPTIONS``), checked like any input."""
    return parse(config["PROJECTION_ASSUMPTIONS"], partial=False)


def current_set() -> AssumptionSet | None:
    return db.session.scalar(select(AssumptionSet).order_by(AssumptionSet.version.desc()).limit(1))


def values_of(assumption_set: AssumptionSet | None, config: Mapping[str, Any]) -> dict[str, Decimal | int]:
    """A version's values over the defaults (a setting added after the version was saved keeps its default)."""
    values = defaults(config)
    if assumption_set is not None:
        known = {k: v for k, v in assumption_set.values.items() if k in BY_NAME}
        values.update(parse(known))
    return values


def save(
    raw: Mapping[str, Any], *, actor: Any, note: str, config: Mapping[str, Any]
) -> tuple[AssumptionSet, dict[str, tuple[Any, Any]]]:
    """Save a new version from the staff's values; returns it and what changed (old, new).

    The values must make a usable projection (:func:`risk_assumptions` is tried first), so a
    version that cannot run is never saved. Saving unchanged values saves nothing (returns the
    current version and no changes).
    """
    values = parse(raw, partial=False)
    risk_assumptions(values, config)
    current = current_set()
    before = values_of(current, config)
    changes = {k: (before.get(k), v) for k, v in values.items() if before.get(k) != v}
    if current is not None and not changes:
        return current, {}
    next_version = (db.session.scalar(select(func.max(AssumptionSet.version))) or 0) + 1
    version = AssumptionSet(
        version=next_version, values=stored(values), note=note.strip()[:500], created_by=actor.id
    )
    db.session.add(version)
    db.session.flush()
    record(
        "projection.assumptions_saved",
        "projection_assumption_set",
        version.id,
        actor=actor,
        details={
            "version": next_version,
            "note": version.note,
            "changes": {k: {"from": old, "to": new} for k, (old, new) in changes.items()},
        },
    )
    return version, changes


def risk_assumptions(
    values: Mapping[str, Decimal | int], config: Mapping[str, Any], *, seed: int | None = None
) -> Assumptions:
    """The model's :class:`~risk.projection.Assumptions` from checked values and the programme's
    settings (commitment share from the reserve policy, the work limits).

    Raises :class:`~risk.rollrate.ProjectionError` for a combination the model refuses (paths over
    the limit...).
    """
    return Assumptions(
        horizon_months=int(values["horizon_months"]),
        paths=int(values["paths"]),
        seed=seed,
        recovery_rate=float(values["recovery_rate"]),
        originations_per_month=int(values["originations_per_month"]),
        origination_amount_cents=to_cents(Decimal(values["origination_amount"])),
        origination_rate_bp=int(Decimal(values["origination_rate"]) * 100),
        origination_term_months=int(values["origination_term_months"]),
        commitment_share=float(Decimal(str(config["RESERVE_COMMITMENT_SHARE"]))),
        grant_deposits_cents=to_cents(Decimal(values["grant_deposits_per_month"])),
        layoff_probability=float(values["layoff_probability"]),
        layoff_months=int(values["layoff_months"]),
        stress_multiplier=float(values["stress_multiplier"]),
        roll_rate_multiplier=float(values["roll_rate_multiplier"]),
        parameter_draws=int(values["parameter_draws"]),
        max_paths=int(config["PROJECTION_MAX_PATHS"]),
        max_work=int(config["PROJECTION_MAX_WORK"]),
        max_bytes=int(config["PROJECTION_MAX_MEMORY_BYTES"]),
        max_seconds=int(config["PROJECTION_MAX_SECONDS"]),
    )


def with_overrides(
    values: Mapping[str, Decimal | int], overrides: Mapping[str, Decimal | int]
) -> dict[str, Decimal | int]:
    merged = dict(values)
    merged.update(overrides)
    return merged
