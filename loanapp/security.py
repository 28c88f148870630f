"""Response headers every page and API answer carries."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, jsonify, request, session
from werkzeug.routing import IntegerConverter

# No inline scripts or styles, nothing from another origin: the service runs inside a credit union's network.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


NO_STORE_TYPES = frozenset({"text/html", "application/json", "text/csv"})


def add_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if response.mimetype in NO_STORE_TYPES:
        # Pages, JSON (personal data, money) and CSV exports stay out of shared and browser caches.
        response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config["ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


# --- sessions that end ---------------------------------------------------------------------------------
#
# Sessions are signed cookies, so the server cannot delete one: a copied cookie would keep working until
# it expires. The session names the user as "id:generation" (``User.get_id``) and the user loader
# accepts it only while the user's ``session_generation`` is still that. Signing out, changing or
# resetting the password move the generation on, which ends every copy of every older cookie.

#: What survives sign-out in the browser's session: only the visible language choice (no personal data).
KEPT_ON_SIGN_OUT = ("lang",)


def end_sessions(user: Any) -> None:
    """Every session issued so far for ``user`` stops working (the caller commits)."""
    user.session_generation = (user.session_generation or 0) + 1


def clear_session() -> None:
    """Forget everything this browser's session held (a saved draft's token, flashes, the user),
    keeping only the language choice."""
    kept = {key: session[key] for key in KEPT_ON_SIGN_OUT if key in session}
    session.clear()
    session.update(kept)


# --- hostile input: refused with a 4xx before it reaches a view or the database -------------------------

#: Ids in URLs are database integers (PostgreSQL ``integer``): larger ones name nothing.
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """Flask's ``int`` converter, up to :data:`MAX_ID`: a bigger id is a 404, not an overflow (500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def refuse_nul_bytes() -> Any:
    """before_request: text with a NUL byte cannot be stored (PostgreSQL refuses it mid-write, a 500);
    refuse it at the door. Uploaded files are binary and are not looked at."""
    if "\x00" in request.query_string.decode("latin-1") or "%00" in request.query_string.decode("latin-1"):
        return _bad_input("A value holds a NUL character.")
    if any("\x00" in value for value in request.form.values()):
        return _bad_input("A value holds a NUL character.")
    if request.is_json:
        raw = request.get_data(cache=True)
        if b"\x00" in raw or b"\\u0000" in raw:
            return _bad_input("A value holds a NUL character.")
    return None


def _bad_input(message: str) -> Any:
    if request.path.startswith("/api/"):
        response = jsonify(message=message)
        response.status_code = 400
        return response
    return abort(400, description=message)
