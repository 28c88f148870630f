from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import g, jsonify, request
from flask_smorest import Api, Blueprint
from marshmallow import fields, missing
from webargs.flaskparser import FlaskParser, is_json_request


class ProgramApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, minus its app-wide HTTP error handler: ``loanapp.errors`` answers every
    error, JSON under /api/ and HTML pages elsewhere."""

    def _register_error_handlers(self) -> None:
        return None

    def init_app(self, app: Any, *args: Any, **kwargs: Any) -> None:
        super().init_app(app, *args, **kwargs)
        # Money and rates travel as exact decimal strings ("12500.00"), so the document says so.
        self.ma_plugin.converter.add_attribute_function(decimal_as_string)
        self.spec.components.security_scheme(
            "bearerAuth",
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from create-token or the tokens page.",
            },
        )
        self.spec.components.response("Unauthorized", {"description": "No valid bearer token (or session)."})
        self.spec.components.response("Forbidden", {"description": "Signed in, but not allowed."})

    def document_access(self) -> None:
        """Every operation: bearer auth (or none, for the public ones) and its 401 and 403 answers.

        Called once all blueprints are registered."""
        for operations in self.spec._paths.values():
            for method, operation in operations.items():
                if method not in {"get", "post", "put", "patch", "delete"}:
                    continue
                operation.setdefault("security", [{"bearerAuth": []}, {}])
                responses = operation.setdefault("responses", {})
                responses.setdefault("401", {"$ref": "#/components/responses/Unauthorized"})
                responses.setdefault("403", {"$ref": "#/components/responses/Forbidden"})


def decimal_as_string(self: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: a Decimal field dumped as a string is a string with a decimal
    pattern in the OpenAPI document (it was declared a number: 349 schema violations)."""
    if isinstance(field, fields.Decimal) and getattr(field, "as_string", False):
        minimum = getattr(field, "minimum", None)
        pattern = (
            r"^\d+(\.\d{1,2})?$" if getattr(field, "allow_zero", None) is not None else r"^-?\d+(\.\d+)?$"
        )
        out: dict[str, Any] = {"type": "string", "format": "decimal", "pattern": pattern}
        if minimum is not None:
            out["x-minimum"] = str(minimum)
        return out
    return {}


def load_bearer_user() -> Any:
    """before_request: a bearer token authenticates an API call; a bad token is refused outright.

    Under /api/ a session cookie counts only for reading (``access.request_user``).
    """
    g.api_user = None
    header = request.headers.get("Authorization", "")
    if not request.path.startswith("/api/") or not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized("Use 'Authorization: Bearer <token>'.")
    from loanapp.accounts.operations import user_for_token

    user = user_for_token(token.strip())
    if user is None:
        return _unauthorized("The token is not valid.")
    g.api_user = user
    return None


def _unauthorized(message: str) -> Any:
    response = jsonify(message=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


class ExactParser(FlaskParser):  # type: ignore[misc]
    """webargs reads JSON with the standard library; here numbers become Decimal, never float."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return missing
        try:
            return json.loads(req.get_data(cache=True), parse_float=Decimal)
        except (RecursionError, ValueError) as exc:
            # Nested 100,000 deep, or a number of thousands of digits: a 400 like any bad JSON.
            return self._handle_invalid_json_error(exc, req)


class ApiBlueprint(Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = ExactParser()


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> ApiBlueprint:
    return ApiBlueprint(name, import_name, url_prefix="/api/v1" + url_prefix, description=description)
