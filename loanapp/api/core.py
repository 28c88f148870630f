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
        converter = self.ma_plugin.converter
        if decimal_strings not in [getattr(f, "__func__", None) for f in converter.attribute_functions]:
            converter.add_attribute_function(decimal_strings)


#: What a decimal string looks like: "12500.00", "-42.10", "9.25".
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


def decimal_strings(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """Money, rates and ratios travel as strings ("12500.00") so no client reads them into a float:
    document them so, and generated clients get a string type with its decimal pattern."""
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": "string", "format": "decimal", "pattern": DECIMAL_PATTERN}
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
        return json.loads(req.get_data(cache=True), parse_float=Decimal)


class ApiBlueprint(Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = ExactParser()


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> ApiBlueprint:
    return ApiBlueprint(name, import_name, url_prefix="/api/v1" + url_prefix, description=description)
