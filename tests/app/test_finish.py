"""A finished product on every page (issue 15): amounts typed as people write them, charts whose labels
do not collide, errors in the worker's language, staff pages in one language, admin account tools, API
tokens on a page, and money documented as decimal strings."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from loanapp.accounts.models import User
from loanapp.audit.models import AuditEvent
from loanapp.charts import x_label_indices
from loanapp.extensions import db
from loanapp.formatting import file_size
from loanapp.inputs import AmountError, parse_number, parse_whole_number

# --- amounts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "spanish", "amount"),
    [
        ("$9,500", False, "9500"),
        ("9 500.00", False, "9500.00"),
        ("12,000.50", True, "12000.50"),
        ("18,50", True, "18.50"),  # the decimal comma, on a Spanish page
        ("1.250,50", True, "1250.50"),
        ("18.5", False, "18.5"),
    ],
)
def test_amounts_are_read_as_people_type_them(typed: str, spanish: bool, amount: str) -> None:
    assert parse_number(typed, spanish=spanish) == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "spanish", "shown"),
    [
        ("18,50", False, "18.50"),  # an English reader may have meant 1850: ask
        ("3.200", False, "3200"),  # three thousand two hundred, or 3.20?
        ("3.200", True, "3.20"),
        ("1.250,50", False, "1,250.50"),
        ("12.345", False, "two decimals"),
        ("1,25,0", False, "1250.00"),
        ("-5", False, "zero or more"),
    ],
)
def test_ambiguous_amounts_are_refused_with_the_right_form(
    app: Flask, typed: str, spanish: bool, shown: str
) -> None:
    with app.test_request_context(), pytest.raises(AmountError) as refused:
        parse_number(typed, spanish=spanish)
    assert shown in str(refused.value.args[0])


def test_whole_numbers_take_either_thousands_separator() -> None:
    assert (
        parse_whole_number("78,500") == parse_whole_number("78.500") == parse_whole_number("78500") == 78500
    )
    with pytest.raises(AmountError):
        parse_whole_number("78.5")


def test_spanish_estimate_takes_a_decimal_comma_and_english_refuses_it(client) -> None:  # type: ignore[no-untyped-def]
    spanish = client.post(
        "/estimate",
        data={"amount_financed": "9.500,00", "term_months": "48"},
        headers={"Accept-Language": "es"},
    )
    assert spanish.status_code == 200 and "$9,500.00" in spanish.get_data(as_text=True)
    english = client.post("/estimate", data={"amount_financed": "9500,50", "term_months": "48"})
    assert english.status_code == 422 and "Write it like 9500.50." in english.get_data(as_text=True)


def test_estimate_and_apply_open_on_the_same_term(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/estimate", "/apply"):
        assert '<option selected value="48">' in client.get(path).get_data(as_text=True), path


# --- what pages show -------------------------------------------------------------------------------


def test_chart_labels_never_touch_and_the_last_one_is_shown() -> None:
    labels = [f"M{i:02d} 2026" for i in range(37)]
    chosen = x_label_indices(labels, 400)
    assert chosen[0] == 0 and chosen[-1] == 36
    gaps = [b - a for a, b in zip(chosen, chosen[1:], strict=False)]
    step = gaps[0]
    assert all(gap * 400 / 37 >= 9 * 0.6 * 13 for gap in gaps), gaps  # each gap wider than a label
    assert len(chosen) <= 37 // step + 1


def test_file_sizes_read_as_people_say_them() -> None:
    assert file_size(408) == "408 bytes"
    assert file_size(12_800) == "12.5 KB"
    assert file_size(3 * 1024 * 1024) == "3.0 MB"


def test_favicon_is_served(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"


def test_error_pages_speak_the_workers_language(client) -> None:  # type: ignore[no-untyped-def]
    text = client.get("/no-such-page", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "No encontramos la página" in text and "Not Found" not in text


def test_staff_pages_are_english_without_a_language_switch(client, auth) -> None:  # type: ignore[no-untyped-def]
    client.get("/language/es")
    auth.login("officer")
    text = client.get("/home").get_data(as_text=True)
    assert '<html lang="en">' in text and "Español" not in text
    assert 'href="/apply"' not in client.get("/").get_data(as_text=True)  # no Apply button leading to 403
    auth.logout()
    auth.login("worker")
    assert '<html lang="es">' in client.get("/home").get_data(as_text=True)


def test_worker_home_shows_no_audit_log(client, auth) -> None:  # type: ignore[no-untyped-def]
    auth.login("worker")
    text = client.get("/home").get_data(as_text=True)
    assert "user.signed_in" not in text and "Recent activity" not in text
    assert "What to do next" in text and "Questions? Call the credit union" in text


def test_officer_activity_reads_as_words(client, auth) -> None:  # type: ignore[no-untyped-def]
    auth.login("officer")
    text = client.get("/home").get_data(as_text=True)
    assert "User signed in" in text and "user.signed_in" not in text


# --- admin: accounts --------------------------------------------------------------------------------


def test_admin_finds_accounts_by_name_and_pages_through_them(app: Flask, client, auth, users) -> None:  # type: ignore[no-untyped-def]
    app.config["ADMIN_USERS_PAGE_SIZE"] = 2
    try:
        auth.login("admin")
        first = client.get("/admin/users").get_data(as_text=True)
        assert "5 accounts · page 1 of 3" in first and 'rel="next"' in first
        found = client.get("/admin/users?q=other+work").get_data(as_text=True)
        assert "1 account" in found and "worker2@example.org" in found
        assert "1 account" in client.get("/admin/users?role=staff").get_data(as_text=True)
    finally:
        app.config["ADMIN_USERS_PAGE_SIZE"] = 25


def test_admin_confirms_before_disabling_and_can_enable_again(app: Flask, client, auth, users) -> None:  # type: ignore[no-untyped-def]
    auth.login("admin")
    page = client.get(f"/admin/users/{users['officer']}/active").get_data(as_text=True)
    assert "Disable this account?" in page and "can no longer sign in" in page
    assert client.post(f"/admin/users/{users['officer']}/active", data={"active": "no"}).status_code == 302
    # A second click from the same confirmation page changes nothing.
    client.post(f"/admin/users/{users['officer']}/active", data={"active": "no"})
    with app.app_context():
        assert db.session.get(User, users["officer"]).active is False  # type: ignore[union-attr]
        disabled = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.disabled")).all()
        assert len(disabled) == 1
    client.post(f"/admin/users/{users['officer']}/active", data={"active": "yes"})
    with app.app_context():
        assert db.session.get(User, users["officer"]).active is True  # type: ignore[union-attr]
    own = client.post(f"/admin/users/{users['admin']}/active", data={"active": "no"}, follow_redirects=True)
    assert "You cannot disable your own account." in own.get_data(as_text=True)


def test_admin_changes_a_staff_role_but_not_a_workers_nor_their_own(app: Flask, client, auth, users) -> None:  # type: ignore[no-untyped-def]
    auth.login("admin")
    client.post(f"/admin/users/{users['officer']}/role", data={"role": "staff"})
    worker = client.post(
        f"/admin/users/{users['worker']}/role", data={"role": "admin"}, follow_redirects=True
    )
    assert "keeps its role" in worker.get_data(as_text=True)
    own = client.post(f"/admin/users/{users['admin']}/role", data={"role": "staff"}, follow_redirects=True)
    assert "cannot change your own role" in own.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, users["officer"]).role == "staff"  # type: ignore[union-attr]
        assert db.session.get(User, users["worker"]).role == "worker"  # type: ignore[union-attr]
        changed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_changed"))
        assert changed is not None and changed.details == {"from": "officer", "to": "staff"}


# --- API tokens and docs ----------------------------------------------------------------------------


def test_api_documents_money_as_decimal_strings_with_examples(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    payment = spec["components"]["schemas"]["Quote"]["properties"]["payment"]
    assert payment["type"] == "string" and payment["format"] == "decimal" and "pattern" in payment
    docs = html.unescape(client.get("/api/v1/docs").get_data(as_text=True))
    assert 'id="post-api-v1-quotes"' in docs and 'href="#post-api-v1-quotes"' in docs
    assert (
        "Example request" in docs
        and "Example answer (200)" in docs
        and '"amount_financed": "12500.00"' in docs
    )
    assert "flask --app" not in docs


def test_commands_and_jobs_get_the_default_language_without_a_request(app: Flask) -> None:
    from flask_babel import get_locale

    with app.app_context():
        assert str(get_locale()) == "en"  # seed-demo and the scheduler write notices outside requests
