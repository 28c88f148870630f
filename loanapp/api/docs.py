"""The OpenAPI document and a docs page rendered on the server, so it works with no outside assets.

The page has a table of contents by tag, an anchor per endpoint and per schema, and an example request
and answer per endpoint, built from the schemas' own examples (money as strings, e.g. "12500.00").
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, jsonify, render_template

from loanapp.access import public
from loanapp.extensions import api

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

METHODS = ("get", "post", "put", "patch", "delete")
_PLACEHOLDERS = {"integer": 1, "number": 1, "boolean": True}


def example_of(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0, writing: bool = False) -> Any:
    """A value that fits ``schema``: its own example, else one made from its type (bounded depth). A
    request (``writing``) leaves out read-only fields."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return example_of(schemas.get(name, {}), schemas, depth, writing) if depth < 4 else {}
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: example_of(prop, schemas, depth + 1, writing)
            for name, prop in (schema.get("properties") or {}).items()
            if not (writing and prop.get("readOnly"))
        }
    if kind == "array":
        return [example_of(schema.get("items", {}), schemas, depth + 1, writing)]
    if kind == "string":
        return {"date": "2026-12-07", "date-time": "2026-12-07T15:30:00Z", "decimal": "12500.00"}.get(
            schema.get("format", ""), "text"
        )
    return _PLACEHOLDERS.get(kind or "")


def anchor(method: str, path: str) -> str:
    return f"{method}-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def endpoints(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation with its anchor, tag, and example request and answer as JSON text."""
    schemas = spec.get("components", {}).get("schemas", {})
    found = []
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            if method not in METHODS:
                continue
            request_example = None
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            if body:
                request_example = json.dumps(
                    example_of(body.get("schema", {}), schemas, writing=True), indent=2
                )
            answer_example, answer_code = None, None
            for code, answer in sorted(op.get("responses", {}).items()):
                content = (answer.get("content") or {}).get("application/json")
                if str(code).startswith("2") and content:
                    answer_code = code
                    answer_example = json.dumps(example_of(content.get("schema", {}), schemas), indent=2)
                    break
            found.append(
                {
                    "method": method,
                    "path": path,
                    "op": op,
                    "anchor": anchor(method, path),
                    "tag": (op.get("tags") or ["other"])[0],
                    "request_example": request_example,
                    "answer_code": answer_code,
                    "answer_example": answer_example,
                }
            )
    return found


@bp.route("/openapi.json")
@public
def openapi_json():  # type: ignore[no-untyped-def]
    return jsonify(api.spec.to_dict())


@bp.route("/docs")
@public
def docs():  # type: ignore[no-untyped-def]
    spec = api.spec.to_dict()
    operations = endpoints(spec)
    tags = [
        {
            "name": t["name"],
            "description": t.get("description", ""),
            "endpoints": [e for e in operations if e["tag"] == t["name"]],
        }
        for t in spec.get("tags", [])
    ]
    return render_template(
        "api/docs.html", spec=spec, tags=tags, schemas=spec.get("components", {}).get("schemas", {})
    )
