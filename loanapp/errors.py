"""One answer for every error: JSON under /api/, a page elsewhere; never a stack trace."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from loanapp.extensions import db

# webargs reports errors per location ({"json": {...}}); clients want {field: [messages]}.
_LOCATIONS = ("json", "query", "form", "files", "headers", "path", "view_args", "cookies", "querystring")


def flatten_field_errors(messages: Any) -> dict[str, Any]:
    if not isinstance(messages, dict):
        return {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    if set(messages) <= set(_LOCATIONS):
        merged: dict[str, Any] = {}
        for per_location in messages.values():
            merged.update(flatten_field_errors(per_location))
        return merged
    return messages


def api_error_body(error: HTTPException) -> dict[str, Any]:
    data = getattr(error, "data", None) or {}
    body: dict[str, Any] = {}
    errors = data.get("errors", data.get("messages"))
    if errors:
        body["errors"] = flatten_field_errors(errors)
    body["message"] = data.get("message") or (
        "Some fields are not valid." if errors else (error.description or error.name)
    )
    return body


def handle_http_exception(error: HTTPException) -> Any:
    if error.code is None or error.code >= 500:
        db.session.rollback()
    if isinstance(error, InternalServerError) and error.original_exception is not None:
        current_app.logger.exception("unhandled error", exc_info=error.original_exception)
    if request.path.startswith("/api/"):
        response = jsonify(api_error_body(error))
        response.status_code = error.code or 500
        headers = (getattr(error, "data", None) or {}).get("headers") or {}
        response.headers.update(headers)
        return response
    return render_template("errors/error.html", error=error), error.code or 500


def handle_unstorable_value(error: Exception) -> Any:
    """A value the database cannot hold (a number beyond its column, a NUL in text): the client's
    input, so a 400 with nothing written, never a 500. Validation should have caught it first."""
    db.session.rollback()
    current_app.logger.warning("unstorable value refused: %s", error)
    return handle_http_exception(
        BadRequest(description="A value is out of range or holds characters that cannot be stored.")
    )


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DataError, handle_unstorable_value)
    app.register_error_handler(OverflowError, handle_unstorable_value)
