"""Refusals of outcome operations, each with the HTTP status a client should see (nothing is written)."""

from __future__ import annotations

import datetime as dt


class OutcomeError(Exception):
    status = 422

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(OutcomeError):
    def __init__(self, errors: dict[str, list[str]], message: str = "Some fields are not valid.") -> None:
        super().__init__(message, errors)


class LoanNotFound(OutcomeError):
    status = 404

    def __init__(self) -> None:
        super().__init__("No such loan.")


class CheckInNotFound(OutcomeError):
    status = 404

    def __init__(self) -> None:
        super().__init__("No such check-in on this loan.")


class NotAllowed(OutcomeError):
    status = 403


class NothingDue(OutcomeError):
    status = 409

    def __init__(self, next_due: dt.date | None, last_answered: dt.date | None = None) -> None:
        parts = []
        if last_answered is not None:
            parts.append(f"The last check-in was already answered on {last_answered.isoformat()}.")
        parts.append(
            f"No check-in is due on this loan; the next is due on {next_due.isoformat()}."
            if next_due is not None
            else "No check-in is due on this loan."
        )
        super().__init__(" ".join(parts))
        self.next_due = next_due


class NotYetDue(OutcomeError):
    status = 409

    def __init__(self, due_on: dt.date) -> None:
        super().__init__(f"This check-in is not due until {due_on.isoformat()}.")


class CheckInClosed(OutcomeError):
    status = 409

    def __init__(self) -> None:
        super().__init__("This check-in has closed; your loan officer will call you.")


class AlreadyAnswered(OutcomeError):
    status = 409

    def __init__(self, answered_on: dt.date) -> None:
        super().__init__(
            f"This check-in was already answered on {answered_on.isoformat()}; nothing was changed. "
            "To change an answer, record a correction."
        )
        self.answered_on = answered_on


class AlreadyCorrected(OutcomeError):
    status = 409

    def __init__(self, check_in_id: int, by_id: int) -> None:
        super().__init__(
            f"Check-in {check_in_id} was already corrected (by check-in {by_id}); correct the latest answer."
        )


class IdempotencyConflict(OutcomeError):
    status = 409

    def __init__(self, key: str) -> None:
        super().__init__(
            f"The key {key!r} was already used for a different request; send a new key for a new request."
        )


class BadKey(OutcomeError):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message, {"Idempotency-Key": [message]})
