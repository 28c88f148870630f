from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from loanapp.accounts.models import ApiToken, LoginAttempt, User
from loanapp.audit.models import AuditEvent
from loanapp.extensions import db


def test_each_role_signs_in_and_lands_on_its_own_page(auth, client) -> None:  # type: ignore[no-untyped-def]
    headings = {
        "worker": "Hello, Test Worker",
        "officer": "Credit-union officer",
        "staff": "Work Train staff",
        "admin": "Administrator",
    }
    for role, heading in headings.items():
        response = auth.login(role)
        assert response.status_code == 302
        page = client.get("/home")
        assert page.status_code == 200
        assert heading in page.get_data(as_text=True)
        auth.logout()


def test_wrong_password_unknown_user_and_disabled_user_get_the_same_answer(app: Flask, client, users) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.get(User, users["staff"]).active = False
        db.session.commit()
    answers = set()
    for email, password in (
        ("worker@example.org", "wrong-password"),
        ("nobody@example.org", "wrong-password"),
        ("staff@example.org", "staff-pass-123"),
    ):
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 401
        answers.add("Email or password is not right." in response.get_data(as_text=True))
    assert answers == {True}


def test_repeated_failures_throttle_the_account_even_with_the_right_password(
    app: Flask, client, users
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert (
            client.post("/login", data={"email": "officer@example.org", "password": "nope-nope"}).status_code
            == 401
        )
    response = client.post("/login", data={"email": "officer@example.org", "password": "officer-pass-123"})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    with app.app_context():
        failures = db.session.scalar(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
        )
    assert failures == app.config["LOGIN_MAX_FAILURES"]


def test_throttle_counts_are_shared_by_separate_app_processes(app: Flask, users) -> None:  # type: ignore[no-untyped-def]
    """Two clients stand for two web processes: the count lives in the database, not in memory."""
    first, second = app.test_client(), app.test_client()
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        (first if n % 2 else second).post(
            "/login", data={"email": "staff@example.org", "password": "bad-bad-bad"}
        )
    response = first.post("/login", data={"email": "staff@example.org", "password": "staff-pass-123"})
    assert response.status_code == 429


def test_login_ignores_an_offsite_next_address(auth, client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/login?next=https://evil.example/steal",
        data={"email": "worker@example.org", "password": "worker-pass-123"},
    )
    assert response.headers["Location"].endswith("/home")


def test_logout_ends_the_session_and_is_audited(app: Flask, auth, client, users) -> None:  # type: ignore[no-untyped-def]
    auth.login("officer")
    assert client.get("/home").status_code == 200
    auth.logout()
    assert client.get("/home").status_code == 302
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_id == users["officer"])
        ).all()
    assert "user.signed_in" in actions and "user.signed_out" in actions


def test_passwords_are_stored_hashed(app: Flask, users) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        stored = db.session.get(User, users["worker"]).password_hash
    assert "worker-pass-123" not in stored and stored.startswith("pbkdf2:")


def test_bearer_token_authenticates_api_calls_and_is_stored_hashed(app: Flask, client, token_for) -> None:  # type: ignore[no-untyped-def]
    headers = token_for("officer")
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["role"] == "officer"
    token = headers["Authorization"].split()[1]
    with app.app_context():
        hashes = db.session.scalars(select(ApiToken.token_hash)).all()
    assert token not in hashes and len(hashes) == 1


def test_a_bad_bearer_token_is_refused_with_json(client, users) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.get_json() == {"message": "The token is not valid."}


def test_admin_creates_an_officer_and_bad_input_rerenders_the_form(app: Flask, auth, client) -> None:  # type: ignore[no-untyped-def]
    auth.login("admin")
    bad = client.post(
        "/admin/users",
        data={"full_name": "", "email": "not-an-email", "role": "officer", "password": "short"},
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "This field is required." in text and "Invalid email address." in text
    good = client.post(
        "/admin/users",
        data={
            "full_name": "Nia Officer",
            "email": "nia@coopfed.example",
            "role": "officer",
            "password": "long-enough-1",
        },
    )
    assert good.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nia@coopfed.example"))
        assert user is not None and user.role == "officer"
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "user.created", AuditEvent.entity_id == str(user.id)
            )
        )
        assert event is not None and event.actor_label == "admin@example.org"


def test_admin_disables_an_account_and_it_can_no_longer_sign_in(app: Flask, auth, client, users) -> None:  # type: ignore[no-untyped-def]
    auth.login("admin")
    assert client.post(f"/admin/users/{users['worker2']}/active").status_code == 302
    auth.logout()
    assert (
        client.post(
            "/login", data={"email": "worker2@example.org", "password": "worker-pass-123"}
        ).status_code
        == 401
    )
