"""Reserve writes made by people: each calls one ``reserve`` operation and notes it in the audit trail.

Idempotency keys come from the client (API ``Idempotency-Key`` header, or a hidden form field minted
when the form is shown) and are scoped to the user, so two clients' keys can never collide.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

import reserve
from loanapp.audit.trail import record
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.reserve_admin.policy import posting_limits, reserve_policy
from reserve.ledger import REPLAYED

MAX_KEY_LENGTH = 150


class BadKey(ValueError):
    pass


def scoped_key(actor: Any, key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise BadKey("Send an Idempotency-Key header: a unique string per request, reused on retries.")
    if len(key) > MAX_KEY_LENGTH:
        raise BadKey(f"The Idempotency-Key is longer than {MAX_KEY_LENGTH} characters.")
    return f"user-{actor.id}:{key}"


def limits() -> reserve.PostingLimits:
    return posting_limits(current_app.config, business_date())


def _audited(action: str, entity: str, key: str, actor: Any, run: Any, details: dict[str, Any]) -> Any:
    # Audited only when this call did the work: a retry, or a twin that raced it with the same
    # Idempotency-Key and lost (30 concurrent retries once wrote 4 audit rows), adds nothing.
    result = run()
    if not db.session.info.get(REPLAYED, False):
        entity_id = getattr(result, "id", None)
        if entity_id is None and hasattr(result, "claim"):
            entity_id = result.claim.id
        record(action, entity, entity_id, actor=actor, details={"idempotency_key": key, **details})
    return result


def deposit(
    actor: Any,
    key: str | None,
    funder: str,
    grant: str,
    amount: Decimal,
    received_on: dt.date,
    memo: str = "",
) -> reserve.Transaction:
    key = scoped_key(actor, key)
    return _audited(
        "reserve.deposit",
        "reserve_transaction",
        key,
        actor,
        lambda: reserve.record_deposit(
            db.session,
            key=key,
            actor_id=actor.id,
            funder=funder,
            grant=grant,
            amount=amount,
            received_on=received_on,
            memo=memo,
            limits=limits(),
        ),
        {"funder": funder, "grant": grant, "amount": amount, "received_on": received_on},
    )


def interest(
    actor: Any, key: str | None, amount: Decimal, earned_on: dt.date, memo: str = ""
) -> reserve.Transaction:
    key = scoped_key(actor, key)
    return _audited(
        "reserve.interest",
        "reserve_transaction",
        key,
        actor,
        lambda: reserve.record_interest(
            db.session,
            key=key,
            actor_id=actor.id,
            amount=amount,
            earned_on=earned_on,
            memo=memo,
            limits=limits(),
        ),
        {"amount": amount, "earned_on": earned_on},
    )


def charge_off_record(loan_id: int) -> reserve.ChargeOffRecord | None:
    """The loan's own charge-off, as the reserve needs it; None when the loan was not charged off."""
    from loanapp.servicing.models import ChargeOff

    entry = db.session.scalar(select(ChargeOff).where(ChargeOff.loan_id == loan_id))
    if entry is None:
        return None
    return reserve.ChargeOffRecord(loan_id, entry.charged_off_on, entry.balance)


def file_claim(
    actor: Any,
    key: str | None,
    loan_id: int,
    allowed_costs: list[reserve.CostItem],
    collateral_proceeds: Decimal,
    filed_on: dt.date,
    memo: str = "",
    *,
    charge_off: reserve.ChargeOffRecord | None = None,
) -> reserve.Claim:
    """File the claim of a charged-off loan. Its balance and date come from the loan's charge-off
    (``charge_off`` is given only by the charge-off itself, in the same unit of work)."""
    key = scoped_key(actor, key)
    record_ = charge_off or charge_off_record(loan_id)
    if record_ is None or record_.loan_id != loan_id:
        raise reserve.NotChargedOff(
            f"Loan {loan_id} was not charged off: a claim is filed only for a charged-off loan.",
            field="loan_id",
        )
    return _audited(
        "reserve.claim_filed",
        "reserve_claim",
        key,
        actor,
        lambda: reserve.file_claim(
            db.session,
            key=key,
            actor_id=actor.id,
            charge_off=record_,
            allowed_costs=allowed_costs,
            collateral_proceeds=collateral_proceeds,
            filed_on=filed_on,
            memo=memo,
            limits=limits(),
        ),
        {
            "loan_id": loan_id,
            "balance_at_charge_off": record_.balance,
            "allowed_costs": [[str(i.kind), i.amount] for i in allowed_costs],
            "collateral_proceeds": collateral_proceeds,
        },
    )


def decide_claim(
    actor: Any, key: str | None, claim_id: int, approve: bool, on: dt.date, note: str = ""
) -> reserve.Claim:
    """Approve (and pay) or reject a pending claim; the decider must not be the filer (maker-checker)."""
    key = scoped_key(actor, key)
    if approve:
        decision = _audited(
            "reserve.claim_approved",
            "reserve_claim",
            key,
            actor,
            lambda: reserve.approve_claim(
                db.session,
                key=key,
                actor_id=actor.id,
                claim_id=claim_id,
                effective_date=on,
                policy=reserve_policy(current_app.config),
                note=note,
                limits=limits(),
            ),
            {"claim_id": claim_id},
        )
        return decision.claim  # type: ignore[no-any-return]
    return _audited(  # type: ignore[no-any-return]
        "reserve.claim_rejected",
        "reserve_claim",
        key,
        actor,
        lambda: reserve.reject_claim(
            db.session,
            key=key,
            actor_id=actor.id,
            claim_id=claim_id,
            decided_on=on,
            reason=note,
            limits=limits(),
        ),
        {"claim_id": claim_id, "reason": note},
    )


def recovery(
    actor: Any, key: str | None, claim_id: int, amount: Decimal, received_on: dt.date, memo: str = ""
) -> reserve.Transaction:
    key = scoped_key(actor, key)
    return _audited(
        "reserve.recovery",
        "reserve_transaction",
        key,
        actor,
        lambda: reserve.record_recovery(
            db.session,
            key=key,
            actor_id=actor.id,
            claim_id=claim_id,
            amount=amount,
            received_on=received_on,
            memo=memo,
            limits=limits(),
        ),
        {"claim_id": claim_id, "amount": amount},
    )


def reversal(
    actor: Any, key: str | None, transaction_id: int, on: dt.date, reason: str
) -> reserve.Transaction:
    key = scoped_key(actor, key)
    return _audited(
        "reserve.reversal",
        "reserve_transaction",
        key,
        actor,
        lambda: reserve.reverse(
            db.session,
            key=key,
            actor_id=actor.id,
            transaction_id=transaction_id,
            effective_date=on,
            reason=reason,
            limits=limits(),
        ),
        {"reverses": transaction_id, "reason": reason},
    )


def close_month(actor: Any, year: int, month: int, today: dt.date) -> reserve.MonthClose:
    closed = reserve.close_month(db.session, year, month, actor.id, today=today)
    record("reserve.month_closed", "reserve_month", f"{year}-{month:02d}", actor=actor)
    return closed
