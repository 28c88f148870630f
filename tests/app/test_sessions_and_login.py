"""Issue #17, items 5, 6, 9 and the password rules: sessions that end, a browser left clean,
throttling that slows attackers without locking the owner out, and guessable passwords refused."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from loanapp.accounts.models import User
from loanapp.accounts.operations import AccountError, ThrottlePolicy, check_new_password
from loanapp.applications.worker_views import DRAFT_SESSION_KEY
from loanapp.audit.models import AuditEvent
from loanapp.extensions import db
from tests.conftest import PASSWORDS


def _signed_in(app: Flask, role: str = "officer"):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    response = browser.post("/login", data={"email": f"{role}@example.org", "password": PASSWORDS[role]})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def _copy(app: Flask, browser):  # type: ignore[no-untyped-def]
    """Another browser holding a copy of ``browser``'s session cookie (what an attacker would steal)."""
    thief = app.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value, domain="localhost")
    return thief


def test_a_copied_cookie_dies_when_its_owner_signs_out(app: Flask, users) -> None:  # type: ignore[no-untyped-def]
    owner = _signed_in(app)
    thief = _copy(app, owner)
    assert thief.get("/home").status_code == 200  # a copy works while the session lives
    owner.post("/logout")
    assert thief.get("/home").status_code == 302
    assert "/login" in thief.get("/home").headers["Location"]


def test_changing_the_password_ends_every_other_session(app: Flask, users) -> None:  # type: ignore[no-untyped-def]
    here, elsewhere = _signed_in(app), _signed_in(app)
    page = here.get("/account/password")
    assert page.status_code == 200 and "Current password" in page.get_data(as_text=True)
    wrong = here.post(
        "/account/password",
        data={"current_password": "not-it-at-all", "new_password": "x", "confirm": "x"},
    )
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    weak = here.post(
        "/account/password",
        data={
            "current_password": PASSWORDS["officer"],
            "new_password": "password12",
            "confirm": "password12",
        },
    )
    assert weak.status_code == 422 and "too easy to guess" in weak.get_data(as_text=True)
    assert elsewhere.get("/home").status_code == 200  # refusals change nothing
    new = "maple-lantern-orbit-7"
    done = here.post(
        "/account/password",
        data={"current_password": PASSWORDS["officer"], "new_password": new, "confirm": new},
    )
    assert done.status_code == 302
    assert here.get("/home").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/home").status_code == 302  # every other session has ended
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_id == users["officer"])
        ).all()
    assert "user.password_changed" in actions
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": "officer@example.org", "password": new}).status_code == 302


def test_signing_out_leaves_nothing_of_the_last_person_in_the_browser(app: Flask, users) -> None:  # type: ignore[no-untyped-def]
    """A saved application draft (SSN last 4, birth date, address, income) was shown to the next person."""
    browser = _signed_in(app, "worker")
    with browser.session_transaction() as session:
        session[DRAFT_SESSION_KEY] = "draft-token-of-the-last-person"
        session["lang"] = "es"
    browser.post("/logout")
    with browser.session_transaction() as session:
        assert DRAFT_SESSION_KEY not in session
        assert "_user_id" not in session
        assert session.get("lang") == "es"  # only the language choice stays


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(app: Flask, users) -> None:  # type: ignore[no-untyped-def]
    attacker, owner = app.test_client(), app.test_client()
    attacker_addr, owner_addr = {"REMOTE_ADDR": "198.51.100.7"}, {"REMOTE_ADDR": "192.0.2.44"}
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attacker.post(
            "/login",
            data={"email": "staff@example.org", "password": "guess-guess"},
            environ_base=attacker_addr,
        )
    throttled = attacker.post(
        "/login",
        data={"email": "staff@example.org", "password": PASSWORDS["staff"]},
        environ_base=attacker_addr,
    )
    assert throttled.status_code == 429
    signed_in = owner.post(
        "/login", data={"email": "staff@example.org", "password": PASSWORDS["staff"]}, environ_base=owner_addr
    )
    assert signed_in.status_code == 302


def test_throttle_delays_grow_and_stay_bounded() -> None:
    policy = ThrottlePolicy(
        max_failures=5, delay_seconds=30, max_delay_seconds=900, account_max_delay_seconds=60
    )
    delays = [policy.delay(n, policy.max_failures, policy.max_delay_seconds) for n in range(4, 12)]
    assert delays == [0, 30, 60, 120, 240, 480, 900, 900]
    # Over all addresses an account's failures bring only short waits: strangers cannot keep the owner out.
    assert policy.delay(10_000, policy.max_failures_per_account, policy.account_max_delay_seconds) == 60


def test_blank_short_and_common_passwords_are_refused(app: Flask) -> None:
    with app.test_request_context():
        for weak in ("password12", " " * 10, "1234567890", "qwertyuiop", "worktrain2026", "a@b.org-1234"):
            try:
                check_new_password(weak, email="a@b.org")
            except AccountError as refused:
                assert refused.field == "password"
            else:
                raise AssertionError(f"{weak!r} was accepted")
        check_new_password("maple-lantern-orbit-7", email="a@b.org")


def test_account_creation_and_password_reset_refuse_a_guessable_password(app: Flask, users) -> None:  # type: ignore[no-untyped-def]
    from loanapp.accounts.operations import create_user, set_password

    with app.test_request_context():
        for call in (
            lambda: create_user("new@coopfed.org", "password12", "officer", "New Officer"),
            lambda: set_password(db.session.get(User, users["worker"]), " " * 10, actor=None, reason="reset"),
        ):
            try:
                call()
            except AccountError as refused:
                assert refused.field == "password"
            else:
                raise AssertionError("a guessable password was accepted")
        assert db.session.scalar(select(User).where(User.email == "new@coopfed.org")) is None
