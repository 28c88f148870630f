"""``flask --app loanapp project``: a projection of the reserve from the command line.

It runs on the current book with the saved assumptions and the options' changes, in this process
(with a progress bar on stderr, however big), and prints a summary table, a CSV of the monthly
bands or the run's JSON document (the API's shape). ``--save`` keeps it as a projection run.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from tqdm import tqdm

from loanapp.clock import business_date
from loanapp.db import utcnow
from loanapp.exports import dict_csv_text
from loanapp.extensions import db
from loanapp.formatting import money
from loanapp.jobs.commands import date_option
from loanapp.projections import runs
from loanapp.projections.assumptions import AssumptionErrors, parse, stored
from loanapp.projections.compare import claims_percentile, margin, month_end_after
from loanapp.projections.documents import run_document
from loanapp.projections.results import ALL, project
from loanapp.projections.schemas import SIZE_SETTINGS, setting_of
from risk.money import from_cents
from risk.rollrate import ProjectionError
from risk.scenarios import SCENARIOS

FORMATS = ("table", "csv", "json")
#: The option a field of the request comes from, to name it in an error.
OPTION_OF = {
    "paths": "--paths",
    "horizon_months": "--horizon",
    "seed": "--seed",
    "scenario": "--scenario",
}
#: The months the table shows the median available at (and the horizon's last).
TABLE_MONTHS = (12, 24, 36)
CSV_COLUMNS = (
    "scenario",
    "month",
    "month_end",
    "available_p5",
    "available_p50",
    "available_p95",
    "cumulative_claims_p5",
    "cumulative_claims_p50",
    "cumulative_claims_p95",
    "exhaustion_probability",
    "expected_claims",
)


def _settings(_ctx: Any, _param: Any, values: Sequence[str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for item in values:
        name, equals, value = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise click.BadParameter(f"{item!r}: write NAME=VALUE, e.g. recovery_rate=0.3")
        if name in SIZE_SETTINGS:
            raise click.BadParameter(f"set {name} with {OPTION_OF[name]}")
        settings[name] = value
    return settings


def _option(field: str) -> str:
    name = setting_of(field) or field
    return OPTION_OF.get(name, f"--set {name}")


def _refuse(errors: Mapping[str, Sequence[str]]) -> click.ClickException:
    """A usage error naming each option at fault (exit code 2, no traceback)."""
    named = {_option(field): " ".join(messages) for field, messages in errors.items()}
    if len(named) == 1:
        ((option, message),) = named.items()
        return click.BadParameter(message, param_hint=f"'{option}'")
    return click.UsageError("\n".join(f"{option}: {message}" for option, message in named.items()))


def _dollars(cents: int | None) -> str:
    return "—" if cents is None else money(from_cents(cents))


def table(result: Mapping[str, Any]) -> str:
    """A short summary per scenario: the chance the reserve runs out, the median available along
    the way, and the total claims."""
    horizon = int(result["horizon_months"])
    book = result["book"]
    months = sorted({m for m in TABLE_MONTHS if m <= horizon} | {horizon})
    paths = int(result["paths"])
    lines = [
        f"Projection of the reserve from {result['as_of']}: {result['paths']:,} paths, {horizon} months, "
        f"seed {result['seed']}",
        f"Book: {book['loans']:,} loans, {_dollars(book['outstanding_cents'])} outstanding, "
        f"{_dollars(book['committed_cents'])} committed, {_dollars(book['available_cents'])} available",
    ]
    for entry in result["scenarios"]:
        median = entry["available_cents"]["p50"]
        totals = entry["total_claims"]
        lines += [
            "",
            f"{entry['title']} ({entry['name']})",
            f"  P(reserve exhausted) by month {horizon}: {_probability(entry['exhaustion_probability'][-1], paths)}"
            + (
                f" (same as the base case: {entry['same_as_base_reason']})"
                if entry.get("same_as_base")
                else ""
            ),
            "  P50 available: " + ", ".join(f"month {m} {_dollars(median[m - 1])}" for m in months),
            f"  Total claims over {horizon} months: expected (mean) {_dollars(totals['mean_cents'])} "
            f"± {_dollars(totals['standard_error_cents'])}, P95 {_dollars(claims_percentile(totals, 95.0))}",
        ]
    grant = result.get("grant_needed")
    if grant is not None:
        target = f"{grant['target_probability']:.1%}"
        if grant["amount_cents"] is None:
            lines += [
                "",
                f"Grant needed by {grant['by_date']} to keep P(exhausted) at or under {target}: none can "
                f"(the reserve runs out before then in {grant['before_grant_probability']:.1%} of paths)",
            ]
        elif grant["amount_cents"] == 0:
            lines += [
                "",
                f"Grant needed by {grant['by_date']} to keep P(exhausted) at or under {target}: none "
                f"(without one: {_probability(grant['probability_without'], paths)})",
            ]
        else:
            lines += [
                "",
                f"Grant needed by {grant['by_date']} to keep P(exhausted) at or under {target}: "
                f"{_dollars(grant['amount_cents'])} (with it: {_probability(grant['probability'], paths)})",
            ]
    return "\n".join(lines) + "\n"


def _probability(value: float, paths: int) -> str:
    """A probability with its 95% sampling error in percentage points."""
    error = margin(value, paths) or 0.0
    return f"{value:.1%} ± {error * 100:.1f} points"


def csv_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per scenario and month; money in dollars ("1234.56"), the month's end date."""
    as_of = dt.date.fromisoformat(result["as_of"])
    rows = []
    for entry in result["scenarios"]:
        available, claims = entry["available_cents"], entry["cumulative_claims_cents"]
        # Expected claims: the scenario's mean over its paths, month by month (the same figure as its
        # total claims' mean, which these months add up to).
        cumulative = entry["mean_cumulative_claims_cents"]
        expected = [b - a for a, b in zip([0, *cumulative], cumulative, strict=False)]
        for index, probability in enumerate(entry["exhaustion_probability"]):
            month = index + 1
            rows.append(
                {
                    "scenario": entry["name"],
                    "month": month,
                    "month_end": month_end_after(as_of, month).isoformat(),
                    **{
                        f"available_{p}": f"{from_cents(available[p][index]):f}" for p in ("p5", "p50", "p95")
                    },
                    **{
                        f"cumulative_claims_{p}": f"{from_cents(claims[p][index]):f}"
                        for p in ("p5", "p50", "p95")
                    },
                    "exhaustion_probability": probability,
                    "expected_claims": f"{from_cents(expected[index]):f}",
                }
            )
    return rows


