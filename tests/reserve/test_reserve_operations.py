"""Deposits, commitments, releases, interest, reversals, idempotency and month closes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import reserve as r
from reserve.schema import RequestRow, TransactionRow

ESD = {"funder": "Empire State Development", "grant": "ESD-2016-01"}


def deposit(
    session: Session, amount: str = "10000", key: str = "dep-1", on: date = date(2016, 1, 4)
) -> r.Transaction:
    return r.record_deposit(session, key=key, actor_id=1, amount=amount, received_on=on, **ESD)


def commit(
    session: Session,
    loan_id: int,
    principal: str = "10000",
    key: str | None = None,
    on: date = date(2016, 1, 10),
) -> r.Transaction:
    return r.commit_reserve(
        session,
        key=key or f"commit-{loan_id}",
        actor_id=2,
        loan_id=loan_id,
        principal=principal,
        effective_date=on,
    )


def test_deposit_moves_grant_money_into_available(session: Session) -> None:
    t = deposit(session, "25000.00")
    assert t.kind is r.TransactionKind.DEPOSIT
    assert sum(p.amount for p in t.postings) == 0
    position = r.reserve_position(session, date(2016, 1, 31))
    assert (position.deposits, position.available, position.balance) == (Decimal("25000.00"),) * 3


def test_repeated_deposit_with_the_same_key_posts_once_and_returns_the_original(session: Session) -> None:
    first = deposit(session, "100")
    again = deposit(session, "100.00")
    assert again == first
    assert r.reserve_position(session, date(2016, 1, 31)).available == Decimal("100.00")


def test_same_key_with_different_content_is_an_idempotency_conflict(session: Session) -> None:
    deposit(session, "100")
    with pytest.raises(r.IdempotencyConflict):
        deposit(session, "101")
    with pytest.raises(r.IdempotencyConflict):
        r.record_interest(session, key="dep-1", actor_id=1, amount="100", earned_on=date(2016, 1, 4))


def test_idempotency_key_is_stored_with_a_hash_of_the_request(session: Session) -> None:
    t = deposit(session)
    row = session.execute(select(RequestRow).where(RequestRow.key == "dep-1")).scalar_one()
    assert (row.operation, row.transaction_id, len(row.request_hash)) == ("deposit", t.id, 64)


def test_commitment_takes_the_policy_share_of_principal_from_available(session: Session) -> None:
    deposit(session, "10000")
    t = r.commit_reserve(
        session,
        key="c",
        actor_id=2,
        loan_id=41,
        principal="8500.10",
        effective_date=date(2016, 1, 10),
        policy=r.ReservePolicy(commitment_share=Decimal("0.15")),
    )
    assert t.amount_for(r.AccountKind.COMMITTED) == Decimal("1275.02")  # 1275.015 rounded half-up
    assert r.commitment_balance(session, 41, date(2016, 1, 10)) == Decimal("1275.02")
    position = r.reserve_position(session, date(2016, 1, 10))
    assert position.available == Decimal("8724.98")
    assert position.committed == Decimal("1275.02")
    assert position.balance == Decimal("10000.00")


def test_commitment_beyond_available_is_refused_with_the_figures(session: Session) -> None:
    deposit(session, "1000")
    with pytest.raises(
        r.InsufficientReserve, match=r"reserve available is \$1,000.00.*loan 7.*\$500.00 more"
    ):
        commit(session, 7, principal="10000")
    assert r.reserve_position(session, date(2016, 1, 31)).available == Decimal("1000.00")
    assert r.journal(session).total == 1  # nothing half-posted


def test_back_dated_commitment_cannot_make_an_earlier_balance_negative(session: Session) -> None:
    deposit(session, "1500", on=date(2016, 1, 20))
    with pytest.raises(r.InsufficientReserve):
        commit(session, 7, principal="10000", on=date(2016, 1, 10))  # before the money arrived


def test_later_withdrawal_cannot_be_made_room_for_by_a_back_dated_one(session: Session) -> None:
    deposit(session, "1500", on=date(2016, 1, 5))
    commit(session, 1, principal="10000", on=date(2016, 1, 20))  # leaves 0 from the 20th
    with pytest.raises(r.InsufficientReserve, match="or later"):
        commit(session, 2, principal="10000", on=date(2016, 1, 10))


def test_a_loan_has_one_commitment_until_it_is_reversed(session: Session) -> None:
    deposit(session)
    first = commit(session, 7)
    with pytest.raises(r.CommitmentExists):
        commit(session, 7, key="again")
    with pytest.raises(r.ReversalNotAllowed, match="follows the loan"):
        r.reverse(
            session,
            key="rv-by-hand",
            actor_id=3,
            transaction_id=first.id,
            effective_date=date(2016, 1, 11),
            reason="wrong loan",
        )
    r.reverse(  # the booking itself undone (the loan's own change)
        session,
        key="rv",
        actor_id=3,
        transaction_id=first.id,
        effective_date=date(2016, 1, 11),
        reason="wrong loan",
        follows_loan=True,
    )
    commit(session, 7, key="third")
    assert r.commitment_balance(session, 7, date(2016, 1, 31)) == Decimal("1500.00")


def test_release_returns_the_whole_commitment_to_available(session: Session) -> None:
    deposit(session)
    commit(session, 7)
    t = r.release_commitment(session, key="rel", actor_id=2, loan_id=7, effective_date=date(2016, 3, 1))
    assert t.amount_for(r.AccountKind.AVAILABLE) == Decimal("1500.00")
    assert r.commitment_balance(session, 7, date(2016, 3, 1)) == 0
    assert r.commitment_balance(session, 7, date(2016, 2, 29)) == Decimal("1500.00")
    with pytest.raises(r.NoOpenCommitment):
        r.release_commitment(session, key="rel-2", actor_id=2, loan_id=7, effective_date=date(2016, 3, 2))


def test_release_of_a_loan_never_committed_is_refused(session: Session) -> None:
    with pytest.raises(r.NoOpenCommitment):
        r.release_commitment(session, key="rel", actor_id=2, loan_id=999, effective_date=date(2016, 3, 1))


def test_interest_earned_stays_in_the_reserve(session: Session) -> None:
    deposit(session)
    r.record_interest(session, key="int", actor_id=1, amount="4.17", earned_on=date(2016, 1, 31))
    position = r.reserve_position(session, date(2016, 1, 31))
    assert (position.interest, position.available) == (Decimal("4.17"), Decimal("10004.17"))


def test_reversal_negates_postings_and_links_back_once(session: Session) -> None:
    original = deposit(session)
    reversal = r.reverse(
        session,
        key="rv",
        actor_id=3,
        transaction_id=original.id,
        effective_date=date(2016, 1, 5),
        reason="duplicate wire",
    )
    assert reversal.reverses_id == original.id
    assert sorted(p.amount for p in reversal.postings) == sorted(-p.amount for p in original.postings)
    assert r.journal(session, kind=r.TransactionKind.DEPOSIT).items[0].reversed_by_id == reversal.id
    with pytest.raises(r.AlreadyReversed):
        r.reverse(
            session,
            key="rv-2",
            actor_id=3,
            transaction_id=original.id,
            effective_date=date(2016, 1, 6),
            reason="again",
        )
    with pytest.raises(r.ReversalNotAllowed):
        r.reverse(
            session,
            key="rv-3",
            actor_id=3,
            transaction_id=reversal.id,
            effective_date=date(2016, 1, 6),
            reason="undo",
        )
    assert r.reserve_position(session, date(2016, 1, 31)).balance == 0


def test_reversal_that_would_overdraw_available_is_refused(session: Session) -> None:
    d = deposit(session, "10000")
    commit(session, 7, principal="60000")  # commits 9,000
    with pytest.raises(r.InsufficientReserve):
        r.reverse(
            session,
            key="rv",
            actor_id=3,
            transaction_id=d.id,
            effective_date=date(2016, 1, 12),
            reason="returned",
        )


def test_reversal_cannot_be_dated_before_what_it_reverses(session: Session) -> None:
    d = deposit(session, on=date(2016, 1, 10))
    with pytest.raises(r.ReversalNotAllowed):
        r.reverse(
            session, key="rv", actor_id=3, transaction_id=d.id, effective_date=date(2016, 1, 9), reason="x"
        )


def test_reversing_an_unknown_transaction_is_refused(session: Session) -> None:
    with pytest.raises(r.TransactionNotFound):
        r.reverse(
            session, key="rv", actor_id=3, transaction_id=12345, effective_date=date(2016, 1, 9), reason="x"
        )


def test_closed_month_refuses_postings_and_corrections_go_in_the_open_month(session: Session) -> None:
    d = deposit(session, on=date(2016, 1, 4))
    r.close_month(session, 2016, 1, actor_id=9, today=date(2016, 2, 2))
    with pytest.raises(r.MonthClosed):
        r.record_interest(session, key="late", actor_id=1, amount="1", earned_on=date(2016, 1, 31))
    with pytest.raises(r.MonthClosed):
        r.reverse(
            session, key="rv", actor_id=3, transaction_id=d.id, effective_date=date(2016, 1, 20), reason="x"
        )
    fix = r.reverse(
        session, key="rv2", actor_id=3, transaction_id=d.id, effective_date=date(2016, 2, 1), reason="x"
    )
    assert fix.reverses_id == d.id
    assert r.reserve_position(session, date(2016, 1, 31)).balance == Decimal("10000.00")


def test_months_close_in_order_once_they_are_over(session: Session) -> None:
    r.close_month(session, 2016, 1, actor_id=9, today=date(2016, 3, 15))
    with pytest.raises(r.MonthNotClosable, match="in order"):
        r.close_month(session, 2016, 3, actor_id=9, today=date(2016, 4, 15))
    with pytest.raises(r.MonthNotClosable, match="not over"):
        r.close_month(session, 2016, 2, actor_id=9, today=date(2016, 2, 29))
    again = r.close_month(session, 2016, 1, actor_id=9, today=date(2016, 3, 15))
    assert (again.year, again.month) == (2016, 1)
    r.close_month(session, 2016, 2, actor_id=9, today=date(2016, 3, 15))
    assert r.closed_through(session) == date(2016, 2, 29)
    assert [(c.year, c.month) for c in r.closed_months(session)] == [(2016, 1), (2016, 2)]


def test_a_refused_operation_leaves_the_callers_transaction_usable(session: Session) -> None:
    deposit(session, "100")
    with pytest.raises(r.InsufficientReserve):
        commit(session, 1, principal="100000")
    commit(session, 2, principal="100")
    assert r.verify(session) == []


def test_operations_never_commit_the_callers_unit_of_work(session: Session) -> None:
    deposit(session)
    session.rollback()
    assert session.scalar(select(TransactionRow.id)) is None
