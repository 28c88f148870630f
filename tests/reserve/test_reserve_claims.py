"""Claims: filing, maker-checker decisions, payment order and caps, leftover release, recoveries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

import reserve as r

OFFICER, STAFF, OTHER_STAFF = 11, 21, 22


def setup_loan(
    session: Session, *, deposit: str = "20000", loan_id: int = 7, principal: str = "10000"
) -> None:
    r.record_deposit(
        session,
        key="dep",
        actor_id=STAFF,
        funder="Empire State Development",
        grant="ESD-1",
        amount=deposit,
        received_on=date(2016, 1, 4),
    )
    r.commit_reserve(
        session,
        key=f"c-{loan_id}",
        actor_id=OFFICER,
        loan_id=loan_id,
        principal=principal,
        effective_date=date(2016, 1, 10),
    )


def file(
    session: Session,
    *,
    loan_id: int = 7,
    balance: str = "6000",
    costs: str = "250",
    proceeds: str = "1500",
    key: str = "file",
) -> r.Claim:
    return r.file_claim(
        session,
        key=key,
        actor_id=OFFICER,
        charge_off=r.ChargeOffRecord(loan_id, date(2016, 6, 1), balance),
        filed_on=date(2016, 6, 1),
        allowed_costs=[r.CostItem(r.CostKind.OTHER, Decimal(costs))] if Decimal(costs) else [],
        collateral_proceeds=proceeds,
        memo="charged off at 120 days",
    )


def approve(
    session: Session, claim: r.Claim, policy: r.ReservePolicy | None = None, key: str = "approve"
) -> r.ClaimDecision:
    return r.approve_claim(
        session, key=key, actor_id=STAFF, claim_id=claim.id, effective_date=date(2016, 6, 5), policy=policy
    )


def test_claim_loss_is_balance_plus_costs_minus_collateral(session: Session) -> None:
    setup_loan(session)
    claim = file(session)
    assert claim.loss == Decimal("4750.00")
    assert claim.status is r.ClaimStatus.PENDING
    position = r.reserve_position(session, date(2016, 6, 1))
    assert (position.claims_pending, position.claims_pending_count) == (Decimal("4750.00"), 1)
    assert r.reserve_position(session, date(2016, 5, 31)).claims_pending == 0


def test_claim_without_a_loss_is_refused(session: Session) -> None:
    with pytest.raises(r.InvalidClaim):
        file(session, balance="1000", costs="0", proceeds="1000")


def test_the_filer_cannot_approve_or_reject_their_own_claim(session: Session) -> None:
    setup_loan(session)
    claim = file(session)
    with pytest.raises(r.SameActor):
        r.approve_claim(
            session, key="a", actor_id=OFFICER, claim_id=claim.id, effective_date=date(2016, 6, 5)
        )
    with pytest.raises(r.SameActor):
        r.reject_claim(
            session, key="j", actor_id=OFFICER, claim_id=claim.id, decided_on=date(2016, 6, 5), reason="no"
        )
    assert r.get_claim(session, claim.id).status is r.ClaimStatus.PENDING


def test_approval_pays_from_the_commitment_first_then_from_available(session: Session) -> None:
    setup_loan(session)  # commits 1,500
    decision = approve(session, file(session))
    payment = decision.payment
    assert payment.amount_for(r.AccountKind.COMMITTED) == Decimal("-1500.00")
    assert payment.amount_for(r.AccountKind.AVAILABLE) == Decimal("-3250.00")
    assert payment.amount_for(r.AccountKind.CLAIMS_PAID) == Decimal("4750.00")
    assert decision.release is None
    assert decision.claim.status is r.ClaimStatus.PAID
    assert decision.claim.paid == Decimal("4750.00")
    position = r.reserve_position(session, date(2016, 6, 30))
    assert position.claims_paid == Decimal("4750.00")
    assert position.balance == Decimal("15250.00")
    assert position.committed == 0
    assert position.claims_pending == 0


def test_commitment_left_after_a_paid_claim_goes_back_to_available(session: Session) -> None:
    setup_loan(session, principal="40000")  # commits 6,000
    decision = approve(session, file(session))  # loss 4,750
    assert decision.payment.amount_for(r.AccountKind.AVAILABLE) == 0
    assert decision.release is not None
    assert decision.release.amount_for(r.AccountKind.AVAILABLE) == Decimal("1250.00")
    assert decision.release.claim_id == decision.claim.id
    assert r.commitment_balance(session, 7, date(2016, 6, 5)) == 0
    assert r.verify(session, live_loan_ids=set()) == []


def test_claim_is_paid_up_to_the_policy_cap(session: Session) -> None:
    setup_loan(session)
    policy = r.ReservePolicy(claim_cap_share=Decimal("0.90"), claim_cap_amount=Decimal("4000"))
    decision = approve(session, file(session), policy=policy)  # 90% of 4,750 = 4,275 -> capped at 4,000
    assert decision.claim.paid == Decimal("4000.00")
    assert decision.claim.events[-1].cap == Decimal("4000.00")
    assert decision.claim.shortfall == 0


def test_unpooled_policy_pays_only_from_the_loans_commitment(session: Session) -> None:
    setup_loan(session)  # commits 1,500
    decision = approve(session, file(session), policy=r.ReservePolicy(pooled=False))
    assert decision.claim.paid == Decimal("1500.00")
    assert decision.claim.shortfall == Decimal("3250.00")
    assert decision.payment.amount_for(r.AccountKind.AVAILABLE) == 0


def test_claim_is_paid_only_as_far_as_the_reserve_goes_and_never_below_zero(session: Session) -> None:
    setup_loan(session, deposit="2000")  # 1,500 committed, 500 available
    decision = approve(session, file(session))
    assert decision.claim.paid == Decimal("2000.00")
    assert decision.claim.shortfall == Decimal("2750.00")
    assert r.reserve_position(session, date(2016, 6, 30)).available == 0


def test_a_claim_on_a_loan_the_reserve_does_not_back_is_refused(session: Session) -> None:
    with pytest.raises(r.NotChargedOff, match="no reserve commitment"):
        file(session)  # no deposit, no commitment: the reserve never backed loan 7
    assert r.list_claims(session) == []


def test_a_claim_on_a_paid_off_loan_is_refused(session: Session) -> None:
    setup_loan(session)
    r.release_commitment(session, key="rel", actor_id=OFFICER, loan_id=7, effective_date=date(2016, 5, 1))
    with pytest.raises(r.NotChargedOff, match="paid off"):
        file(session)


def test_claim_costs_are_itemised_and_bounded(session: Session) -> None:
    setup_loan(session)
    limits = r.PostingLimits(max_allowed_costs=Decimal("1000.00"), max_claim=Decimal("20000.00"))
    record = r.ChargeOffRecord(7, date(2016, 6, 1), Decimal("6000.00"))

    def claim(costs: list[r.CostItem], proceeds: str = "0", key: str = "k") -> r.Claim:
        return r.file_claim(
            session,
            key=key,
            actor_id=OFFICER,
            charge_off=record,
            allowed_costs=costs,
            collateral_proceeds=proceeds,
            filed_on=date(2016, 6, 1),
            limits=limits,
        )

    with pytest.raises(r.InvalidClaim, match="limit") as too_much:
        claim(
            [
                r.CostItem(r.CostKind.REPOSSESSION, Decimal("600")),
                r.CostItem(r.CostKind.STORAGE, Decimal("401")),
            ]
        )
    assert too_much.value.field == "allowed_costs"
    with pytest.raises(r.InvalidClaim, match="no loss") as no_loss:
        claim([], proceeds="6000.01")
    assert no_loss.value.field == "collateral_proceeds"
    with pytest.raises(r.InvalidAmount):
        claim([r.CostItem(r.CostKind.AUCTION, Decimal("-5"))])
    filed = claim(
        [r.CostItem(r.CostKind.REPOSSESSION, Decimal("600")), r.CostItem(r.CostKind.STORAGE, Decimal("400"))],
        proceeds="1500",
    )
    assert filed.balance_at_charge_off == Decimal("6000.00")
    assert filed.allowed_costs == Decimal("1000.00") and filed.loss == Decimal("5500.00")
    assert [(i.kind, i.amount) for i in filed.cost_items] == [
        (r.CostKind.REPOSSESSION, Decimal("600.00")),
        (r.CostKind.STORAGE, Decimal("400.00")),
    ]
    with pytest.raises(r.ClaimExists):
        claim([], key="again")


def test_a_claim_above_the_limit_for_one_claim_is_refused(session: Session) -> None:
    setup_loan(session)
    with pytest.raises(r.InvalidClaim, match="limit for one claim"):
        r.file_claim(
            session,
            key="big",
            actor_id=OFFICER,
            charge_off=r.ChargeOffRecord(7, date(2016, 6, 1), Decimal("250000.00")),
            filed_on=date(2016, 6, 1),
        )


def test_a_decided_claim_cannot_be_decided_again(session: Session) -> None:
    setup_loan(session)
    claim = file(session)
    approve(session, claim)
    with pytest.raises(r.ClaimAlreadyDecided):
        r.reject_claim(
            session,
            key="j",
            actor_id=OTHER_STAFF,
            claim_id=claim.id,
            decided_on=date(2016, 6, 6),
            reason="late",
        )
    with pytest.raises(r.ClaimAlreadyDecided):
        approve(session, claim, key="approve-2")


def test_approval_repeated_with_its_key_returns_the_same_decision(session: Session) -> None:
    setup_loan(session, principal="40000")
    claim = file(session)
    assert approve(session, claim) == approve(session, claim)
    assert len(r.journal(session, kind=r.TransactionKind.CLAIM_PAYMENT).items) == 1


def test_rejected_claim_pays_nothing_and_the_loan_may_be_claimed_again(session: Session) -> None:
    setup_loan(session)
    claim = file(session)
    rejected = r.reject_claim(
        session,
        key="j",
        actor_id=STAFF,
        claim_id=claim.id,
        decided_on=date(2016, 6, 3),
        reason="costs not documented",
    )
    assert rejected.status is r.ClaimStatus.REJECTED
    assert rejected.events[-1].note == "costs not documented"
    assert r.reserve_position(session, date(2016, 6, 30)).claims_paid == 0
    refiled = file(session, costs="0", key="file-2")
    assert refiled.id != claim.id


def test_one_open_claim_per_loan(session: Session) -> None:
    setup_loan(session)
    file(session)
    with pytest.raises(r.ClaimExists):
        file(session, key="file-2")


def test_commitment_cannot_be_released_while_a_claim_is_pending(session: Session) -> None:
    setup_loan(session)
    file(session)
    with pytest.raises(r.ClaimPending):
        r.release_commitment(session, key="rel", actor_id=OFFICER, loan_id=7, effective_date=date(2016, 6, 2))


def test_recovery_goes_back_to_available_without_releasing_anything(session: Session) -> None:
    setup_loan(session, principal="40000")
    decision = approve(session, file(session))
    before = r.reserve_position(session, date(2016, 7, 1))
    t = r.record_recovery(
        session,
        key="rec",
        actor_id=OFFICER,
        claim_id=decision.claim.id,
        amount="300",
        received_on=date(2016, 7, 1),
    )
    assert {p.account_kind for p in t.postings} == {r.AccountKind.RECOVERIES, r.AccountKind.AVAILABLE}
    after = r.reserve_position(session, date(2016, 7, 1))
    assert after.available - before.available == Decimal("300.00")
    assert after.committed == before.committed == 0
    assert after.recoveries == Decimal("300.00")


def test_recoveries_stop_at_what_the_reserve_paid(session: Session) -> None:
    setup_loan(session)
    decision = approve(session, file(session), policy=r.ReservePolicy(pooled=False))  # paid 1,500
    r.record_recovery(
        session,
        key="rec-1",
        actor_id=OFFICER,
        claim_id=decision.claim.id,
        amount="1000",
        received_on=date(2016, 7, 1),
    )
    with pytest.raises(r.RecoveryExceedsClaim, match=r"\$500.00"):
        r.record_recovery(
            session,
            key="rec-2",
            actor_id=OFFICER,
            claim_id=decision.claim.id,
            amount="501",
            received_on=date(2016, 7, 2),
        )


def test_recovery_needs_a_paid_claim(session: Session) -> None:
    setup_loan(session)
    claim = file(session)
    with pytest.raises(r.ClaimNotPaid):
        r.record_recovery(
            session, key="rec", actor_id=OFFICER, claim_id=claim.id, amount="10", received_on=date(2016, 7, 1)
        )


def test_reversing_a_claim_payment_reopens_the_claim(session: Session) -> None:
    setup_loan(session)
    decision = approve(session, file(session))
    r.reverse(
        session,
        key="rv",
        actor_id=OTHER_STAFF,
        transaction_id=decision.payment.id,
        effective_date=date(2016, 6, 6),
        reason="paid in error",
    )
    claim = r.get_claim(session, decision.claim.id)
    assert claim.status is r.ClaimStatus.PENDING
    assert [e.kind for e in claim.events][-1] is r.ClaimEventKind.PAYMENT_REVERSED
    assert r.commitment_balance(session, 7, date(2016, 6, 6)) == Decimal("1500.00")
    again = r.approve_claim(
        session, key="approve-2", actor_id=OTHER_STAFF, claim_id=claim.id, effective_date=date(2016, 6, 7)
    )
    assert again.claim.paid == Decimal("4750.00")
    assert r.verify(session) == []


def test_claim_payment_with_recoveries_cannot_be_reversed(session: Session) -> None:
    setup_loan(session)
    decision = approve(session, file(session))
    r.record_recovery(
        session,
        key="rec",
        actor_id=OFFICER,
        claim_id=decision.claim.id,
        amount="10",
        received_on=date(2016, 7, 1),
    )
    with pytest.raises(r.ReversalNotAllowed, match="recoveries"):
        r.reverse(
            session,
            key="rv",
            actor_id=OTHER_STAFF,
            transaction_id=decision.payment.id,
            effective_date=date(2016, 7, 2),
            reason="x",
        )


def test_list_claims_by_status(session: Session) -> None:
    setup_loan(session)
    claim = file(session)
    assert [c.id for c in r.list_claims(session, status=r.ClaimStatus.PENDING)] == [claim.id]
    assert r.list_claims(session, status=r.ClaimStatus.PAID) == []
    assert [c.id for c in r.list_claims(session, loan_id=7)] == [claim.id]
