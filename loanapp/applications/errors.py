"""Refusals of the application and booking operations, each with the HTTP status a view answers with.

State-machine refusals (``IllegalTransition`` and its kind) live in ``states``; :func:`http_status`
maps every refusal, so pages and the API answer the same way.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from loanapp.applications.states import ApplicationStateError


class ApplicationError(Exception):
    """Base class: the operation refused; nothing was written."""

    status = 409

    def __init__(self, message: Any, errors: dict[str, list[Any]] | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.errors = errors or {}


class InvalidApplication(ApplicationError):
    """Input that breaks a rule: field-level messages (HTTP 422)."""

    status = 422

    def __init__(self, errors: dict[str, list[Any]], message: Any = None) -> None:
        super().__init__(message or _l("Some answers need your attention."), errors)


class StaleApplication(ApplicationError):
    """Someone changed the application since this person loaded it (optimistic lock, HTTP 409)."""

    def __init__(self) -> None:
        super().__init__(
            _l(
                "Someone else changed this application since you opened it. "
                "Reload the page to see the change, then try again."
            )
        )


class OpenApplicationExists(ApplicationError):
    def __init__(self, application_id: int) -> None:
        super().__init__(
            _l("You already have an application in progress (number %(id)d).", id=application_id)
        )
        self.application_id = application_id


class NotAnApplicant(ApplicationError):
    status = 403

    def __init__(self) -> None:
        super().__init__(_l("Only worker accounts can apply. Sign out to apply as a worker."))


class DocumentRefused(InvalidApplication):
    """An upload that is not accepted (name, size, or contents that do not match the name)."""

    def __init__(self, message: Any) -> None:
        super().__init__({"file": [message]}, message)


class VerificationMissing(ApplicationError):
    def __init__(self) -> None:
        super().__init__("Employment is not verified: record a verification before booking.")


class VerificationExpired(ApplicationError):
    def __init__(self, days: int, valid_days: int) -> None:
        super().__init__(
            f"The employment verification is {days} days old and expires after {valid_days}: "
            "verify employment again before booking."
        )


class LoanAlreadyBooked(ApplicationError):
    def __init__(self, loan_id: int | None = None) -> None:
        super().__init__("This application was already booked as a loan; a loan is booked once.")
        self.loan_id = loan_id


class ReserveShort(ApplicationError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            "The loan-loss reserve does not have enough available to commit for this loan, so it was "
            f"not booked. Work Train staff can record a grant deposit. ({detail})"
        )


class DuplicateEmployer(ApplicationError):
    status = 422

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is already in the list.", {"name": [f"{name} is already in the list."]})


def http_status(error: Exception) -> int:
    if isinstance(error, ApplicationError):
        return error.status
    if isinstance(error, ApplicationStateError):
        return 409
    return 500


def message_of(error: Exception) -> str:
    return str(getattr(error, "message", error))


def field_errors(error: Exception) -> dict[str, list[str]]:
    return {name: [str(m) for m in messages] for name, messages in getattr(error, "errors", {}).items()}
