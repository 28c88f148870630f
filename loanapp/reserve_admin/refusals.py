"""How the ledger's refusals read to a client: one table from exception to HTTP status."""

from __future__ import annotations

import reserve
from loanapp.reserve_admin.actions import BadKey

_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (BadKey, 400),
    (reserve.ClaimNotFound, 404),
    (reserve.TransactionNotFound, 404),
    (reserve.SameActor, 403),
    (reserve.IdempotencyConflict, 409),
    (reserve.InsufficientReserve, 409),
    (reserve.MonthClosed, 409),
    (reserve.MonthNotClosable, 409),
    (reserve.IllegalClaimTransition, 409),
    (reserve.ClaimExists, 409),
    (reserve.ClaimPending, 409),
    (reserve.ClaimNotPaid, 409),
    (reserve.RecoveryExceedsClaim, 409),
    (reserve.AlreadyReversed, 409),
    (reserve.ReversalNotAllowed, 409),
    (reserve.CommitmentExists, 409),
    (reserve.NoOpenCommitment, 409),
    (reserve.InvalidAmount, 422),
    (reserve.InvalidClaim, 422),
    (reserve.InvalidDate, 422),
    (reserve.NotChargedOff, 422),
)

REFUSALS = (BadKey, reserve.ReserveError, ValueError)


def status_for(exc: Exception) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 422
