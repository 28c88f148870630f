"""The program report's arithmetic: plain Python over one fact per application (no Flask, no database).

Definitions (stated on the page and in the CSV):

* an *approval* is an application approved as asked; a *counter-offer* is approved with changed
  terms; a *decline* is refused with adverse-action reasons;
* the *approval rate* is (approvals + counter-offers) / decisions: a counter-offer is a yes;
* *days to decision* run from submission to decision, in days with one decimal; the median is
  over decided applications;
* *loans booked* and *amount booked* count loans by their principal.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class ApplicationFact:
    """What the report needs to know about one application."""

    month: str  # "2026-03", the month it was submitted (Syracuse time)
    employer: str
    employment_status: str
    training_program: str
    referral_partner: str
    decision: str | None  # approve, counter_offer, decline, or None (not decided)
    reasons: tuple[str, ...]
    submitted_at: datetime
    decided_at: datetime | None
    loan_principal: Decimal | None


@dataclass
class GroupFigures:
    name: str
    applications: int = 0
    approvals: int = 0
    counter_offers: int = 0
    declines: int = 0
    loans_booked: int = 0
    amount_booked: Decimal = Decimal("0.00")
    days_to_decision: list[Decimal] = field(default_factory=list)

    @property
    def decisions(self) -> int:
        return self.approvals + self.counter_offers + self.declines

    @property
    def approval_rate(self) -> Decimal | None:
        """Percent with one decimal, or None before any decision."""
        if not self.decisions:
            return None
        rate = Decimal(100 * (self.approvals + self.counter_offers)) / Decimal(self.decisions)
        return rate.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)

    @property
    def median_days_to_decision(self) -> Decimal | None:
        if not self.days_to_decision:
            return None
        return Decimal(statistics.median(self.days_to_decision)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)

    def add(self, fact: ApplicationFact) -> None:
        self.applications += 1
        if fact.decision == "approve":
            self.approvals += 1
        elif fact.decision == "counter_offer":
            self.counter_offers += 1
        elif fact.decision == "decline":
            self.declines += 1
        if fact.decided_at is not None and fact.decision is not None:
            seconds = Decimal(int((fact.decided_at - fact.submitted_at).total_seconds()))
            self.days_to_decision.append(seconds / Decimal(86400))
        if fact.loan_principal is not None:
            self.loans_booked += 1
            self.amount_booked += fact.loan_principal


#: The report's groupings: (key, title, how to read the group from a fact).
DIMENSIONS: tuple[tuple[str, str, Callable[[ApplicationFact], str]], ...] = (
    ("month", "By month", lambda f: f.month),
    ("employer", "By employer", lambda f: f.employer),
    ("employment_status", "By employment status", lambda f: f.employment_status),
    ("training_program", "By training program", lambda f: f.training_program),
    ("referral_partner", "By referral partner", lambda f: f.referral_partner),
)


@dataclass(frozen=True)
class Report:
    total: GroupFigures
    groups: dict[str, list[GroupFigures]]
    decline_reasons: list[tuple[str, int]]


def build(facts: Iterable[ApplicationFact]) -> Report:
    """Totals, the figures of every group of every dimension, and decline reasons by frequency.

    >>> from datetime import UTC
    >>> day = datetime(2026, 3, 2, tzinfo=UTC)
    >>> fact = ApplicationFact("2026-03", "PPC", "employed", "—", "—", "approve", (), day,
    ...                        day.replace(day=4), Decimal("9000.00"))
    >>> report = build([fact])
    >>> report.total.approval_rate, report.total.median_days_to_decision, report.total.amount_booked
    (Decimal('100.0'), Decimal('2.0'), Decimal('9000.00'))
    """
    facts = list(facts)
    total = GroupFigures("All applications")
    grouped: dict[str, dict[str, GroupFigures]] = {key: {} for key, _title, _read in DIMENSIONS}
    reasons: Counter[str] = Counter()
    for fact in facts:
        total.add(fact)
        for key, _title, read in DIMENSIONS:
            name = read(fact)
            grouped[key].setdefault(name, GroupFigures(name)).add(fact)
        if fact.decision == "decline":
            reasons.update(fact.reasons)
    groups: dict[str, list[GroupFigures]] = defaultdict(list)
    for key, figures in grouped.items():
        ordered = sorted(
            figures.values(), key=lambda g: g.name if key == "month" else (-g.applications, g.name)
        )
        groups[key] = ordered
    return Report(total, dict(groups), sorted(reasons.items(), key=lambda item: (-item[1], item[0])))
