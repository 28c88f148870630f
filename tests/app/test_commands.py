from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from loanapp.accounts.models import User
from loanapp.extensions import db
from loanapp.programs.models import Employer, ReferralPartner, TrainingProgram


def test_create_user_reads_the_password_from_stdin(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=["create-user", "Kim@CoopFed.example", "--role", "officer", "--password-stdin"],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "kim@coopfed.example"))
        assert user is not None and user.role == "officer"


def test_create_user_refuses_a_short_password_and_changes_nothing(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=["create-user", "x@example.org", "--role", "staff", "--password-stdin"], input="short\n"
    )
    assert result.exit_code != 0 and "at least 10 characters" in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_create_token_prints_a_token_that_works(app: Flask, runner, client, users) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["create-token", "staff@example.org"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()["role"] == "staff"
    )


def test_seed_demo_is_safe_to_run_twice(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "officer@demo.coopfed.org" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Employer)) == 12
        assert db.session.scalar(select(func.count()).select_from(TrainingProgram)) == 2
        assert db.session.scalar(select(func.count()).select_from(ReferralPartner)) == 8
        roles = db.session.scalars(select(User.role).where(User.email.like("%@demo.%"))).all()
        assert sorted(roles) == ["admin", "officer", "staff", "worker"]
