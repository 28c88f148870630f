"""Named refusals of the reserve ledger.

Every refusal the app must show to a person is its own class so a view can map it to a status code and
a message without parsing text (``IdempotencyConflict`` -> 409, ``InsufficientReserve`` -> 422, ...).
"""

from __future__ import annotations


class ReserveError(Exception):
    """Base class: the ledger refused an operation; nothing was posted.

    ``field`` names the input at fault when there is one (the app shows the message next to it).
    """

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        self.field = field


class InvalidAmount(ReserveError, ValueError):
    """An amount is not a positive number of whole cents."""


class InvalidDate(ReserveError, ValueError):
    """An effective date outside the window the program allows around the business date."""


class NotChargedOff(ReserveError):
    """A claim is filed only for a loan the reserve backs that was charged off (not paid off)."""


class IdempotencyConflict(ReserveError):
    """The idempotency key was already used for a different request (HTTP 409)."""


class InsufficientReserve(ReserveError):
    """The reserve (available or a loan's commitment) cannot cover the amount at the effective date."""


class MonthClosed(ReserveError):
    """The effective date falls in a closed month; post the correction in the open month."""


class MonthNotClosable(ReserveError):
    """The month cannot be closed now: months close in order and only once they are over."""


class LedgerImmutable(ReserveError):
    """Posted rows are never updated or deleted; post a reversal instead."""


class TransactionNotFound(ReserveError, LookupError):
    """No reserve transaction has this id."""


class AlreadyReversed(ReserveError):
    """The transaction has already been reversed; a transaction is reversed at most once."""


class ReversalNotAllowed(ReserveError):
    """This transaction cannot be reversed (it is itself a reversal, or later postings depend on it)."""


class CommitmentExists(ReserveError):
    """The loan already has a reserve commitment that was not reversed."""


class NoOpenCommitment(ReserveError):
    """The loan has no committed reserve to release."""


class ClaimNotFound(ReserveError, LookupError):
    """No claim has this id."""


class ClaimExists(ReserveError):
    """The loan already has a pending or paid claim; one claim per charge-off."""


class ClaimPending(ReserveError):
    """The loan has a pending claim, so its commitment must stay in place until the claim is decided."""


class InvalidClaim(ReserveError, ValueError):
    """The claim's figures do not describe a loss (loss must be positive)."""


class SameActor(ReserveError):
    """Maker-checker: the person who filed a claim cannot approve or reject it."""


class IllegalClaimTransition(ReserveError):
    """The claim's status does not allow this move."""


class ClaimAlreadyDecided(IllegalClaimTransition):
    """The claim was already approved (paid) or rejected."""


class ClaimNotPaid(ReserveError):
    """A recovery needs a paid claim to go back against."""


class RecoveryExceedsClaim(ReserveError):
    """Recoveries go back to the reserve only up to what the reserve paid on the claim."""


class LedgerInconsistent(ReserveError):
    """Stored figures disagree with each other (a statement that does not foot); run ``reserve.check``."""
