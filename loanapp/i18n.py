"""Language choice for worker pages: English and Spanish ship; many applicants are Spanish speakers."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def select_locale() -> str | None:
    """A visible switch (kept in the session) wins, then the account's choice, then the browser's."""
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen  # type: ignore[no-any-return]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale  # type: ignore[no-any-return]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def template_context() -> dict[str, Any]:
    return {"current_locale": str(get_locale()), "language_names": LANGUAGE_NAMES}
