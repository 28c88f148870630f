from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from loanapp import create_app
from loanapp.config import sqlalchemy_url


def test_production_refuses_the_development_secret_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})


def test_production_with_a_real_key_sets_secure_cookies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "ENV": "production",
            "SECRET_KEY": "s3cret-from-vault-" + "x" * 32,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_environment_variables_override_defaults(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOANAPP_LOGIN_MAX_FAILURES", "9")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite")
    app = create_app()
    assert app.config["LOGIN_MAX_FAILURES"] == 9
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite")


def test_postgres_urls_use_psycopg_3() -> None:
    assert sqlalchemy_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_models_and_migrations_agree(app: Flask) -> None:
    """The schema built by the migrations is the schema the models describe (``flask db check``)."""
    from loanapp.extensions import db
    from loanapp.models import all_metadata

    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, all_metadata())
    assert diff == []


@pytest.mark.postgres
def test_audit_trail_refuses_update_and_delete_in_the_database(app: Flask, users) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from loanapp.extensions import db

    with app.app_context():
        for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
                db.session.execute(sa.text(statement))


def test_reserve_migration_carries_the_ledgers_postgres_guards() -> None:
    """The migration holds a frozen copy of reserve.schema.postgres_ddl(); they must not drift apart."""
    import importlib.util
    import pathlib

    from loanapp import ROOT
    from reserve.schema import postgres_ddl, postgres_drop_ddl

    path = next(pathlib.Path(ROOT, "migrations", "versions").glob("*_reserve_ledger.py"))
    spec = importlib.util.spec_from_file_location("reserve_ledger_migration", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert postgres_ddl() == module.POSTGRES_DDL
    assert postgres_drop_ddl() == module.POSTGRES_DROP_DDL