def _csv(result: Mapping[str, Any]) -> str:
    return dict_csv_text(CSV_COLUMNS, csv_rows(result), lineterminator="\n")


@click.command("project")
@with_appcontext
@click.option("--paths", type=int, help="Monte Carlo paths (default: the saved assumptions').")
@click.option("--horizon", type=int, help="Months ahead (default: the saved assumptions').")
@click.option(
    "--scenario",
    type=click.Choice([*SCENARIOS, ALL]),
    default="base",
    show_default=True,
    help="The base case, the base case beside one scenario, or all of them.",
)
@click.option("--seed", type=int, help="Same seed, same figures (default: a fresh one, printed).")
@click.option(
    "--as-of",
    "as_of",
    callback=date_option,
    metavar="YYYY-MM-DD",
    help="Project from the book on this date (default: today).",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    callback=_settings,
    metavar="NAME=VALUE",
    help="Change one saved assumption for this run, e.g. --set recovery_rate=0.3 (repeatable).",
)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file instead of standard output.",
)
@click.option("--save/--no-save", default=False, help="Keep the projection as a run (page and API).")
def project_command(
    paths: int | None,
    horizon: int | None,
    scenario: str,
    seed: int | None,
    as_of: dt.date | None,
    settings: dict[str, str],
    output_format: str,
    output: str | None,
    save: bool,
) -> None:
    """Project the reserve on the current book with the saved assumptions and these changes."""
    overrides: dict[str, Any] = dict(settings)
    for name, value in (("paths", paths), ("horizon_months", horizon)):
        if value is not None:
            overrides[name] = value
    day = as_of or business_date()
    request = runs.ProjectionRequest(scenario=scenario, seed=seed, overrides=overrides)
    started = utcnow()
    try:
        spec, inputs, assumption_set = runs.prepare(request, day, current_app.config)
    except AssumptionErrors as exc:
        raise _refuse(exc.errors) from None
    except ProjectionError as exc:
        raise _refuse({exc.field: [exc.message]}) from None
    with tqdm(
        total=100,
        desc="projection",
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
        file=sys.stderr,
        disable=None,
    ) as bar:

        def progress(done: float) -> None:
            bar.update(max(0, min(100, int(done * 100))) - bar.n)

        result = project(spec, inputs, current_app.config, progress)
        bar.update(100 - bar.n)
    run = runs.finished_run(
        spec,
        result,
        kind="request",
        as_of=day,
        assumption_set=assumption_set,
        overrides=stored(parse(overrides)),
        source="cli",
        started=started,
    )
    if save:
        runs.store(run)
        db.session.commit()
        click.echo(f"saved as projection run {run.id}", err=True)
    if output_format == "json":
        text = json.dumps(run_document(run, assumption_set), indent=2) + "\n"
    elif output_format == "csv":
        text = _csv(result)
    else:
        text = table(result)
    if output is None:
        click.echo(text, nl=False)
    else:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        click.echo(f"wrote {output}", err=True)
