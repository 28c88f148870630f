"""``record`` is the one way every write notes itself in the audit trail, in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from loanapp.audit.models import AuditEvent
from loanapp.extensions import db


def _plain(value: Any) -> Any:
    """JSON-safe details: money stays exact as a string, dates as ISO text."""
    return json.loads(
        json.dumps(value, default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat())
    )


#: Called with each event as it is recorded, inside the same transaction (``loanapp.notices`` queues
#: the worker's notices from here, so a notice commits or rolls back with its event).
_subscribers: list[Callable[[AuditEvent], None]] = []


def subscribe(listener: Callable[[AuditEvent], None]) -> None:
    if listener not in _subscribers:
        _subscribers.append(listener)


def record(
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    *,
    actor: Any | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current unit of work; it commits or rolls back with the change it records.

    ``actor`` is a user, or None for the system (scheduled jobs, CLI without a user).
    """
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or "system",
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        details=_plain(details or {}),
    )
    db.session.add(event)
    for listener in _subscribers:
        listener(event)
    return event
