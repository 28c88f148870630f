"""Every route declares who may use it, and the server refuses everyone else."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from loanapp.access import PUBLIC, SIGNED_IN, rule_for

PLACEHOLDER = {"int": "1", "string": "x", "path": "x", "default": "x"}


def _fill(rule: str) -> str:
    return re.sub(
        r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: PLACEHOLDER.get(m.group(1) or "default", "1"), rule
    )


def route_table(app: Flask) -> list[tuple[str, str, str, object]]:
    """(path, method, endpoint, rule) for every registered route and method."""
    rows = []
    with app.test_request_context():
        for url_rule in app.url_map.iter_rules():
            if url_rule.endpoint == "static":
                continue
            for method in sorted((url_rule.methods or set()) - {"HEAD", "OPTIONS"}):
                rows.append(
                    (_fill(url_rule.rule), method, url_rule.endpoint, rule_for(url_rule.endpoint, method))
                )
    return rows


def test_every_route_declares_an_access_rule(app: Flask) -> None:
    missing = [(path, method, endpoint) for path, method, endpoint, rule in route_table(app) if rule is None]
    assert missing == []


def _refused(response, path: str) -> bool:  # type: ignore[no-untyped-def]
    if path.startswith("/api/"):
        return response.status_code in (401, 403)
    if response.status_code == 302:
        return "/login" in response.headers["Location"]
    return response.status_code == 403


def test_anonymous_user_is_refused_every_non_public_route(app: Flask) -> None:
    client = app.test_client()
    checked = 0
    for path, method, endpoint, rule in route_table(app):
        if rule == PUBLIC:
            continue
        response = client.open(path, method=method)
        assert _refused(response, path), f"{method} {path} ({endpoint}) answered {response.status_code}"
        checked += 1
    assert checked > 3


@pytest.mark.parametrize("role", ["worker", "officer", "staff"])
def test_signed_in_user_is_refused_routes_of_other_roles(
    app: Flask, auth, client, token_for, role: str
) -> None:  # type: ignore[no-untyped-def]
    """Pages with the role's session; the API with the role's bearer token (JSON writes need one)."""
    auth.login(role)
    token = token_for(role)
    checked = 0
    for path, method, endpoint, rule in route_table(app):
        if rule in (PUBLIC, SIGNED_IN) or role in rule:  # type: ignore[operator]
            continue
        headers = token if path.startswith("/api/") else {}
        response = client.open(path, method=method, headers=headers)
        assert response.status_code == 403, (
            f"{role}: {method} {path} ({endpoint}) answered {response.status_code}"
        )
        checked += 1
    assert checked > 0


def test_api_write_with_only_a_session_cookie_is_refused(app: Flask, auth, client) -> None:  # type: ignore[no-untyped-def]
    """A JSON write must carry a bearer token: a browser cookie alone could be ridden by another site."""
    auth.login("admin")
    for path, method, _endpoint, rule in route_table(app):
        if not path.startswith("/api/") or method == "GET" or rule == PUBLIC:
            continue
        assert client.open(path, method=method, json={}).status_code == 401, f"{method} {path}"
