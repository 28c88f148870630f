"""The reserve's plain-Python rules: policy arithmetic, amounts, request hashing, claim moves."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reserve.domain import (
    ClaimEventKind,
    ClaimStatus,
    ReservePolicy,
    claim_transition,
    positive_amount,
    request_hash,
)
from reserve.errors import ClaimAlreadyDecided, IllegalClaimTransition, InvalidAmount


def test_commitment_is_share_of_principal_rounded_half_up_to_the_cent() -> None:
    policy = ReservePolicy(commitment_share=Decimal("0.15"))
    assert policy.commitment_for(Decimal("12000.00")) == Decimal("1800.00")
    # 0.15 * 100.03 = 15.0045 -> 15.00 ; 0.15 * 100.10 = 15.015 -> 15.02 (half-up, not banker's)
    assert policy.commitment_for(Decimal("100.03")) == Decimal("15.00")
    assert policy.commitment_for(Decimal("100.10")) == Decimal("15.02")


def test_claim_cap_takes_the_smaller_of_share_and_amount() -> None:
    policy = ReservePolicy(claim_cap_share=Decimal("0.80"), claim_cap_amount=Decimal("3000"))
    assert policy.claim_cap(Decimal("2000.00")) == Decimal("1600.00")
    assert policy.claim_cap(Decimal("10000.00")) == Decimal("3000.00")


@pytest.mark.parametrize("share", [Decimal("0"), Decimal("1.01"), Decimal("-0.1")])
def test_policy_refuses_shares_outside_zero_to_one(share: Decimal) -> None:
    with pytest.raises(ValueError):
        ReservePolicy(commitment_share=share)


@pytest.mark.parametrize("value", ["0", "-1", "10.005", 1.5, "abc"])
def test_amounts_must_be_positive_whole_cents_and_never_floats(value: object) -> None:
    with pytest.raises(InvalidAmount):
        positive_amount(value)  # type: ignore[arg-type]


def test_request_hash_compares_amounts_as_cents_and_ignores_key_order() -> None:
    a = request_hash("deposit", {"amount": Decimal("10"), "funder": "ESD"})
    b = request_hash("deposit", {"funder": "ESD", "amount": Decimal("10.00")})
    assert a == b
    assert a != request_hash("deposit", {"funder": "ESD", "amount": Decimal("10.01")})
    assert a != request_hash("interest", {"funder": "ESD", "amount": Decimal("10")})


def test_claim_moves_pending_to_paid_or_rejected_and_back_to_pending_on_reversal() -> None:
    assert claim_transition(None, ClaimEventKind.FILED) is ClaimStatus.PENDING
    assert claim_transition(ClaimStatus.PENDING, ClaimEventKind.PAID) is ClaimStatus.PAID
    assert claim_transition(ClaimStatus.PENDING, ClaimEventKind.REJECTED) is ClaimStatus.REJECTED
    assert claim_transition(ClaimStatus.PAID, ClaimEventKind.PAYMENT_REVERSED) is ClaimStatus.PENDING


@pytest.mark.parametrize("status", [ClaimStatus.PAID, ClaimStatus.REJECTED])
@pytest.mark.parametrize("event", [ClaimEventKind.PAID, ClaimEventKind.REJECTED])
def test_a_decided_claim_cannot_be_decided_again(status: ClaimStatus, event: ClaimEventKind) -> None:
    with pytest.raises(ClaimAlreadyDecided):
        claim_transition(status, event)


def test_other_illegal_claim_moves_are_refused_by_name() -> None:
    with pytest.raises(IllegalClaimTransition):
        claim_transition(ClaimStatus.REJECTED, ClaimEventKind.PAYMENT_REVERSED)
    with pytest.raises(IllegalClaimTransition):
        claim_transition(ClaimStatus.PENDING, ClaimEventKind.FILED)
