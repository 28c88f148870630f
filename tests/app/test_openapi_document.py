"""Issue #17 (LOW): the OpenAPI document says what the API does: money and rates are decimal strings,
bearer tokens are the security scheme, and 401/403 are documented on every operation."""

from __future__ import annotations

from typing import Any


def _walk(node: Any, found: list[tuple[str, Any]], key: str = "") -> None:
    if isinstance(node, dict):
        found.append((key, node))
        for k, v in node.items():
            _walk(v, found, k)
    elif isinstance(node, list):
        for v in node:
            _walk(v, found, key)


def test_money_and_rates_are_declared_as_decimal_strings(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    amount = schemas["Deposit"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["format"] == "decimal"
    found: list[tuple[str, Any]] = []
    _walk(schemas, found)
    money_like = ("amount", "balance", "principal", "payment", "rate", "apr", "fee", "available", "interest")
    numbers = [key for key, node in found if node.get("type") == "number" and key.endswith(money_like)]
    assert numbers == []


def test_bearer_tokens_and_their_refusals_are_documented(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from create-token or the tokens page.",
    }
    operations = [op for ops in document["paths"].values() for m, op in ops.items() if m in ("get", "post")]
    assert operations
    for operation in operations:
        assert {"401", "403"} <= set(operation["responses"]), operation.get("summary")
        assert {"bearerAuth": []} in operation["security"]
