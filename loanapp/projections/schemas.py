"""JSON shapes of the projections API: the request for a projection and the run it answers with.

Types and shapes are checked here (and the bounds of paths and horizon_months, read from the same
``assumptions.SETTINGS``); the assumptions' values, the configured paths limit, the matrices'
probabilities and the scenario's name are checked by ``runs.submit``, so the page, the API and the
CLI refuse the same things with the same words.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from loanapp.config import Defaults
from loanapp.projections.assumptions import BY_NAME, SETTINGS
from loanapp.projections.models import RUN_KINDS, RUN_STATUSES
from loanapp.projections.results import ALL
from loanapp.projections.runs import SEED_LIMIT
from risk.rollrate import N_STATES
from risk.scenarios import SCENARIOS

#: Set at the top level of a request, not under ``assumptions``.
SIZE_SETTINGS = ("paths", "horizon_months")
#: The model's name of a value (``risk.projection.Assumptions``) -> the setting it comes from, so a
#: refusal by the model names what the user set.
SETTING_OF_MODEL_FIELD = {
    "origination_amount_cents": "origination_amount",
    "origination_rate_bp": "origination_rate",
    "grant_deposits_cents": "grant_deposits_per_month",
}
STATE_NAMES = "current, 30-59, 60-89, 90-119, 120+ days past due, charged off, paid off"


def setting_of(field: str) -> str | None:
    """The assumption setting a refusal's field is about, or None when it is not a setting."""
    name = SETTING_OF_MODEL_FIELD.get(field, field)
    return name if name in BY_NAME else None


class ProjectionWholeNumber(fields.Integer):
    """A whole number: 36, "36" or 36.0, but not 36.5 (which ``fields.Integer`` would cut to 36)."""

    def _format_num(self, value: Any) -> int:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(value) from None
        if number.is_finite() and number != number.to_integral_value():
            raise ValueError(value)
        return int(number)


def _bounded(name: str, **kwargs: Any) -> fields.Integer:
    setting = BY_NAME[name]
    return ProjectionWholeNumber(
        validate=validate.Range(min=int(setting.low), max=int(setting.high)),
        metadata={"description": setting.help},
        **kwargs,
    )


def _setting_field(name: str) -> fields.Raw:
    setting = BY_NAME[name]
    allowed = {
        "share": "",  # the help says it is a share from 0 to 1
        "money": f" Dollars, at most two decimals, {setting.low} to {setting.high}.",
        "percent": f" At most two decimals, {setting.low} to {setting.high}.",
        "whole": f" A whole number, {setting.low} to {setting.high}.",
        "number": f" From {setting.low} to {setting.high}.",
    }[setting.kind]
    return fields.Raw(
        metadata={
            "description": setting.help + allowed,
            "oneOf": [{"type": "string"}, {"type": "number"}],
            "example": str(Defaults.PROJECTION_ASSUMPTIONS[name]),
        }
    )


ProjectionAssumptionsSchema = Schema.from_dict(
    {s.name: _setting_field(s.name) for s in SETTINGS if s.name not in SIZE_SETTINGS},
    name="ProjectionAssumptionsSchema",
)


