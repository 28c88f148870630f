"""The menu per role, in one table. An entry shows only when its feature's endpoint is registered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: Any
    roles: tuple[str, ...]


MENU = (
    NavEntry("applications.apply", _l("Apply"), (ANONYMOUS,)),
    NavEntry("quotes.page", _l("Estimate a payment"), (ANONYMOUS, "worker", "officer")),
    NavEntry("applications.mine", _l("My application"), ("worker",)),
    NavEntry("portal.my_loans", _l("My loan"), ("worker",)),
    NavEntry("notices.my_messages", _l("Messages"), ("worker",)),
    NavEntry("collections.worklist", _l("Worklist"), ("officer",)),
    NavEntry("applications.queue", _l("Applications"), ("officer",)),
    NavEntry("servicing.loans", _l("Loans"), ("officer", "staff")),
    NavEntry("servicing.charge_off_queue", _l("Charge-offs"), ("officer",)),
    NavEntry("reserve_admin.dashboard", _l("Reserve"), ("staff", "officer")),
    NavEntry("reserve_admin.claims", _l("Claims"), ("staff", "officer")),
    NavEntry("projections.page", _l("Projections"), ("staff",)),
    NavEntry("reports.program", _l("Program report"), ("staff",)),
    NavEntry("outcomes.due_list", _l("Check-ins"), ("officer", "staff")),
    NavEntry("outcomes.report_page", _l("Outcome report"), ("staff",)),
    NavEntry("servicing.delinquency_report", _l("Delinquency"), ("staff", "officer")),
    NavEntry("jobs.history", _l("Jobs"), ("staff", "admin")),
    NavEntry("admin.users", _l("Users"), ("admin",)),
    NavEntry("notices.outbox", _l("Outbox"), ("admin",)),
    NavEntry("api_docs.docs", _l("API"), ("officer", "staff", "admin")),
    NavEntry("accounts.tokens", _l("API tokens"), ("officer", "staff", "admin")),
)


def nav_items(user: Any) -> list[dict[str, str]]:
    role = user.role if getattr(user, "is_authenticated", False) else ANONYMOUS
    endpoints = current_app.view_functions
    return [
        {"url": url_for(entry.endpoint), "label": str(entry.label)}
        for entry in MENU
        if role in entry.roles and entry.endpoint in endpoints
    ]


def worker_actions() -> list[dict[str, str]]:
    """The home page's calls to action: apply first, then estimate a payment. Only for people who may
    apply: a signed-in officer, staff member or admin is not offered a button that leads to a 403."""
    if getattr(current_user, "is_authenticated", False) and current_user.role != "worker":
        return []
    endpoints = current_app.view_functions
    return [
        {"url": url_for(entry.endpoint), "label": str(entry.label)}
        for entry in MENU
        if ANONYMOUS in entry.roles and entry.endpoint in endpoints
    ]


def register(app: Flask) -> None:
    app.jinja_env.globals.update(nav_items=nav_items, worker_actions=worker_actions)
