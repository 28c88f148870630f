"""The outcome report's arithmetic: plain Python over one fact per booked loan (no Flask, no database).

Definitions (stated on the page, in the CSV and in the JSON):

* A check-in at *m months* is **reached** when it was answered (by the worker or an officer); it is
  **not reached** when it is overdue (more than ``OUTCOME_CHECK_IN_OVERDUE_DAYS`` past due) or its
  window closed unanswered; it is **awaiting** while it is newly due. Loans whose m-month date has not
  come yet do not count at m months.
* **Still employed at m months** = answered "employed" ÷ reached (percent, one decimal, half-up).
* **Started the job** (job-offer and in-training applicants): said they started ÷ those who answered
  the question.
* **Wage at application** is the officer-verified hourly wage when there is one, else the stated
  wage. The **wage change at m months** is each worker's wage at the check-in less their wage at
  application, over workers employed at m months with both wages; the table shows the median wage
  then and now over those workers, and the median of the changes.
* **Loan performance** today: current (under 30 days past due), delinquent (30 or more days past due,
  the call report's threshold), charged off, paid off.
* **Small groups**: a group of fewer than ``min_group`` borrowers is shown as "fewer than 5" with no
  figures, and so is a figure computed from fewer than ``min_group`` workers, so no single worker's
  job or wage can be picked out. (A total less the groups shown can still bound a hidden group; the
  groupings are coarse enough that this names nobody.)
* **Headline**: loans made; workers still employed at 12 months (of those reached); the median wage
  change from application to each worker's latest answer while employed; reserve used (claims paid
  less recoveries returned) per worker still employed at 12 months.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ONE_DECIMAL = Decimal("0.1")
CENT = Decimal("0.01")
PERFORMANCE = ("current", "delinquent", "charged_off", "paid_off")
PERFORMANCE_NAMES = {
    "current": "Current",
    "delinquent": "Delinquent (30+ days)",
    "charged_off": "Charged off",
    "paid_off": "Paid off",
}
HEADLINE_MONTHS = 12


@dataclass(frozen=True)
class Answer:
    """A standing (not corrected) answer to one check-in."""

    employed: bool
    hourly_wage: Decimal | None
    hours_per_week: Decimal | None
    same_employer: bool


@dataclass(frozen=True)
class LoanFact:
    cohort: str  # booking quarter, "2026-Q1"
    employer: str
    training_program: str
    referral_partner: str
    employment_status: str
    asks_start: bool  # a job-offer or in-training applicant
    started: bool | None  # said they started / said not yet / never answered
    wage_at_application: Decimal | None
    hours_at_application: Decimal | None
    performance: str  # one of PERFORMANCE
    #: months -> (state of that check-in, the standing answer if reached)
    checks: dict[int, tuple[str, Answer | None]] = field(default_factory=dict)
    latest: Answer | None = None  # the latest standing answer (any milestone, payoff included)


def percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def median(values: Sequence[Decimal]) -> Decimal | None:
    """The median to the cent, half-up (the mean of the two middle values for an even count)."""
    if not values:
        return None
    return Decimal(statistics.median(sorted(values))).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class MilestoneFigures:
    months: int
    counted: int  # borrowers whose m-month check-in has come due
    reached: int
    not_reached: int
    awaiting: int
    suppressed: bool  # fewer than min_group reached: the figures below are not shown
    employed: int | None
    share_employed: Decimal | None
    same_employer: int | None
    wage_workers: int | None  # workers behind the wage figures
    median_wage_at_application: Decimal | None
    median_wage: Decimal | None
    median_wage_change: Decimal | None
    median_hours: Decimal | None


@dataclass(frozen=True)
class GroupOutcomes:
    name: str
    borrowers: int
    suppressed: bool
    milestones: tuple[MilestoneFigures, ...] = ()
    start_applicants: int | None = None
    start_answered: int | None = None
    started: int | None = None
    share_started: Decimal | None = None
    median_wage_at_application: Decimal | None = None
    median_hours_at_application: Decimal | None = None
    performance: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Headline:
    loans_made: int
    reached_12: int
    employed_12: int | None
    share_employed_12: Decimal | None
    median_wage_change: Decimal | None
    wage_change_workers: int
    reserve_used: Decimal
    reserve_used_per_employed_worker: Decimal | None


@dataclass(frozen=True)
class OutcomeReport:
    months: tuple[int, ...]
    min_group: int
    headline: Headline
    total: GroupOutcomes
    groups: dict[str, list[GroupOutcomes]]


#: The report's groupings: (key, title, how to read the group from a fact).
DIMENSIONS: tuple[tuple[str, str, Callable[[LoanFact], str]], ...] = (
    ("cohort", "By booking quarter", lambda f: f.cohort),
    ("employer", "By employer", lambda f: f.employer),
    ("training_program", "By training program", lambda f: f.training_program),
    ("referral_partner", "By referral partner", lambda f: f.referral_partner),
    ("employment_status", "By employment at application", lambda f: f.employment_status),
)


def _milestone(facts: Sequence[LoanFact], months: int, min_group: int) -> MilestoneFigures:
    states = [f.checks[months] for f in facts if months in f.checks and f.checks[months][0] != "upcoming"]
    answers = [answer for state, answer in states if state == "answered" and answer is not None]
    reached = len(answers)
    awaiting = sum(1 for state, _ in states if state == "due")
    not_reached = len(states) - reached - awaiting
    if reached < min_group:
        return MilestoneFigures(
            months,
            len(states),
            reached,
            not_reached,
            awaiting,
            True,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        )
    employed = [a for a in answers if a.employed]
    pairs = [
        (f.wage_at_application, answer.hourly_wage)
        for f in facts
        if months in f.checks
        for state, answer in [f.checks[months]]
        if state == "answered"
        and answer is not None
        and answer.employed
        and answer.hourly_wage is not None
        and f.wage_at_application is not None
    ]
    hours = [a.hours_per_week for a in employed if a.hours_per_week is not None]
    enough_wages = len(pairs) >= min_group
    return MilestoneFigures(
        months=months,
        counted=len(states),
        reached=reached,
        not_reached=not_reached,
        awaiting=awaiting,
        suppressed=False,
        employed=len(employed),
        share_employed=percent(len(employed), reached),
        same_employer=sum(1 for a in employed if a.same_employer),
        wage_workers=len(pairs),
        median_wage_at_application=median([before for before, _ in pairs]) if enough_wages else None,  # type: ignore[misc]
        median_wage=median([after for _, after in pairs]) if enough_wages else None,  # type: ignore[misc]
        median_wage_change=median([after - before for before, after in pairs]) if enough_wages else None,  # type: ignore[operator]
        median_hours=median(hours) if len(hours) >= min_group else None,
    )


def group_outcomes(
    name: str, facts: Sequence[LoanFact], months: Iterable[int], min_group: int
) -> GroupOutcomes:
    if len(facts) < min_group:
        return GroupOutcomes(name, len(facts), True)
    asked = [f for f in facts if f.asks_start]
    answered = [f for f in asked if f.started is not None]
    started = sum(1 for f in answered if f.started)
    show_start = len(answered) >= min_group
    wages = [f.wage_at_application for f in facts if f.wage_at_application is not None]
    hours = [f.hours_at_application for f in facts if f.hours_at_application is not None]
    return GroupOutcomes(
        name=name,
        borrowers=len(facts),
        suppressed=False,
        milestones=tuple(_milestone(facts, m, min_group) for m in months),
        start_applicants=len(asked),
        start_answered=len(answered),
        started=started if show_start else None,
        share_started=percent(started, len(answered)) if show_start else None,
        median_wage_at_application=median(wages) if len(wages) >= min_group else None,
        median_hours_at_application=median(hours) if len(hours) >= min_group else None,
        performance={p: sum(1 for f in facts if f.performance == p) for p in PERFORMANCE},
    )


def headline(facts: Sequence[LoanFact], reserve_used: Decimal, min_group: int) -> Headline:
    at_12 = [f.checks[HEADLINE_MONTHS] for f in facts if HEADLINE_MONTHS in f.checks]
    answers = [a for state, a in at_12 if state == "answered" and a is not None]
    employed = sum(1 for a in answers if a.employed)
    changes = [
        f.latest.hourly_wage - f.wage_at_application
        for f in facts
        if f.latest is not None
        and f.latest.employed
        and f.latest.hourly_wage is not None
        and f.wage_at_application is not None
    ]
    shown = len(answers) >= min_group
    per_worker = None
    if shown and employed:
        per_worker = (reserve_used / employed).quantize(CENT, rounding=ROUND_HALF_UP)
    return Headline(
        loans_made=len(facts),
        reached_12=len(answers),
        employed_12=employed if shown else None,
        share_employed_12=percent(employed, len(answers)) if shown else None,
        median_wage_change=median(changes) if len(changes) >= min_group else None,
        wage_change_workers=len(changes),
        reserve_used=reserve_used,
        reserve_used_per_employed_worker=per_worker,
    )


def build(
    facts: Iterable[LoanFact], months: Sequence[int], reserve_used: Decimal, min_group: int = 5
) -> OutcomeReport:
    """The headline, the totals and every group of every dimension.

    >>> a = Answer(True, Decimal("16.00"), Decimal("40"), True)
    >>> fact = LoanFact("2026-Q1", "PPC", "(none)", "(none)", "Employed", False, None,
    ...                 Decimal("15.00"), Decimal("40"), "current", {3: ("answered", a)}, a)
    >>> report = build([fact] * 5, (3,), Decimal("0.00"))
    >>> m = report.total.milestones[0]
    >>> m.share_employed, m.median_wage_change, report.headline.median_wage_change
    (Decimal('100.0'), Decimal('1.00'), Decimal('1.00'))
    >>> build([fact] * 4, (3,), Decimal("0.00")).total.suppressed
    True
    """
    facts = list(facts)
    months = tuple(months)
    grouped: dict[str, dict[str, list[LoanFact]]] = {key: {} for key, _title, _read in DIMENSIONS}
    for fact in facts:
        for key, _title, read in DIMENSIONS:
            grouped[key].setdefault(read(fact), []).append(fact)
    groups = {
        key: sorted(
            (group_outcomes(name, members, months, min_group) for name, members in by_name.items()),
            key=lambda g: g.name if key == "cohort" else (-g.borrowers, g.name),
        )
        for key, by_name in grouped.items()
    }
    return OutcomeReport(
        months=months,
        min_group=min_group,
        headline=headline(facts, reserve_used, min_group),
        total=group_outcomes("All loans", facts, months, min_group),
        groups=groups,
    )
