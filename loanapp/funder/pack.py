"""The funder pack for a month, on one page: the outcome headline, the reserve statement's footing, the
enrolment register's totals, the claims that moved in the month and the grant the latest projection
says is needed. Each part links to its own printable document; every figure here is read from the same
functions those documents use, so the pack and its parts cannot disagree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import reserve
from loanapp.extensions import db
from loanapp.funder.register import EnrolmentRegister, enrolment_register
from loanapp.outcomes.summary import OutcomeSummary, outcome_summary
from loanapp.projections import runs
from loanapp.projections.models import ProjectionRun


@dataclass(frozen=True)
class ClaimInMonth:
    """A claim with something dated in the month: filed, paid, rejected or its payment reversed."""

    claim: reserve.Claim
    events: tuple[reserve.ClaimEvent, ...]


@dataclass(frozen=True)
class FunderPack:
    year: int
    month: int
    statement: reserve.MonthlyStatement
    register: EnrolmentRegister
    outcomes: OutcomeSummary
    claims: tuple[ClaimInMonth, ...]
    projection: ProjectionRun | None  # the latest finished projection, for its grant needed
    grant: dict[str, Any] | None

    @property
    def period_start(self) -> dt.date:
        return self.statement.period_start

    @property
    def period_end(self) -> dt.date:
        return self.statement.period_end

    @property
    def adds_up(self) -> bool:
        """The statement foots in every block and the register's commitments equal its committed."""
        return self.statement.foots and self.register.commitments_agree


def funder_pack(year: int, month: int, current_label: str = "current") -> FunderPack:
    """The pack for ``year``-``month``; raises ``reserve.LedgerInconsistent`` if the ledger does not foot."""
    statement = reserve.monthly_statement(db.session, year, month)
    register = enrolment_register(year, month, current_label)
    start, end = statement.period_start, statement.period_end
    claims = []
    for claim in reserve.list_claims(db.session):
        moved = tuple(e for e in claim.events if start <= e.on_date <= end)
        if moved:
            claims.append(ClaimInMonth(claim, moved))
    projection = runs.latest()
    grant = None if projection is None or projection.result is None else projection.result.get("grant_needed")
    return FunderPack(
        year=year,
        month=month,
        statement=statement,
        register=register,
        outcomes=outcome_summary(db.session, (start, end)),
        claims=tuple(claims),
        projection=projection,
        grant=grant,
    )
