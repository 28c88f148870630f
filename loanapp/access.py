"""Who may call which route: every view declares its rule, and anything undeclared is refused.

The rule lives on the view function (``@public``, ``@signed_in``, ``@roles("officer")``) so it sits
next to the code it guards; ``enforce`` runs before every request, and a test walks the URL map to
check that every endpoint has a rule and that anonymous users and workers are refused the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, g, jsonify, redirect, request, url_for
from flask_login import AnonymousUserMixin, current_user

ROLES = ("worker", "officer", "staff", "admin")
STAFF_ROLES = ("officer", "staff", "admin")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC = "public"
SIGNED_IN = "signed_in"

F = TypeVar("F", bound=Callable[..., Any])


def _rule(value: str | frozenset[str]) -> Callable[[F], F]:
    def mark(view: F) -> F:
        view.access_rule = value  # type: ignore[attr-defined]
        return view

    return mark


public = _rule(PUBLIC)
signed_in = _rule(SIGNED_IN)


def roles(*allowed: str) -> Callable[[F], F]:
    unknown = set(allowed) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return _rule(frozenset(allowed))


def rule_for(endpoint: str | None, method: str) -> str | frozenset[str] | None:
    """The declared rule of an endpoint for an HTTP method, or None when it declares none."""
    if endpoint is None:
        return None
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(view_class, "get", None)
        if handler is not None and hasattr(handler, "access_rule"):
            return handler.access_rule  # type: ignore[no-any-return]
        return getattr(view_class, "access_rule", None)
    return getattr(view, "access_rule", None)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def request_user() -> Any:
    """Who is calling: the bearer token's user, else the session's. JSON writes need a token: a
    session cookie alone does not authorise them (no CSRF token travels with a JSON call)."""
    api_user = getattr(g, "api_user", None)
    if api_user is not None:
        return api_user
    if is_api_request() and request.method not in SAFE_METHODS:
        return AnonymousUserMixin()
    return current_user


def allows(rule: str | frozenset[str] | None, user: Any) -> bool:
    if rule == PUBLIC:
        return True
    if rule is None or not user.is_authenticated:
        return False
    if rule == SIGNED_IN:
        return True
    return isinstance(rule, frozenset) and user.role in rule


def enforce() -> Any:
    """before_request: refuse anything the endpoint's rule does not allow (default deny)."""
    if request.endpoint is None or request.endpoint == "static":
        return None  # 404s are handled by the error handlers; static files are public
    rule = rule_for(request.endpoint, request.method)
    user = request_user()
    if allows(rule, user):
        return None
    if rule is None:
        current_app.logger.error("endpoint %s has no access rule; refusing", request.endpoint)
        abort(403)
    if not user.is_authenticated:
        if is_api_request():
            response = jsonify(message="Sign in or send a bearer token.")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    abort(403)
