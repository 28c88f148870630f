"""The application's life, as one explicit transition table. Plain Python: no Flask, no database.

::

    submitted ──> in_review <──> needs_documents
                      │   (a decision from either)
                      ├──> approved ─────────┬──> offer_accepted ──> booked
                      ├──> counter_offered ──┴──> offer_refused
                      └──> declined
    withdrawn: the worker, any time before a decision

A decision is final: once approved, counter-offered or declined, another decision is refused
with :class:`ApplicationAlreadyDecided` (a new application starts afresh). Every other move not in
the table raises :class:`IllegalTransition`.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    NEEDS_DOCUMENTS = "needs_documents"
    APPROVED = "approved"
    COUNTER_OFFERED = "counter_offered"
    DECLINED = "declined"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_REFUSED = "offer_refused"
    BOOKED = "booked"
    WITHDRAWN = "withdrawn"


S = Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset({S.NEEDS_DOCUMENTS, S.APPROVED, S.COUNTER_OFFERED, S.DECLINED, S.WITHDRAWN}),
    S.NEEDS_DOCUMENTS: frozenset({S.IN_REVIEW, S.APPROVED, S.COUNTER_OFFERED, S.DECLINED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.OFFER_ACCEPTED, S.OFFER_REFUSED}),
    S.COUNTER_OFFERED: frozenset({S.OFFER_ACCEPTED, S.OFFER_REFUSED}),
    S.OFFER_ACCEPTED: frozenset({S.BOOKED}),
    S.DECLINED: frozenset(),
    S.OFFER_REFUSED: frozenset(),
    S.BOOKED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

#: Statuses an officer's decision produces.
DECISIONS = frozenset({S.APPROVED, S.COUNTER_OFFERED, S.DECLINED})
#: Statuses reached once a decision was made (the decision can no longer change).
DECIDED = frozenset({*DECISIONS, S.OFFER_ACCEPTED, S.OFFER_REFUSED, S.BOOKED})
#: Statuses with an offer waiting for the worker's answer.
OFFER_OPEN = frozenset({S.APPROVED, S.COUNTER_OFFERED})
#: Statuses where nothing more happens to the application.
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)
#: Still being worked: a worker with one of these cannot start another application.
OPEN = frozenset(set(Status) - FINAL)


class ApplicationStateError(Exception):
    """The application's status does not allow what was asked (HTTP 409)."""

    def __init__(self, current: Status, target: Status, message: str) -> None:
        super().__init__(message)
        self.current = current
        self.target = target
        self.message = message


class IllegalTransition(ApplicationStateError):
    """The move is not in the transition table."""


class ApplicationAlreadyDecided(IllegalTransition):
    """A decision was already made; decisions are final."""


class ApplicationAlreadyBooked(IllegalTransition):
    """The loan was already booked; an application becomes a loan once."""


def check_transition(current: Status | str, target: Status | str) -> Status:
    """The target status, if the move is allowed; otherwise a named refusal.

    >>> check_transition("submitted", "in_review")
    <Status.IN_REVIEW: 'in_review'>
    >>> check_transition("declined", "approved")
    Traceback (most recent call last):
    ...
    loanapp.applications.states.ApplicationAlreadyDecided: The application was already decided (declined).
    """
    current, target = Status(current), Status(target)
    if target in TRANSITIONS[current]:
        return target
    if current is S.BOOKED:
        raise ApplicationAlreadyBooked(current, target, "The loan was already booked.")
    if target in DECISIONS and current in DECIDED:
        raise ApplicationAlreadyDecided(
            current, target, f"The application was already decided ({current.value})."
        )
    raise IllegalTransition(
        current, target, f"An application that is {current.value} cannot become {target.value}."
    )
