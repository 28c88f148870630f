"""Fixtures: one database per test session built by the migrations; every test rolls back.

``TEST_DATABASE_URL`` picks PostgreSQL (``postgresql+psycopg://...``); without it the suite runs on a
SQLite file. An unreachable PostgreSQL that was asked for is an error, never a silent skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSqlalchemySession

from tests import databases

FAST_HASH = "pbkdf2:sha256:1000"  # scrypt's cost is the point in production and a waste in tests
PASSWORDS = {
    "worker": "worker-pass-123",
    "officer": "officer-pass-123",
    "staff": "staff-pass-123",
    "admin": "admin-pass-123",
}


def pytest_configure(config: pytest.Config) -> None:
    url = databases.requested_url()
    if databases.is_postgres(url):
        reason = databases.postgres_reachable(url)  # type: ignore[arg-type]
        if reason is not None:
            pytest.exit(f"PostgreSQL at {url} is unreachable: {reason}", returncode=3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if databases.is_postgres(databases.requested_url()):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = databases.requested_url()
    if databases.is_postgres(server):
        url = databases.create_postgres_database(server)  # type: ignore[arg-type]
        try:
            databases.migrate(url)
            yield url
        finally:
            databases.drop_postgres_database(server, url)  # type: ignore[arg-type]
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
        databases.migrate(url)
        yield url


def app_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "SERVER_NAME": "localhost",
        # Queued projections are run by the tests themselves (runs.execute), not a background thread.
        "PROJECTION_WORKER": "off",
        # seed-demo without the 140-loan program history (tests/app/projections/test_demo_history.py
        # seeds a small one): it takes most of a minute.
        "DEMO_HISTORY_LOANS": 0,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return _make_app(database_url, tmp_path_factory)


def _make_app(database_url: str, tmp_path_factory: pytest.TempPathFactory, **overrides: Any) -> Flask:
    from loanapp import create_app

    instance = tmp_path_factory.mktemp("instance")
    return create_app(app_config(database_url, UPLOAD_FOLDER=str(instance / "uploads"), **overrides))


class _SessionOnTestConnection(FlaskSqlalchemySession):
    """Flask-SQLAlchemy's session picks its engine by itself, which would really commit; this one stays
    on the test's connection, where the app's commits become savepoints."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        return self.bind


@pytest.fixture(autouse=True)
def _rollback_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run the test inside one outer transaction that is rolled back; the app's commits become savepoints."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    from loanapp.extensions import db

    # No app context stays pushed during the test: requests must not share one (Flask-Login and
    # Flask-Babel cache per context), so the session swap lives on the ``db`` object itself.
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {"class_": _SessionOnTestConnection, "bind": connection, "join_transaction_mode": "create_savepoint"}
    )
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def users(app: Flask) -> dict[str, Any]:
    """One account per role, created through the same operation the CLI and admin page use."""
    from loanapp.accounts.operations import create_user
    from loanapp.extensions import db

    with app.app_context():
        made = {
            role: create_user(f"{role}@example.org", password, role, f"Test {role.title()}")
            for role, password in PASSWORDS.items()
        }
        made["worker2"] = create_user("worker2@example.org", PASSWORDS["worker"], "worker", "Other Worker")
        db.session.commit()
        return {role: user.id for role, user in made.items()}


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, role: str = "worker", email: str | None = None) -> Any:
        email = email or f"{role}@example.org"
        password = PASSWORDS["worker" if role == "worker2" else role]
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self) -> Any:
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient, users: dict[str, Any]) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def token_for(app: Flask, users: dict[str, Any]) -> Any:
    """A bearer token for a role's test user: ``token_for("officer")``."""
    from loanapp.accounts.models import User
    from loanapp.accounts.operations import issue_token
    from loanapp.extensions import db

    def make(role: str) -> dict[str, str]:
        with app.app_context():
            token = issue_token(db.session.get(User, users[role]))
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture(scope="session")
def in_ci() -> bool:
    return os.environ.get("CI") == "true"
