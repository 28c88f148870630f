"""``/api/v1/projections``: asking for a projection, reading runs, refusals, access; the public run
document's money conversion."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select

from loanapp.audit.models import AuditEvent
from loanapp.extensions import db
from loanapp.projections import assumptions, runs
from loanapp.projections.documents import money_strings, result_document
from loanapp.projections.models import ProjectionRun
from tests.app.servicing.conftest import fund, make_loan, pay

URL = "/api/v1/projections"
MONEY = re.compile(r"^-?\d+\.\d{2}$")
TODAY = dt.date(2026, 5, 10)
# Rows and columns: current, 30-59, 60-89, 90-119, 120+, charged off, paid off. JSON floats.
MATRIX = [
    [0.93, 0.03, 0, 0, 0, 0, 0.04],
    [0.3, 0.4, 0.3, 0, 0, 0, 0],
    [0.1, 0.1, 0.4, 0.4, 0, 0, 0],
    [0.05, 0, 0.05, 0.4, 0.5, 0, 0],
    [0, 0, 0, 0, 0.5, 0.5, 0],
    [0, 0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
]


@pytest.fixture
def book(people: dict[str, Any], on_date: Any) -> dict[str, Any]:
    """$8,000 of grant money; three loans booked 2026-01-05, two paid on time, one never paid (94
    days past due on 2026-05-10); saved assumptions: 300 paths, 24 months, no pipeline."""
    fund(people, "8000.00")
    loans = [make_loan(people, amount=amount) for amount in ("8500.00", "6000.00", "4000.00")]
    for loan in loans[:2]:
        for month in (2, 3, 4, 5):
            pay(loan, str(loan.payment_amount), dt.date(2026, month, 5), people["officer"])
    on_date(TODAY)
    values = {
        **current_app.config["PROJECTION_ASSUMPTIONS"],
        "paths": 300,
        "horizon_months": 24,
        "originations_per_month": 0,
    }
    assumptions.save(values, actor=people["staff"], note="test book", config=current_app.config)
    db.session.commit()
    return {"loans": loans}


def counts() -> tuple[int, int]:
    """Projection runs and audit events stored."""
    return (
        db.session.scalar(select(func.count()).select_from(ProjectionRun)),
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
    )


def post(client: Any, headers: dict[str, str], body: dict[str, Any] | None = None) -> Any:
    return client.post(URL, json=body if body is not None else {}, headers=headers)


def assert_money(values: Any) -> list[Decimal]:
    assert all(isinstance(v, str) and MONEY.match(v) for v in values), values
    return [Decimal(v) for v in values]


# --- asking for a projection ---------------------------------------------------------------------------


def test_a_small_projection_runs_at_once_with_plausible_bands(
    book: dict[str, Any], client: Any, token_for: Any
) -> None:
    staff = token_for("staff")
    before = counts()
    response = post(client, staff, {"seed": 42, "scenario": "roll_rates_x2"})

    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    assert run["status"] == "succeeded" and run["kind"] == "request" and run["source"] == "api"
    assert run["progress"] == 100 and run["error"] == ""
    assert run["seed"] == "42" and run["paths"] == 300 and run["horizon_months"] == 24
    assert run["as_of"] == "2026-05-10" and run["scenario"] == "roll_rates_x2"
    assert run["assumption_set_version"] == 1 and run["overrides"] == {}
    assert run["links"] == {"self": f"{URL}/{run['id']}"}
    assert run["requested_at"] and run["finished_at"] >= run["started_at"]
    result = run["result"]
    assert result["seed"] == "42"
    # Today's reserve: $8,000 less the 15% committed to each loan.
    assert result["book"]["available"] == "5225.00" and result["book"]["committed"] == "2775.00"
    assert result["book"]["loans"] == 3
    assert [s["name"] for s in result["scenarios"]] == ["base", "roll_rates_x2"]
    for scenario in result["scenarios"]:
        assert not any(key.endswith("_cents") for key in scenario)
        for figure in ("available", "cumulative_claims"):
            p5, p50, p95 = (assert_money(scenario[figure][p]) for p in ("p5", "p50", "p95"))
            assert len(p50) == 24
            assert all(lo <= mid <= hi for lo, mid, hi in zip(p5, p50, p95, strict=True)), figure
        claims = assert_money(scenario["cumulative_claims"]["p50"])
        assert claims == sorted(claims)  # cumulative
        exhaustion = scenario["exhaustion_probability"]
        assert all(0 <= p <= 1 for p in exhaustion)
        assert exhaustion == sorted(exhaustion)  # once run out, it stays run out
        totals = scenario["total_claims"]
        assert Decimal(totals["mean"]) > 0 and assert_money(totals["values"])
    base, doubled = result["scenarios"]
    assert Decimal(doubled["total_claims"]["mean"]) > Decimal(base["total_claims"]["mean"])
    assert assert_money(result["expected"]["claims"]) and isinstance(
        result["expected"]["charge_offs"][0], Decimal
    )
    assert counts() == (before[0] + 1, before[1] + 1)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "projection.requested"))
    assert event.entity_id == str(run["id"]) and event.actor_label == "staff@example.org"


def test_the_same_seed_gives_the_same_figures(book: dict[str, Any], client: Any, token_for: Any) -> None:
    staff = token_for("staff")
    first = post(client, staff, {"seed": 7, "paths": 200, "horizon_months": 12}).get_json()
    again = post(client, staff, {"seed": 7, "paths": 200, "horizon_months": 12}).get_json()
    other = post(client, staff, {"seed": 8, "paths": 200, "horizon_months": 12}).get_json()
    assert first["id"] != again["id"]
    assert first["result"] == again["result"]
    assert first["overrides"] == {"paths": 200, "horizon_months": 12}
    assert other["result"]["scenarios"] != first["result"]["scenarios"]


def test_a_seed_beyond_two_to_the_53_comes_back_exact(
    book: dict[str, Any], client: Any, token_for: Any
) -> None:
    seed = 2**62 + 1
    run = post(client, token_for("admin"), {"seed": seed, "paths": 50, "horizon_months": 3}).get_json()
    assert run["seed"] == str(seed) and run["result"]["seed"] == str(seed)
    assert (
        post(client, token_for("admin"), {"seed": str(seed), "paths": 50, "horizon_months": 3}).get_json()[
            "result"
        ]
        == run["result"]
    )


def test_json_floats_work_for_matrices_and_shares(book: dict[str, Any], client: Any, token_for: Any) -> None:
    response = post(
        client,
        token_for("staff"),
        {
            "seed": 3,
            "transition_matrix": MATRIX,
            "stressed_matrix": MATRIX,
            "assumptions": {"recovery_rate": 0.3, "layoff_probability": 0.1, "origination_amount": 15000.5},
        },
    )
    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    result = run["result"]
    assert result["matrices_overridden"] == {"transition_matrix": True, "stressed_matrix": True}
    assert result["transitions"]["overridden"] is True
    assert result["transitions"]["matrix"][0][0] == Decimal("0.93")
    assert result["assumptions"]["recovery_rate"] == "0.3"
    assert result["assumptions"]["origination_amount"] == "15000.50"
    assert run["overrides"]["recovery_rate"] == "0.3" and run["overrides"]["transition_matrix"][1][
        2
    ] == Decimal("0.3")


def test_a_big_projection_is_queued_and_the_run_shows_its_result_once_executed(
    app: Flask, book: dict[str, Any], client: Any, token_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PROJECTION_INLINE_MAX_WORK", 100)
    staff = token_for("staff")
    response = post(client, staff, {"seed": 11, "scenario": "all"})

    assert response.status_code == 202, response.get_json()
    queued = response.get_json()
    assert queued["status"] == "queued" and queued["result"] is None and queued["progress"] == 0
    assert queued["started_at"] is None and queued["finished_at"] is None
    location = response.headers["Location"]
    assert location.endswith(f"{URL}/{queued['id']}")
    assert client.get(location, headers=staff).get_json()["status"] == "queued"
    assert client.get(f"{URL}/latest", headers=staff).status_code == 404

    with app.app_context():
        runs.execute(queued["id"])

    done = client.get(location, headers=staff).get_json()
    assert done["status"] == "succeeded" and done["progress"] == 100
    assert [s["name"] for s in done["result"]["scenarios"]] == [
        "base",
        "largest_employer_closes",
        "roll_rates_x2",
        "no_new_grant_money",
        "recovery_rate_halves",
    ]
    assert done["result"]["seed"] == "11"
    assert client.get(f"{URL}/latest", headers=staff).get_json()["id"] == queued["id"]


def test_an_empty_request_uses_the_saved_assumptions(
    book: dict[str, Any], client: Any, token_for: Any
) -> None:
    response = client.post(URL, headers=token_for("staff"))  # no body at all
    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    assert run["scenario"] == "base" and run["paths"] == 300 and run["horizon_months"] == 24
    assert run["result"]["assumptions"]["originations_per_month"] == 0
    assert re.fullmatch(r"\d+", run["seed"])


# --- reading runs ----------------------------------------------------------------------------------------


def test_latest_is_the_newest_succeeded_run_of_a_kind(
    book: dict[str, Any], client: Any, token_for: Any
) -> None:
    staff = token_for("staff")
    missing = client.get(f"{URL}/latest", headers=staff)
    assert missing.status_code == 404
    assert missing.get_json()["message"] == "No projection has succeeded yet."
    first = post(client, staff, {"seed": 1, "paths": 50, "horizon_months": 3}).get_json()
    second = post(client, staff, {"seed": 2, "paths": 50, "horizon_months": 3}).get_json()

    latest = client.get(f"{URL}/latest", headers=staff)
    assert latest.status_code == 200 and latest.get_json()["id"] == second["id"] != first["id"]
    assert (
        client.get(f"{URL}/latest?kind=request", headers=token_for("admin")).get_json()["id"] == second["id"]
    )
    snapshot = client.get(f"{URL}/latest?kind=snapshot", headers=staff)
    assert snapshot.status_code == 404
    assert snapshot.get_json()["message"] == "No monthly snapshot has succeeded yet."
    bad = client.get(f"{URL}/latest?kind=guess", headers=staff)
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]


def test_a_run_reads_back_as_it_was_answered_and_unknown_ids_are_404(
    book: dict[str, Any], client: Any, token_for: Any
) -> None:
    staff = token_for("staff")
    answered = post(client, staff, {"seed": 5, "paths": 50, "horizon_months": 6}).get_json()
    assert client.get(f"{URL}/{answered['id']}", headers=staff).get_json() == answered
    missing = client.get(f"{URL}/999999", headers=staff)
    assert missing.status_code == 404 and missing.get_json() == {"message": "No such projection."}


# --- refusals -------------------------------------------------------------------------------------------

BAD_ROW = [row[:] for row in MATRIX]
BAD_ROW[1] = [0.3, 0.4, 0.2, 0, 0, 0, 0]
OUTSIDE = [row[:] for row in MATRIX]
OUTSIDE[4] = [0, 0, 0, 0, 1.5, -0.5, 0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"paths": "abc"}, "paths"),
        ({"paths": -5}, "paths"),
        ({"paths": 12.5}, "paths"),
        ({"paths": 10**9}, "paths"),  # over PROJECTION_MAX_PATHS
        ({"horizon_months": 0}, "horizon_months"),
        ({"horizon_months": 121}, "horizon_months"),
        ({"seed": -1}, "seed"),
        ({"seed": "abc"}, "seed"),
        ({"seed": 2**63}, "seed"),
        ({"scenario": "meteor"}, "scenario"),
        ({"scenario": "largest_employer_closes"}, "scenario"),  # no loans, so no largest employer
        ({"assumptions": "abc"}, "assumptions"),
        ({"assumptions": {"recovery_rate": "1.5"}}, "assumptions.recovery_rate"),
        ({"assumptions": {"recovery_rate": "most"}}, "assumptions.recovery_rate"),
        ({"assumptions": {"recovery_rate": True}}, "assumptions.recovery_rate"),
        ({"assumptions": {"origination_amount": "12000.001"}}, "assumptions.origination_amount"),
        ({"assumptions": {"layoff_months": 2.5}}, "assumptions.layoff_months"),
        # Refused by the model (at most 18%), not by the setting's own bounds: named as the setting.
        ({"assumptions": {"origination_rate": "20"}}, "assumptions.origination_rate"),
        ({"assumptions": {"no_such_setting": "1"}}, "assumptions.no_such_setting"),
        ({"assumptions": {"paths": 100}}, "assumptions.paths"),
        ({"transition_matrix": BAD_ROW}, "transition_matrix"),
        ({"transition_matrix": OUTSIDE}, "transition_matrix"),
        ({"transition_matrix": [[1, 0], [0, 1]]}, "transition_matrix"),
        ({"transition_matrix": [[True] * 7] * 7}, "transition_matrix"),
        ({"stressed_matrix": "abc"}, "stressed_matrix"),
        ({"stressed_matrix": BAD_ROW}, "stressed_matrix"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
    app: Flask, client: Any, token_for: Any, body: dict[str, Any], field: str
) -> None:
    staff = token_for("staff")
    with app.app_context():
        before = counts()
    response = post(client, staff, body)
    assert response.status_code == 422, response.get_json()
    answer = response.get_json()
    assert answer["message"] == "Some fields are not valid."
    assert list(answer["errors"]) == [field], answer
    assert all(isinstance(m, str) and m for m in answer["errors"][field])
    with app.app_context():
        assert counts() == before


def test_several_bad_assumptions_are_each_named(client: Any, token_for: Any) -> None:
    response = post(
        client,
        token_for("staff"),
        {"paths": 100, "assumptions": {"recovery_rate": "2", "layoff_probability": "x", "layoff_months": 6}},
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {
        "assumptions.recovery_rate",
        "assumptions.layoff_probability",
    }


# --- access -----------------------------------------------------------------------------------------------


def test_only_staff_and_admins_may_project_or_read_projections(
    book: dict[str, Any], app: Flask, client: Any, token_for: Any, auth: Any
) -> None:
    run = post(client, token_for("staff"), {"seed": 1, "paths": 50, "horizon_months": 3}).get_json()
    before = counts()
    for role in ("officer", "worker"):
        token = token_for(role)
        assert post(client, token, {"paths": 50}).status_code == 403
        for path in (f"{URL}/{run['id']}", f"{URL}/latest"):
            assert client.get(path, headers=token).status_code == 403
    anonymous = app.test_client()
    assert anonymous.post(URL, json={}).status_code == 401
    assert anonymous.get(f"{URL}/{run['id']}").status_code == 401
    assert anonymous.get(f"{URL}/latest").status_code == 401
    # A session cookie reads, but a JSON write needs the bearer token.
    auth.login("admin")
    assert client.post(URL, json={"paths": 50}).status_code == 401
    assert client.get(f"{URL}/{run['id']}").status_code == 200
    assert counts()[0] == before[0]


def test_the_openapi_document_describes_the_projections_api(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {f"{URL}", f"{URL}/latest", f"{URL}/{{run_id}}"} <= set(spec["paths"])
    post_doc = spec["paths"][URL]["post"]
    assert {"200", "202", "422"} <= set(post_doc["responses"])
    assert "Location" in post_doc["responses"]["202"]["headers"]
    schemas = spec["components"]["schemas"]
    assert {"ProjectionRequest", "ProjectionRun", "ProjectionAssumptions"} <= set(schemas)
    assert "paths" not in schemas["ProjectionAssumptions"]["properties"]
    assert "recovery_rate" in schemas["ProjectionAssumptions"]["properties"]
    assert "all" in schemas["ProjectionRequest"]["properties"]["scenario"]["enum"]


# --- the run document ---------------------------------------------------------------------------------


def test_cents_become_exact_dollar_strings_under_the_key_without_the_suffix() -> None:
    stored = {
        "seed": 2**60,
        "book": {"loans": 3, "available_cents": 522500, "employers": 1},
        "scenarios": [
            {
                "name": "base",
                "available_cents": {"p5": [0, 1, -1], "p50": [123456789, 10]},
                "exhaustion_probability": [0.0, 0.25],
                "mean_charge_offs": [0.5],
                "total_claims": {
                    "mean_cents": 100,
                    "percentiles": [5.0, 95.0],
                    "values_cents": [99, 100005],
                    "histogram_counts": [3, 4],
                },
            }
        ],
        "expected": {"exhaustion_month": None, "total_loss_cents": 7},
        "concentration": [{"employer": "Cryomech", "balance_cents": 5, "balance_share": 1.0}],
    }
    assert result_document(stored) == {
        "seed": str(2**60),
        "book": {"loans": 3, "available": "5225.00", "employers": 1},
        "scenarios": [
            {
                "name": "base",
                "available": {"p5": ["0.00", "0.01", "-0.01"], "p50": ["1234567.89", "0.10"]},
                "exhaustion_probability": [0.0, 0.25],
                "mean_charge_offs": [0.5],
                "total_claims": {
                    "mean": "1.00",
                    "percentiles": [5.0, 95.0],
                    "values": ["0.99", "1000.05"],
                    "histogram_counts": [3, 4],
                },
            }
        ],
        "expected": {"exhaustion_month": None, "total_loss": "0.07"},
        "concentration": [{"employer": "Cryomech", "balance": "0.05", "balance_share": 1.0}],
    }


def test_the_conversion_refuses_what_is_not_whole_cents_and_never_overwrites_a_figure() -> None:
    with pytest.raises(TypeError):
        money_strings({"loss_cents": 12.5})
    with pytest.raises(TypeError):
        money_strings({"loss_cents": [True]})
    with pytest.raises(ValueError, match="loss"):
        money_strings({"loss": 1, "loss_cents": 100})
    assert money_strings({"_cents": 5, "count": 2}) == {"_cents": 5, "count": 2}


def test_the_run_document_answers_the_grant_needed_by_a_date(
    book: dict[str, Any], client: Any, token_for: Any
) -> None:
    """A pipeline of two $12,000 loans a month outruns $5,225 available in month 2: the model finds the
    grant that, arriving in month 1 (by 30 June), keeps the chance of running out at or under 5%."""
    staff = token_for("staff")
    body = {"seed": 7, "assumptions": {"originations_per_month": 2, "grant_by_months": 1}}
    result = post(client, staff, body).get_json()["result"]
    grant = result["grant_needed"]
    assert grant["target_probability"] == Decimal("0.05") and grant["by_date"] == "2026-06-30"
    assert MONEY.match(grant["amount"]) and Decimal(grant["amount"]) > 0
    assert Decimal(grant["amount"]) % 100 == 0
    assert grant["probability"] <= Decimal("0.05") < grant["probability_without"]
    assert grant["probability_without"] == result["scenarios"][0]["exhaustion_probability"][-1]
    enough = post(client, staff, {"seed": 7, "assumptions": {"grant_by_months": 1}}).get_json()["result"]
    assert enough["grant_needed"]["amount"] == "0.00"  # no pipeline: the reserve lasts without one


def test_a_grant_month_beyond_the_horizon_is_refused_naming_it(
    book: dict[str, Any], client: Any, token_for: Any
) -> None:
    response = post(
        client, token_for("staff"), {"horizon_months": 12, "assumptions": {"grant_by_months": 13}}
    )
    assert response.status_code == 422
    assert "grant_by_months" in str(response.get_json()["errors"])


def test_a_scenario_that_changes_nothing_says_so(book: dict[str, Any], client: Any, token_for: Any) -> None:
    result = post(client, token_for("staff"), {"seed": 3, "scenario": "no_new_grant_money"}).get_json()[
        "result"
    ]
    base, same = result["scenarios"]
    assert same["same_as_base"] and "no new grant money" in same["same_as_base_reason"]
    assert same["exhaustion_probability"] == base["exhaustion_probability"]
    doubled = post(client, token_for("staff"), {"seed": 3, "scenario": "roll_rates_x2"}).get_json()["result"]
    assert doubled["scenarios"][1]["same_as_base"] is False
