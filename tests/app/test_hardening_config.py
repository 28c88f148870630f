"""Issue #17, item 8 and the proxy part of item 9: environment names, keys, HSTS, trusted proxies."""

from __future__ import annotations

import pytest

from loanapp import create_app
from loanapp.config import DEV_SECRET_KEY

STRONG_KEY = "k" * 48


def _app(tmp_path, **config):  # type: ignore[no-untyped-def]
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite", **config})


@pytest.mark.parametrize("env", ["Production", "prod", "PRODUCTION", "staging", ""])
def test_an_unknown_environment_name_refuses_to_start(tmp_path, env: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="LOANAPP_ENV must be one of"):
        _app(tmp_path, ENV=env, SECRET_KEY=STRONG_KEY)


def test_unknown_environment_from_the_environment_variable(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The attack: LOANAPP_ENV=prod ran as development with the public key, so sessions were forgeable."""
    monkeypatch.setenv("LOANAPP_ENV", "prod")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite")
    with pytest.raises(RuntimeError, match="LOANAPP_ENV"):
        create_app()


@pytest.mark.parametrize("key", [DEV_SECRET_KEY, "", "short-but-not-dev"])
def test_production_needs_a_real_key_of_32_bytes(tmp_path, key: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _app(tmp_path, ENV="production", SECRET_KEY=key)


def test_the_development_key_is_refused_in_production_even_under_testing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _app(tmp_path, ENV="production", TESTING=True, SECRET_KEY=DEV_SECRET_KEY)


def test_production_sends_hsts_and_development_does_not(tmp_path) -> None:  # type: ignore[no-untyped-def]
    production = _app(tmp_path, ENV="production", SECRET_KEY=STRONG_KEY)
    response = production.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    development = _app(tmp_path, SECRET_KEY=STRONG_KEY)
    assert "Strict-Transport-Security" not in development.test_client().get("/login").headers


@pytest.mark.parametrize("hops", [-1, 6, "1", True])
def test_trusted_proxy_hops_must_be_a_small_whole_number(tmp_path, hops) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="TRUSTED_PROXY_HOPS"):
        _app(tmp_path, TRUSTED_PROXY_HOPS=hops)


def test_forwarded_addresses_count_only_behind_trusted_proxies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from flask import request

    seen: list[str | None] = []
    for hops in (0, 1):
        app = _app(tmp_path, TRUSTED_PROXY_HOPS=hops)

        @app.route("/whoami")
        def whoami() -> str:
            seen.append(request.remote_addr)
            return ""

        whoami.access_rule = "public"  # type: ignore[attr-defined]
        app.test_client().get(
            "/whoami",
            headers={"X-Forwarded-For": "203.0.113.9"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
    # Without trusted hops a client's own X-Forwarded-For is ignored (it could name anyone).
    assert seen == ["10.0.0.2", "203.0.113.9"]
