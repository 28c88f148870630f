"""The funder pack: the monthly statement page (footing, period, who prepared it, bad months), the
enrolment register (page, CSV, its commitments against the statement) and the claim packet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

import reserve
from loanapp.collections.operations import ContactInput, log_contact
from loanapp.extensions import db
from loanapp.funder.packet import claim_packet
from loanapp.funder.register import CSV_COLUMNS, enrolment_register
from loanapp.reserve_admin import actions
from loanapp.servicing import operations
from loanapp.servicing.policy import current_policy
from tests.app.servicing.conftest import make_loan, pay


@pytest.fixture
def program(loan: Any, people: dict[str, Any], on_date: Any) -> dict[str, Any]:
    """Loan A (booked 2026-01-05) pays once, then stops, is charged off on 2026-06-05 (car sold) and its
    claim is paid; loan B is booked 2026-06-10."""
    pay(loan, "205.52", dt.date(2026, 2, 5), people["officer"])
    on_date(dt.date(2026, 4, 20))
    contact = ContactInput("call", "outbound", "left_message", "Voicemail about the March payment")
    log_contact(loan.id, contact, actor=people["officer"], key="contact-1")
    on_date(dt.date(2026, 7, 6))
    entry = operations.charge_off(
        loan.id,
        operations.ChargeOffInput(
            "repossessed_sold", Decimal("3000.00"), Decimal("250.00"), "Sold at auction"
        ),
        actor=people["officer"],
    )
    on_date(dt.date(2026, 7, 8))
    claim = actions.decide_claim(people["staff"], "approve-1", entry.claim_id, True, dt.date(2026, 7, 8))
    other = make_loan(people, booked_on=dt.date(2026, 6, 10), amount="6000.00")
    db.session.commit()
    return {"a": loan, "b": other, "claim": claim, "charge_off": entry}


def test_the_register_lists_every_enrolled_loan_as_at_the_months_end(program: dict[str, Any]) -> None:
    june = enrolment_register(2026, 6)
    assert [line.loan_id for line in june.lines] == [program["a"].id, program["b"].id]
    a, b = june.lines
    assert not a.new_this_month and b.new_this_month
    assert (b.amount, b.commitment, b.commitment_balance) == (
        Decimal("6000.00"),
        program["b"].reserve_commitment,
        program["b"].reserve_commitment,
    )
    assert june.new_amount == Decimal("6000.00") and june.new_commitment == program["b"].reserve_commitment
    # In June loan A was still open (charged off on 6 July) and held its whole commitment.
    assert a.charged_off_on is None and a.claim_id is None and a.commitment_balance == a.commitment
    assert june.commitments_agree
    july = enrolment_register(2026, 7)
    a = july.lines[0]
    assert a.status == "charged_off" and a.charged_off_on == dt.date(2026, 7, 6)
    assert a.claim_id == program["claim"].id and a.claim_status == "paid"
    assert a.claim_loss == program["claim"].loss and a.claim_paid == program["claim"].paid
    assert a.commitment_balance == 0  # the claim drew it
    assert july.total_commitment_balance == program["b"].reserve_commitment
    assert july.commitments_agree
    assert july.total_commitment_balance == reserve.monthly_statement(db.session, 2026, 7).closing_committed
    assert [line.loan_id for line in enrolment_register(2026, 1).lines] == [program["a"].id]
    assert enrolment_register(2025, 12).lines == ()


def test_register_page_and_csv(program: dict[str, Any], client, auth) -> None:  # type: ignore[no-untyped-def]
    db.session.commit()
    auth.login("staff")
    page = client.get("/reserve/register?month=2026-07")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 July 2026 to 31 July 2026" in text and "agrees with the statement" in text
    assert f"Claim {program['claim'].id}" in text and "Charged off" in text
    rows = list(
        csv.reader(io.StringIO(client.get("/reserve/register.csv?month=2026-07").get_data(as_text=True)))
    )
    assert tuple(rows[0]) == CSV_COLUMNS
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert first["status"] == "charged_off" and first["claim_status"] == "paid"
    assert first["new_this_month"] == "no" and first["amount"] == "8500.00"
    bad = client.get("/reserve/register?month=2026-13")
    assert bad.status_code == 400 and "is not a month" in bad.get_data(as_text=True)


def test_the_claim_packet_has_the_history_a_claim_needs(program: dict[str, Any]) -> None:
    packet = claim_packet(program["claim"].id, dt.date(2026, 7, 10), current_policy())
    # One payment (February's), then nothing: 28 days late at the end of March, 151 at charge-off.
    assert [line.payment.received_on for line in packet.payments] == [dt.date(2026, 2, 5)]
    by_day = {m.on: m.days_past_due for m in packet.past_due}
    assert by_day[dt.date(2026, 2, 28)] == 0
    assert by_day[dt.date(2026, 3, 31)] == 26
    assert by_day[dt.date(2026, 7, 6)] == 123 == packet.charge_off.days_past_due
    assert list(by_day) == sorted(by_day) and packet.past_due[-1].on == dt.date(2026, 7, 6)
    assert packet.charge_off.collateral_status == "repossessed_sold"
    assert packet.claim.allowed_costs == Decimal("250.00")
    assert packet.claim.collateral_proceeds == Decimal("3000.00")
    assert {tx.kind for tx in packet.transactions} >= {
        reserve.TransactionKind.COMMITMENT,
        reserve.TransactionKind.CLAIM_PAYMENT,
    }
    assert [(c.on, c.channel, c.outcome) for c in packet.contacts] == [
        (dt.date(2026, 4, 20), "Phone call", "Left a message")
    ]


def test_claim_packet_page(program: dict[str, Any], client, auth) -> None:  # type: ignore[no-untyped-def]
    db.session.commit()
    auth.login("officer")
    page = client.get(f"/reserve/claims/{program['claim'].id}/packet")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Days past due over time" in text and "Repossessed and sold" in text and "$250.00" in text
    assert "Payment history" in text and "$205.52" in text
    assert "Contact history" in text and "Voicemail about the March payment" in text
    assert client.get("/reserve/claims/999999/packet").status_code == 404


def test_statement_page_foots_in_every_block_and_says_who_prepared_it(
    program: dict[str, Any], app: Flask, client, auth, on_date: Any
) -> None:  # type: ignore[no-untyped-def]
    db.session.commit()
    auth.login("staff")
    text = client.get("/reserve/statement?month=2026-07").get_data(as_text=True)
    assert "1 July 2026 to 31 July 2026" in text and "Prepared by" in text and "Test Staff" in text
    assert text.count('<span class="badge badge-ok">foots</span>') == 3
    assert "Commitments to booked loans" in text and "Claims paid" in text
    rows = list(
        csv.reader(io.StringIO(client.get("/reserve/statement.csv?month=2026-07").get_data(as_text=True)))
    )
    table = {row[0]: row[1:] for row in rows}
    assert table["Difference"] == ["0.00", "0.00", "0.00"]
    for line, (balance, committed, available) in table.items():
        if line not in ("line", "Period", "Prepared", "Status"):
            assert Decimal(balance) == Decimal(committed) + Decimal(available), line


@pytest.mark.parametrize(
    ("month", "message"),
    [("2026-13", "is not a month"), ("July", "is not a month"), ("2027-01", "has not begun yet")],
)
def test_an_invalid_month_gives_a_clear_message(client, auth, on_date: Any, month: str, message: str) -> None:  # type: ignore[no-untyped-def]
    on_date(dt.date(2026, 12, 7))
    auth.login("staff")
    response = client.get(f"/reserve/statement?month={month}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get(f"/reserve/statement.csv?month={month}").status_code == 400


def test_the_funder_pack_puts_the_months_documents_together_and_adds_up(
    program: dict[str, Any], client, auth
) -> None:  # type: ignore[no-untyped-def]
    from loanapp.funder.pack import funder_pack

    pack = funder_pack(2026, 7)
    assert pack.adds_up
    assert [item.claim.id for item in pack.claims] == [program["claim"].id]  # filed and paid in July
    assert pack.outcomes.loans_made == 2 and pack.outcomes.reserve_used == program["claim"].paid
    assert pack.grant is None  # no projection run yet
    assert funder_pack(2026, 6).claims == ()
    db.session.commit()
    auth.login("staff")
    text = client.get("/reserve/pack?month=2026-07").get_data(as_text=True)
    assert "Did the car get the worker to the job?" in text and "adds up" in text
    assert f"Claim {program['claim'].id} packet" in text and "No projection has been run yet." in text
    assert text.count('<span class="badge badge-ok">foots</span>') == 3
    bad = client.get("/reserve/pack?month=2026-7")
    assert bad.status_code == 400 and "is not a month" in bad.get_data(as_text=True)
