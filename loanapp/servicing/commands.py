"""``flask --app loanapp import-payments FILE --as EMAIL``: the core system's payment export."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from tqdm import tqdm

from loanapp.extensions import db


@click.command("import-payments")
@with_appcontext
@click.argument("file", type=click.File("rb"))
@click.option("--as", "email", required=True, help="The officer on whose behalf the payments are posted.")
@click.option("--skip-bad", is_flag=True, help="Post the good rows even if some rows are bad.")
@click.option("--dry-run", is_flag=True, help="Check the file and post nothing.")
def import_payments_command(file: click.utils.LazyFile, email: str, skip_bad: bool, dry_run: bool) -> None:
    """Import payments from CSV: every row is checked first; a file with bad rows posts nothing
    (unless --skip-bad); a row already imported (same reference) is never posted twice."""
    from loanapp.accounts.models import User
    from loanapp.accounts.operations import normalise_email
    from loanapp.servicing import imports

    actor = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if actor is None or actor.role != "officer":
        raise click.UsageError(f"{email} is not an officer's account")
    data = file.read()
    rows = max(data.count(b"\n") - 1, 1)
    with tqdm(total=rows * 2, unit="row", desc="import", file=sys.stderr, disable=None) as bar:
        import io

        report = imports.import_payments(
            io.BytesIO(data),
            actor=actor,
            skip_bad=skip_bad,
            max_rows=int(current_app.config["PAYMENT_IMPORT_MAX_ROWS"]),
            progress=bar.update,
        )
    for error in report.errors:
        click.echo(f"line {error.line}: {error.reason}", err=True)
    if dry_run or (report.errors and not skip_bad):
        db.session.rollback()
        verdict = (
            "dry run: nothing posted" if dry_run else "nothing posted (fix the rows above, or use --skip-bad)"
        )
        click.echo(
            f"{report.rows} rows, {len(report.errors)} bad, {report.already_posted} already posted; {verdict}"
        )
        if report.errors and not dry_run:
            sys.exit(1)
        return
    db.session.commit()
    click.echo(
        f"{report.rows} rows: {report.posted} posted, {report.already_posted} already posted, "
        f"{report.skipped} bad rows skipped"
    )
