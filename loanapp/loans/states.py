"""A loan's status, as one explicit transition table (plain Python).

Booking creates a loan ``active``. Servicing ends it ``paid_off`` (the last payment) or
``charged_off`` (the credit union's charge-off policy, default 120 days past due), and may reverse a
payoff that bounced. The operations that make these moves belong to the servicing feature; they go
through :func:`check_transition`.
"""

from __future__ import annotations

from enum import StrEnum


class LoanStatus(StrEnum):
    ACTIVE = "active"
    PAID_OFF = "paid_off"
    CHARGED_OFF = "charged_off"


TRANSITIONS: dict[LoanStatus, frozenset[LoanStatus]] = {
    LoanStatus.ACTIVE: frozenset({LoanStatus.PAID_OFF, LoanStatus.CHARGED_OFF}),
    LoanStatus.PAID_OFF: frozenset({LoanStatus.ACTIVE}),
    LoanStatus.CHARGED_OFF: frozenset(),
}


class IllegalLoanTransition(Exception):
    def __init__(self, current: LoanStatus, target: LoanStatus) -> None:
        super().__init__(f"A loan that is {current.value} cannot become {target.value}.")
        self.current = current
        self.target = target


def check_transition(current: LoanStatus | str, target: LoanStatus | str) -> LoanStatus:
    current, target = LoanStatus(current), LoanStatus(target)
    if target not in TRANSITIONS[current]:
        raise IllegalLoanTransition(current, target)
    return target
