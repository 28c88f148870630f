"""``flask --app loanapp db roles``: the least-privilege role the web processes should connect as.

The schema's owner (who runs ``db upgrade``) can disable triggers and truncate tables, so an app
connected as the owner could undo the append-only guards from a console or through a flaw. The
runtime role gets data manipulation only: it owns nothing, so it cannot ALTER, DROP, TRUNCATE or
disable a trigger, and it cannot UPDATE or DELETE rows of the append-only tables at all.
PostgreSQL only (SQLite has no roles: it is the single-user demo database).
"""

from __future__ import annotations

import re
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import text

from loanapp.extensions import db

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: Rows never changed once written (the database's triggers refuse it too).
APPEND_ONLY_TABLES = (
    "audit_events",
    "loan_payments",
    "reserve_account",
    "reserve_transaction",
    "reserve_posting",
    "reserve_claim_event",
    "reserve_month_close",
)


def runtime_role_statements(name: str, schema: str, database: str, quote: object) -> list[str]:
    """The SQL that creates (or refreshes) the runtime role; identifiers quoted by ``quote``."""
    q = quote  # the dialect's identifier quoting
    role, sch, dbname = q(name), q(schema), q(database)  # type: ignore[operator]
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN "
        f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT; END IF; END $$",
        f"GRANT CONNECT ON DATABASE {dbname} TO {role}",
        f"GRANT USAGE ON SCHEMA {sch} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {sch} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sch} TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {sch} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {sch} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    statements += [f"REVOKE UPDATE, DELETE, TRUNCATE ON {sch}.{q(t)} FROM {role}" for t in APPEND_ONLY_TABLES]  # type: ignore[operator]
    return statements


@click.command("roles")
@click.option("--name", default="loanapp_runtime", show_default=True, help="The runtime role's name.")
@click.option("--password-stdin", is_flag=True, help="Set the role's password from standard input.")
@click.option("--print-only", is_flag=True, help="Print the SQL instead of running it.")
@with_appcontext
def roles_command(name: str, password_stdin: bool, print_only: bool) -> None:
    """Create the least-privilege role the web processes connect as (DML only, owns nothing)."""
    if not ROLE_NAME.fullmatch(name):
        raise click.BadParameter("lower-case letters, digits and _ (at most 63)", param_hint="--name")
    engine = db.engine
    if engine.dialect.name != "postgresql":
        raise click.ClickException("roles exist on PostgreSQL only; SQLite is the single-user demo database")
    schema = db.session.scalar(text("SELECT current_schema()"))
    database = db.session.scalar(text("SELECT current_database()"))
    statements = runtime_role_statements(name, schema, database, engine.dialect.identifier_preparer.quote)
    if print_only:
        click.echo(";\n".join(statements) + ";")
        return
    for statement in statements:
        db.session.execute(text(statement))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if len(password) < 16:
            raise click.ClickException("use a password of at least 16 characters")
        statement = db.session.scalar(
            text("SELECT format('ALTER ROLE %I PASSWORD %L', :name, :password)"),
            {"name": name, "password": password},
        )
        db.session.connection().exec_driver_sql(statement)
    db.session.commit()
    click.echo(
        f"role {name}: data manipulation on {schema}, nothing owned; append-only tables insert-only. "
        f"Connect the web processes as {name}; run db upgrade as the owner."
    )
