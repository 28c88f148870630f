"""Language choice for worker pages: English and Spanish ship; many applicants are Spanish speakers.

Officer, staff and admin pages are written for the credit union's and Work Train's staff, in English:
signed in with one of those roles, pages are English and the language switch is not offered, so no page
mixes languages.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def _staff_signed_in() -> bool:
    return bool(
        current_user and getattr(current_user, "is_authenticated", False) and current_user.role != "worker"
    )


def select_locale() -> str | None:
    """Staff roles read English; otherwise a visible switch (kept in the session) wins, then the
    account's choice, then the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # A command or job (seed-demo, the scheduler): no visitor to ask. What they write in a worker's
        # language chooses it explicitly (force_locale).
        return current_app.config["BABEL_DEFAULT_LOCALE"]  # type: ignore[no-any-return]
    if _staff_signed_in():
        return current_app.config["BABEL_DEFAULT_LOCALE"]  # type: ignore[no-any-return]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen  # type: ignore[no-any-return]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale  # type: ignore[no-any-return]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def template_context() -> dict[str, Any]:
    return {
        "current_locale": str(get_locale()),
        "language_names": LANGUAGE_NAMES,
        "offers_language_switch": not _staff_signed_in(),
    }
