"""Issue #17 "in CI from now on": a bounded schemathesis run over the whole OpenAPI document, as an
anonymous caller and as staff, on whichever database the suite runs: no 5xx and no answer that breaks
the schema. Bounded: derandomized (a fixed seed) and a few examples per operation, so it costs seconds.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

EXAMPLES = 2
BOUNDED = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def test_no_server_error_and_answers_match_the_schema(
    app: Flask, token_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Projections are queued, not run (the worker is off in tests): the run is about the API's edges.
    monkeypatch.setitem(app.config, "PROJECTION_INLINE_MAX_WORK", 0)
    monkeypatch.setitem(app.config, "PROJECTION_MAX_QUEUED_PER_USER", 10**6)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    staff = token_for("staff")
    operations, cases = 0, 0

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @BOUNDED
        @given(case=operation.as_strategy())
        def exercise(case: Any) -> None:
            nonlocal cases
            for headers in ({}, staff):
                cases += 1
                response = case.call(
                    headers={**(case.headers or {}), **headers, "Idempotency-Key": f"st-{cases}"}
                )
                case.validate_response(
                    response, checks=[checks.not_a_server_error, checks.response_schema_conformance]
                )

        exercise()
    print(f"schemathesis: {operations} operations, {cases} cases, 0 failures")
    assert operations >= 20 and cases >= operations
