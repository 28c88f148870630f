"""The reserve policy the program runs under, from configuration (``RESERVE_*``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from reserve import PostingLimits, ReservePolicy


def reserve_policy(config: Mapping[str, Any]) -> ReservePolicy:
    cap = config.get("RESERVE_CLAIM_CAP_AMOUNT")
    return ReservePolicy(
        commitment_share=Decimal(str(config["RESERVE_COMMITMENT_SHARE"])),
        claim_cap_share=Decimal(str(config["RESERVE_CLAIM_CAP_SHARE"])),
        claim_cap_amount=None if cap in (None, "") else Decimal(str(cap)),
        pooled=bool(config["RESERVE_POOLED"]),
    )


def posting_limits(config: Mapping[str, Any], today: dt.date | None) -> PostingLimits:
    """The bounds every reserve write is held to (``RESERVE_MAX_*``), dated around the business date."""
    return PostingLimits(
        max_deposit=Decimal(str(config["RESERVE_MAX_DEPOSIT"])),
        max_interest=Decimal(str(config["RESERVE_MAX_INTEREST"])),
        max_claim=Decimal(str(config["RESERVE_MAX_CLAIM"])),
        max_recovery=Decimal(str(config["RESERVE_MAX_RECOVERY"])),
        max_allowed_costs=Decimal(str(config["RESERVE_CLAIM_MAX_ALLOWED_COSTS"])),
        today=today,
        max_backdate_days=int(config["RESERVE_MAX_BACKDATE_DAYS"]),
        max_future_days=int(config["RESERVE_MAX_FUTURE_DAYS"]),
    )
