"""The public JSON shape of a projection run, one for the API and the CLI.

A stored result keeps money in whole cents under keys ending in ``_cents`` (``results.py``); the
public document shows it as exact dollar strings ("1234.56", through ``risk.money.from_cents``, so
no float ever touches an amount) under the key without the suffix, and leaves every other figure
(probabilities, counts, months) as it is. :func:`money_strings` does that for any nesting, so a
figure added to the result later is converted without a change here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from loanapp.extensions import db
from loanapp.projections.models import AssumptionSet, ProjectionRun
from risk.money import from_cents

CENTS_SUFFIX = "_cents"
#: Where a run is read through the API (``loanapp.projections.api``'s blueprint prefix).
API_PATH = "/api/v1/projections"


def _dollars(value: Any) -> Any:
    """Cents (an int, or lists and mappings of them) as exact dollar strings; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{value!r} is not an amount in cents")
    if isinstance(value, int):
        return f"{from_cents(value):f}"
    if isinstance(value, list | tuple):
        return [_dollars(v) for v in value]
    if isinstance(value, Mapping):
        return {key: _dollars(v) for key, v in value.items()}
    # A float here would be a rounding already done wrong upstream: refuse it rather than show it.
    raise TypeError(f"{value!r} is not an amount in whole cents")


def money_strings(value: Any) -> Any:
    """The document with every ``*_cents`` key renamed without the suffix and its cents as dollars.

    >>> money_strings({"available_cents": {"p50": [123456, -5]}, "exhaustion_probability": [0.5]})
    {'available': {'p50': ['1234.56', '-0.05']}, 'exhaustion_probability': [0.5]}
    >>> money_strings({"total_claims": {"mean_cents": 100, "percentiles": [5.0, 95.0]}})
    {'total_claims': {'mean': '1.00', 'percentiles': [5.0, 95.0]}}
    """
    if isinstance(value, Mapping):
        converted: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(CENTS_SUFFIX) and len(key) > len(CENTS_SUFFIX):
                name, item = key[: -len(CENTS_SUFFIX)], _dollars(item)
            else:
                name, item = key, money_strings(item)
            if name in converted:
                raise ValueError(f"{key!r} would replace the figure {name!r} already in the document")
            converted[name] = item
        return converted
    if isinstance(value, list | tuple):
        return [money_strings(v) for v in value]
    return value


def _moment(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    # Stored in UTC; SQLite hands the moment back without its zone.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat()


def run_document(run: ProjectionRun, assumption_set: AssumptionSet | None = None) -> dict[str, Any]:
    """A projection run as the API answers it and the CLI prints it.

    The seed is a string (here and in the result): it can exceed 2**53, past which JSON readers in
    JavaScript lose digits.
    ``assumption_set_version`` is None when the run used the programme's defaults. ``id`` and
    ``links`` are None for a CLI run that was not saved.
    """
    if assumption_set is None and run.assumption_set_id is not None:
        assumption_set = db.session.get(AssumptionSet, run.assumption_set_id)
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "progress": run.progress,
        "source": run.source,
        "as_of": run.as_of.isoformat(),
        "scenario": run.scenario,
        "paths": run.paths,
        "horizon_months": run.horizon_months,
        "seed": str(run.seed),
        "assumption_set_version": None if assumption_set is None else assumption_set.version,
        "overrides": dict(run.overrides or {}),
        "requested_at": _moment(run.requested_at),
        "started_at": _moment(run.started_at),
        "finished_at": _moment(run.finished_at),
        "error": run.error or "",
        "links": None if run.id is None else {"self": f"{API_PATH}/{run.id}"},
        "result": None if run.result is None else result_document(run.result),
    }


def result_document(result: Mapping[str, Any]) -> dict[str, Any]:
    """A stored result as the public document: money as dollar strings, the seed as a string."""
    document: dict[str, Any] = money_strings(result)
    if document.get("seed") is not None:
        document["seed"] = str(document["seed"])
    return document