class ProjectionMatrix(fields.List[Any]):
    """A 7 x 7 monthly transition matrix: rows and columns in bucket order (current first, then
    30-59 ... 120+ days past due, charged off, paid off). Entries are exact numbers or numeric
    strings; whether each is a probability and each row sums to 1 is checked with the request."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].update(minItems=N_STATES, maxItems=N_STATES)
        super().__init__(
            fields.List(fields.Float(), metadata={"minItems": N_STATES, "maxItems": N_STATES}), **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        shape = f"Send {N_STATES} rows of {N_STATES} probabilities (states {STATE_NAMES})."
        if not isinstance(value, list) or len(value) != N_STATES:
            raise ValidationError(shape)
        rows = []
        for row in value:
            if not isinstance(row, list) or len(row) != N_STATES:
                raise ValidationError(shape)
            rows.append([self._entry(v) for v in row])
        return rows

    @staticmethod
    def _entry(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise ValidationError("Each entry must be a number from 0 to 1.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError("Each entry must be a number from 0 to 1.") from None
        if not number.is_finite():
            raise ValidationError("Each entry must be a finite number.")
        return number


class ProjectionRequestSchema(Schema):
    """Everything is optional: an empty body projects the base case with the saved assumptions."""

    paths = _bounded("paths", load_default=None)
    horizon_months = _bounded("horizon_months", load_default=None)
    seed = ProjectionWholeNumber(
        load_default=None,
        validate=validate.Range(min=0, max=SEED_LIMIT - 1),
        metadata={
            "description": "Same seed, same figures. Drawn when left out; the run reports it (as a string).",
            "example": 42,
        },
    )
    scenario = fields.String(
        load_default="base",
        metadata={
            "description": "The base case, the base case beside one scenario, or every scenario.",
            "enum": [*SCENARIOS, ALL],
        },
    )
    assumptions = fields.Nested(
        ProjectionAssumptionsSchema,
        load_default=dict,
        unknown=INCLUDE,  # an unknown name is reported by the assumptions' own check, per field
        metadata={"description": "Overrides of the saved assumptions for this projection only."},
    )
    transition_matrix = ProjectionMatrix(
        load_default=None,
        metadata={"description": "Replaces the roll rates estimated from the bucket history."},
    )
    stressed_matrix = ProjectionMatrix(
        load_default=None,
        metadata={"description": "Replaces the layoff stress (the normal matrix worsened)."},
    )

    @validates_schema
    def _sizes_at_the_top(self, data: dict[str, Any], **kwargs: Any) -> None:
        misplaced = [name for name in SIZE_SETTINGS if name in (data.get("assumptions") or {})]
        if misplaced:
            raise ValidationError(
                {
                    f"assumptions.{name}": [f"Set {name} at the top level of the request."]
                    for name in misplaced
                }
            )


class ProjectionLinksSchema(Schema):
    self = fields.String(metadata={"description": "Where to read this run."})


class ProjectionRunSchema(Schema):
    """A projection run; ``result`` is there once it succeeded."""

    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(RUN_KINDS)})
    status = fields.String(metadata={"enum": list(RUN_STATUSES)})
    progress = fields.Integer(metadata={"description": "Percent done."})
    source = fields.String(metadata={"enum": ["page", "api", "cli", "job"]})
    as_of = fields.String(
        metadata={"format": "date", "description": "The book and reserve it projects from."}
    )
    scenario = fields.String()
    paths = fields.Integer()
    horizon_months = fields.Integer()
    seed = fields.String(metadata={"description": "A whole number, as a string (it can exceed 2^53)."})
    assumption_set_version = fields.Integer(
        allow_none=True, metadata={"description": "The saved assumptions it used; null: the defaults."}
    )
    overrides = fields.Dict(metadata={"description": "What the request changed from those assumptions."})
    requested_at = fields.String(metadata={"format": "date-time"})
    started_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    finished_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    error = fields.String(metadata={"description": "Why a failed run failed."})
    links = fields.Nested(ProjectionLinksSchema)
    result = fields.Dict(
        allow_none=True,
        metadata={
            "description": (
                'The projection: money as exact dollar strings ("1234.56"), probabilities and counts '
                "as numbers, one list entry per month. `book` (loans, outstanding, committed, available "
                "today), `expected` (the average case: the reserve run once on average rates; claims, "
                "loss, available... by month), `scenarios` (per scenario: `available` and "
                "`cumulative_claims` {p5, p50, p95}, `exhaustion_probability`, means, `total_claims` "
                "{mean, std, percentiles, values, histogram}; `total_claims.mean` is the expected claims; "
                "`same_as_base` and `same_as_base_reason` when a scenario changes nothing), "
                "`grant_needed` {`target_probability`, `amount` (null: no grant arriving by then can "
                "meet the target), `by_date`, `probability`, `probability_without`, "
                "`before_grant_probability`, `step`}, `transitions` (the roll-rate estimate), "
                "`concentration` (by employer), `assumptions` (the values used)."
            )
        },
    )


class ProjectionLatestQuerySchema(Schema):
    kind = fields.String(
        load_default=None,
        validate=validate.OneOf(RUN_KINDS),
        metadata={"description": "Only requested projections, or only monthly snapshots."},
    )
