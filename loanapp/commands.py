"""Command-line tasks: ``flask --app loanapp <command>``."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from loanapp.access import ROLES
from loanapp.extensions import db

# Demo accounts (documented in README.md). Demo data only: never seed these on a production database.
DEMO_USERS = (
    ("worker@demo.worktrain.org", "Maria Lopez", "worker", "worker-demo-pass"),
    ("officer@demo.coopfed.org", "Dana Officer", "officer", "officer-demo-pass"),
    ("staff@demo.worktrain.org", "Sam Staff", "staff", "staff-demo-pass"),
    ("admin@demo.worktrain.org", "Alex Admin", "admin", "admin-demo-pass"),
)


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", "full_name", default="", help="The person's full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email: str, role: str, full_name: str, password_stdin: bool) -> None:
    """Create an account (officers, staff and admins are created here or by an admin)."""
    from loanapp.accounts.operations import AccountError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, password, role, full_name)
    except AccountError as exc:
        raise click.UsageError(f"{exc.field}: {exc.message}") from exc
    db.session.commit()
    click.echo(f"created user {user.id} {user.email} ({user.role})")


@click.command("create-token")
@with_appcontext
@click.argument("email")
@click.option("--label", default="", help="What the token is for, e.g. 'core system export'.")
@click.option("--days", type=int, default=None, help="Days until it expires (default API_TOKEN_DAYS).")
def create_token_command(email: str, label: str, days: int | None) -> None:
    """Issue a bearer API token for an account and print it once."""
    from loanapp.accounts.models import User
    from loanapp.accounts.operations import AccountError, issue_token, normalise_email

    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.UsageError(f"no account with email {email}")
    try:
        token = issue_token(user, label, days=days)
    except AccountError as exc:
        raise click.UsageError(str(exc.message)) from None
    db.session.commit()
    click.echo(token)


@click.command("list-tokens")
@with_appcontext
@click.argument("email")
def list_tokens_command(email: str) -> None:
    """List an account's API tokens: id, prefix, label, state, expiry (never the token itself)."""
    from loanapp.accounts.models import User
    from loanapp.accounts.operations import normalise_email, token_state, tokens_of

    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.UsageError(f"no account with email {email}")
    for row in tokens_of(user):
        expires = row.expires_at.date().isoformat() if row.expires_at else "never"
        click.echo(f"{row.id:>6}  {row.prefix}…  {token_state(row):8} expires {expires}  {row.label}")


@click.command("revoke-token")
@with_appcontext
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def revoke_token_command(token_id: int) -> None:
    """Revoke an API token by its id (see list-tokens); calls with it are refused from now on."""
    from loanapp.accounts.operations import AccountError, revoke_token

    try:
        revoked = revoke_token(token_id, actor=None)
    except AccountError as exc:
        raise click.UsageError(str(exc.message)) from None
    db.session.commit()
    click.echo(f"token {token_id} revoked" if revoked else f"token {token_id} was already revoked")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Seed the partnership's employers, programs and partners, and one demo user per role. Safe to rerun."""
    from loanapp.accounts.models import User
    from loanapp.accounts.operations import create_user
    from loanapp.programs.reference import seed_reference_lists

    added = seed_reference_lists()
    click.echo(", ".join(f"{name}: {count} added" for name, count in added.items()))
    for email, name, role, password in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            create_user(email, password, role, name)
        click.echo(f"  {role:8} {email:32} password: {password}")
    from loanapp.applications.demo import seed_demo_applications

    click.echo(f"demo applications: {seed_demo_applications()} added")
    from loanapp.servicing.demo import seed_servicing_demo

    db.session.commit()
    seed_servicing_demo(click.echo)
    db.session.commit()
    from loanapp.projections.demo import seed_program_history

    click.echo(f"demo program history: {seed_program_history(echo=click.echo)} loans added")
    from loanapp.projections.demo import seed_projection_snapshots

    click.echo(f"demo projection snapshots: {seed_projection_snapshots(echo=click.echo)} taken")
    from loanapp.outcomes.demo import seed_outcome_demo

    click.echo(f"demo check-ins: {seed_outcome_demo(echo=click.echo)} answered")


def register(app: Flask) -> None:
    from flask_migrate.cli import db as db_group

    from loanapp.dbroles import roles_command
    from loanapp.jobs.commands import run_job_command, scheduler_command
    from loanapp.reserve_admin.commands import reserve_check_command
    from loanapp.servicing.commands import import_payments_command

    db_group.add_command(roles_command)
    for command in (
        reserve_check_command,
        create_user_command,
        create_token_command,
        list_tokens_command,
        revoke_token_command,
        seed_demo_command,
        import_payments_command,
        run_job_command,
        scheduler_command,
    ):
        app.cli.add_command(command)
