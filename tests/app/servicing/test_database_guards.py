"""Issue #17, item 10: the database itself refuses to rewrite payments and the audit trail, the runtime
role cannot undo that, and the reserve check runs as a nightly job whose failure staff see."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from loanapp.extensions import db
from tests.app.servicing.conftest import pay


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE audit_events",
        "TRUNCATE loan_payments CASCADE",
        "TRUNCATE payment_allocations",
        "UPDATE loan_payments SET amount = amount + 1",
        "DELETE FROM loan_payments",
        "UPDATE payment_allocations SET to_principal = 0",
    ],
)
def test_postgres_refuses_rewriting_payments_and_the_audit_trail(
    loan: Any, people: dict[str, Any], on_date: Any, statement: str
) -> None:
    on_date(dt.date(2026, 2, 5))
    pay(loan, "100.00", dt.date(2026, 2, 5), people["officer"])
    db.session.flush()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text(statement))


@pytest.mark.postgres
def test_the_runtime_role_can_write_rows_but_not_disable_guards(app: Flask, people: dict[str, Any]) -> None:
    name = f"loanapp_rt_{secrets.token_hex(4)}"
    result = app.test_cli_runner().invoke(args=["db", "roles", "--name", name])
    assert result.exit_code == 0, result.output
    connection = db.session.connection()
    connection.exec_driver_sql(f"SET ROLE {name}")
    try:
        assert connection.exec_driver_sql("SELECT count(*) FROM users").scalar() >= 1
        for statement in (
            "ALTER TABLE audit_events DISABLE TRIGGER ALL",
            "TRUNCATE reserve_posting",
            "DELETE FROM audit_events",
            "DROP TABLE loan_payments",
        ):
            with (
                pytest.raises(sa.exc.DBAPIError, match="must be owner|permission denied"),
                connection.begin_nested(),
            ):
                connection.exec_driver_sql(statement)
    finally:
        connection.exec_driver_sql("RESET ROLE")


def test_the_nightly_reserve_check_fails_where_staff_see_it(
    app: Flask, client: Any, auth: Any, people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import reserve
    from loanapp.jobs import runner

    assert runner.run_job("reserve_check", dt.date(2026, 3, 1), trigger="test").outcome.value == "succeeded"
    # A broken invariant (as a rewrite behind the app's back would leave): the job fails, and says so.
    monkeypatch.setattr(
        reserve, "verify", lambda session, live=None: [reserve.Problem("negative_balance", "account 3")]
    )
    failed = runner.run_job("reserve_check", dt.date(2026, 3, 2), trigger="test")
    assert failed.outcome.value == "failed" and "negative_balance" in failed.error
    db.session.commit()
    auth.login("staff")
    page = client.get("/reserve").get_data(as_text=True)
    assert "nightly check of the reserve ledger failed" in page
