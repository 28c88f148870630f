"""Refusals of servicing operations, each with the HTTP status a client should see.

Views turn them into a 4xx answer (API: ``{"message", "errors"}``; pages: the form re-rendered).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


class ServicingError(Exception):
    status = 422

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(ServicingError):
    """Field errors: nothing was changed."""

    status = 422

    def __init__(self, errors: dict[str, list[str]], message: str = "Some fields are not valid.") -> None:
        super().__init__(message, errors)


class ExcessNotConfirmed(InvalidInput):
    """A payment above the loan's payoff, not confirmed: most likely a typo (50000 for 500). Nothing
    was recorded; ``payoff`` is what pays the loan off on the received date."""

    def __init__(self, amount: Decimal, payoff: Decimal, on: dt.date) -> None:
        self.amount, self.payoff, self.on = amount, payoff, on
        super().__init__(
            {
                "amount": [
                    f"{amount:,} is more than the payoff of {payoff:,} on {on.isoformat()}. Check the "
                    "amount; if the borrower really paid more, confirm it (allow_excess) and the rest "
                    "is a refund due."
                ]
            },
            "The payment is above the payoff.",
        )


class LoanNotFound(ServicingError):
    status = 404

    def __init__(self) -> None:
        super().__init__("No such loan.")


class PaymentNotFound(ServicingError):
    status = 404

    def __init__(self) -> None:
        super().__init__("No such payment on this loan.")


class LoanClosed(ServicingError):
    """The loan is paid off or charged off: it takes no payments (a payoff can still be reversed)."""

    status = 409

    def __init__(self, status: str, what: str = "take payments") -> None:
        words = {"paid_off": "paid off", "charged_off": "charged off"}.get(status, status)
        super().__init__(f"This loan is {words}; it cannot {what}.")
        self.loan_status = status


class IdempotencyConflict(ServicingError):
    status = 409

    def __init__(self, key: str) -> None:
        super().__init__(
            f"The key {key!r} was already used for a different request; send a new key for a new request."
        )


class AlreadyReversed(ServicingError):
    status = 409

    def __init__(self, payment_id: int) -> None:
        super().__init__(f"Payment {payment_id} has already been reversed.")


class NotEligibleForChargeOff(ServicingError):
    status = 409

    def __init__(self, days: int, policy_days: int) -> None:
        super().__init__(
            f"The loan is {days} days past due; the charge-off policy starts at {policy_days} days."
        )


class NotChargedOff(ServicingError):
    status = 409

    def __init__(self) -> None:
        super().__init__("Recoveries are recorded on charged-off loans only.")


class BadKey(ServicingError):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message, {"Idempotency-Key": [message]})
