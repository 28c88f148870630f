"""seed-demo fills the queue and the report with applications in every state, once."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select


def test_seed_demo_adds_applications_in_many_states_and_is_safe_to_rerun(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    from loanapp.accounts.models import User
    from loanapp.applications.models import Application
    from loanapp.extensions import db
    from loanapp.loans.models import Loan

    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "demo applications: 17 added" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert "demo applications: 0 added" in second.output
    with app.app_context():
        statuses = set(db.session.scalars(select(Application.status)))
        assert {
            "submitted",
            "in_review",
            "needs_documents",
            "approved",
            "counter_offered",
            "declined",
            "offer_accepted",
            "booked",
            "withdrawn",
            "offer_refused",
        } <= statuses
        assert db.session.scalar(select(func.count()).select_from(Application)) == 17
        assert db.session.scalar(select(func.count()).select_from(Loan)) == 5
        maria = db.session.scalar(select(User).where(User.email == "worker@demo.worktrain.org"))
        mine = db.session.scalars(select(Application).where(Application.worker_id == maria.id)).all()
        assert [a.status for a in mine] == ["approved"]
