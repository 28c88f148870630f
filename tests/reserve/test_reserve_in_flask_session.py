"""The operations run inside the web app's unit of work: a Flask-SQLAlchemy session, committed by the app.

The app books a loan and commits its reserve in one transaction; a failure in either rolls back both.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import reserve as r
from reserve.db import configure_sqlite
from reserve.schema import TransactionRow, metadata


class AppBase(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=AppBase)


class Loan(db.Model):  # type: ignore[name-defined,misc]
    """Stands in for the app's loan table (its own MetaData, as in loanapp)."""

    __tablename__ = "test_flask_loan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower: Mapped[str] = mapped_column(String(80))


@pytest.fixture  # not named ``app``: tests/conftest.py gives that name the real loanapp
def flask_app() -> Iterator[Flask]:
    with tempfile.TemporaryDirectory(prefix="reserve-flask-") as folder:
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{os.path.join(folder, 'app.sqlite')}"
        db.init_app(app)
        with app.app_context():
            configure_sqlite(db.engine)  # what loanapp does for SQLite engines
            db.create_all()
            metadata.create_all(db.engine)
            r.record_deposit(
                db.session,
                key="d",
                actor_id=1,
                funder="ESD",
                grant="G",
                amount="3000",
                received_on=date(2016, 1, 4),
            )
            db.session.commit()
            yield app
            db.session.remove()
            db.engine.dispose()


def book(borrower: str, principal: str, key: str) -> Any:
    loan = Loan(borrower=borrower)
    db.session.add(loan)
    db.session.flush()
    r.commit_reserve(
        db.session,
        key=key,
        actor_id=2,
        loan_id=loan.id,
        principal=principal,
        effective_date=date(2016, 1, 10),
    )
    db.session.commit()
    return loan.id


def test_loan_and_its_commitment_commit_together(flask_app: Flask) -> None:
    with flask_app.app_context():
        loan_id = book("Ana", "10000", "c-1")
        assert r.commitment_balance(db.session, loan_id, date(2016, 1, 31)) == Decimal("1500.00")
        assert r.verify(db.session, live_loan_ids={loan_id}) == []


def test_refused_commitment_leaves_no_loan_behind_once_the_app_rolls_back(flask_app: Flask) -> None:
    with flask_app.app_context():
        with pytest.raises(r.InsufficientReserve):
            book("Ben", "100000", "c-2")
        db.session.rollback()
        assert db.session.scalars(select(Loan)).all() == []
        assert db.session.scalar(select(TransactionRow.id).where(TransactionRow.kind == "commitment")) is None
        assert r.reserve_position(db.session, date(2016, 1, 31)).available == Decimal("3000.00")
