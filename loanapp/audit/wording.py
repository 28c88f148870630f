"""The audit trail in words for the staff pages that show it: "Payment recorded" rather than
``payment.recorded``, and a link to the application or loan the event is about rather than a table name
and a row id. Officer, staff and admin pages are English (see ``loanapp.i18n``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_login import current_user

from loanapp.access import allows, rule_for
from loanapp.audit.models import AuditEvent

# Records that have a page of their own, and the words for them.
_PAGES = {
    "application": ("applications.review", "application_id", "Application"),
    "loan": ("servicing.loan", "loan_id", "Loan"),
}


@dataclass(frozen=True)
class EventLine:
    text: str
    record: str | None
    url: str | None


def _words(code: str) -> str:
    return code.replace("_", " ").replace(".", " ").strip()


def describe(event: AuditEvent) -> EventLine:
    subject, _dot, verb = event.action.partition(".")
    text = f"{_words(subject).capitalize()} {_words(verb)}".strip()
    page = _PAGES.get(event.entity_type)
    if page is None or not event.entity_id or page[0] not in current_app.view_functions:
        return EventLine(text, None, None)
    if not allows(rule_for(page[0], "GET"), current_user):
        return EventLine(text, f"{page[2]} {event.entity_id}", None)  # no link that would answer 403
    endpoint, argument, label = page
    return EventLine(text, f"{label} {event.entity_id}", url_for(endpoint, **{argument: event.entity_id}))
