"""Position as of a date, the funder's monthly statement and the journal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

import reserve as r


def history(session: Session) -> None:
    """January: two grants, two loans. February: a payoff, a charge-off paid, interest, a reversal."""
    r.record_deposit(
        session,
        key="d1",
        actor_id=1,
        funder="Empire State Development",
        grant="ESD-1",
        amount="50000",
        received_on=date(2016, 1, 4),
    )
    r.record_deposit(
        session,
        key="d2",
        actor_id=1,
        funder="Assembly member",
        grant="Member item 2016",
        amount="10000",
        received_on=date(2016, 1, 15),
    )
    r.commit_reserve(
        session, key="c1", actor_id=2, loan_id=1, principal="9000", effective_date=date(2016, 1, 10)
    )
    r.commit_reserve(
        session, key="c2", actor_id=2, loan_id=2, principal="12000", effective_date=date(2016, 1, 20)
    )
    r.release_commitment(session, key="r1", actor_id=2, loan_id=1, effective_date=date(2016, 2, 3))
    claim = r.file_claim(
        session,
        key="f2",
        actor_id=2,
        charge_off=r.ChargeOffRecord(2, date(2016, 2, 10), "3000"),
        filed_on=date(2016, 2, 10),
        allowed_costs=[r.CostItem(r.CostKind.OTHER, Decimal("100"))],
    )
    r.approve_claim(session, key="a2", actor_id=3, claim_id=claim.id, effective_date=date(2016, 2, 12))
    r.record_interest(session, key="i2", actor_id=1, amount="20.50", earned_on=date(2016, 2, 29))
    wrong = r.record_interest(session, key="i2b", actor_id=1, amount="5", earned_on=date(2016, 2, 29))
    r.reverse(
        session,
        key="rv",
        actor_id=1,
        transaction_id=wrong.id,
        effective_date=date(2016, 2, 29),
        reason="keyed twice",
    )


def test_position_as_of_any_date(session: Session) -> None:
    history(session)
    jan = r.reserve_position(session, date(2016, 1, 31))
    assert jan.balance == Decimal("60000.00")
    assert jan.committed == Decimal("3150.00")  # 1,350 + 1,800
    assert jan.available == Decimal("56850.00")
    feb = r.reserve_position(session, date(2016, 2, 29))
    assert feb.claims_paid == Decimal("3100.00")
    assert feb.interest == Decimal("20.50")
    assert feb.committed == 0
    assert (
        feb.balance == Decimal("56920.50") == feb.deposits + feb.interest + feb.recoveries - feb.claims_paid
    )
    assert r.reserve_position(session, date(2015, 12, 31)).balance == 0


def test_monthly_statement_foots_and_shows_each_movement(session: Session) -> None:
    history(session)
    jan = r.monthly_statement(session, 2016, 1)
    assert (jan.opening_balance, jan.deposits, jan.commitments, jan.closing_balance) == (
        0,
        Decimal("60000.00"),
        Decimal("3150.00"),
        Decimal("60000.00"),
    )
    assert [(g.funder, g.amount) for g in jan.deposits_by_grant] == [
        ("Empire State Development", Decimal("50000.00")),
        ("Assembly member", Decimal("10000.00")),
    ]
    feb = r.monthly_statement(session, 2016, 2)
    assert feb.opening_balance == jan.closing_balance
    assert feb.releases == Decimal("1350.00")
    assert feb.claims_paid == Decimal("3100.00")
    assert feb.claims_paid_from_commitments == Decimal("1800.00")
    assert feb.claims_paid_from_available == Decimal("1300.00")
    assert feb.interest == Decimal("25.50")
    assert feb.reversals == Decimal("-5.00")
    assert (
        feb.closing_balance
        == feb.opening_balance
        + feb.deposits
        + feb.recoveries
        + feb.interest
        - feb.claims_paid
        + feb.reversals
    )
    assert feb.closing_committed == 0
    assert not feb.closed
    r.close_month(session, 2016, 1, actor_id=9, today=date(2016, 3, 1))
    assert r.monthly_statement(session, 2016, 1).closed


def test_every_block_shows_every_movement_signed_and_foots(session: Session) -> None:
    history(session)
    jan, feb = r.monthly_statement(session, 2016, 1), r.monthly_statement(session, 2016, 2)
    balance, committed, available = ({line.code: line.amount for line in block.lines} for block in jan.blocks)
    # The available block shows the commitments that leave it, not only what the balance block shows.
    assert available["commitments"] == Decimal("-3150.00") == -committed["commitments"]
    assert balance["commitments"] == 0
    balance, committed, available = ({line.code: line.amount for line in b.lines} for b in feb.blocks)
    assert (committed["releases"], available["releases"]) == (Decimal("-1350.00"), Decimal("1350.00"))
    assert (balance["claims_paid"], committed["claims_paid"], available["claims_paid"]) == (
        Decimal("-3100.00"),
        Decimal("-1800.00"),
        Decimal("-1300.00"),
    )
    assert (balance["reversals"], available["reversals"]) == (Decimal("-5.00"), Decimal("-5.00"))
    for statement in (jan, feb):
        assert statement.foots
        assert statement.period_start.day == 1 and (statement.period_end.month, statement.period_end.day) in (
            (1, 31),
            (2, 29),
        )
        blocks = statement.blocks
        assert [block.name for block in blocks] == ["balance", "committed", "available"]
        for block in blocks:
            assert [line.code for line in block.lines] == list(r.MOVEMENTS)
            assert block.opening + block.movements == block.closing and block.difference == 0
        for index in range(len(r.MOVEMENTS)):  # every line cross-foots
            assert (
                blocks[0].lines[index].amount == blocks[1].lines[index].amount + blocks[2].lines[index].amount
            )
        position = r.reserve_position(session, statement.period_end)
        assert (blocks[0].closing, blocks[1].closing, blocks[2].closing) == (
            position.balance,
            position.committed,
            position.available,
        )


def test_statement_that_does_not_foot_is_refused(session: Session) -> None:
    from sqlalchemy import update

    from reserve.schema import MonthlyTotalRow

    history(session)
    session.execute(
        update(MonthlyTotalRow)
        .where(MonthlyTotalRow.kind == "interest")
        .values(net_cents=MonthlyTotalRow.net_cents - 1)
    )
    with pytest.raises(r.LedgerInconsistent):
        r.monthly_statement(session, 2016, 2)
    assert "statement_foots" in {problem.code for problem in r.verify(session)}


def test_journal_filters_and_pages(session: Session) -> None:
    history(session)
    everything = r.journal(session, per_page=4)
    assert everything.total == 9
    assert everything.pages == 3
    assert [t.effective_date for t in everything.items] == sorted(
        (t.effective_date for t in everything.items), reverse=True
    )
    page3 = r.journal(session, per_page=4, page=3)
    assert len(page3.items) == 1
    loan2 = r.journal(session, loan_id=2)
    assert {t.kind for t in loan2.items} == {r.TransactionKind.COMMITMENT, r.TransactionKind.CLAIM_PAYMENT}
    jan_deposits = r.journal(
        session, kind=r.TransactionKind.DEPOSIT, date_from=date(2016, 1, 5), date_to=date(2016, 1, 31)
    )
    assert [t.amount_for(r.AccountKind.AVAILABLE) for t in jan_deposits.items] == [Decimal("10000.00")]
    assert all(len(t.postings) >= 2 for t in everything.items)


def test_commitment_balances_hold_each_loans_commitment_until_it_is_released_or_used(
    session: Session,
) -> None:
    history(session)
    assert r.commitment_balances(session, date(2016, 1, 9)) == {}
    assert r.commitment_balances(session, date(2016, 1, 15)) == {1: 135000}
    assert r.commitment_balances(session, date(2016, 1, 31)) == {1: 135000, 2: 180000}
    # Loan 1's commitment went back to available on Feb 3; loan 2's paid its claim on Feb 12.
    assert r.commitment_balances(session, date(2016, 2, 5)) == {2: 180000}
    assert r.commitment_balances(session, date(2016, 2, 29)) == {}
    for loan_id, cents in r.commitment_balances(session, date(2016, 1, 31)).items():
        assert r.commitment_balance(session, loan_id, date(2016, 1, 31)) == Decimal(cents) / 100
