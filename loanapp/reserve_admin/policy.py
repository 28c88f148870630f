"""The reserve policy the program runs under, from configuration (``RESERVE_*``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from reserve import ReservePolicy


def reserve_policy(config: Mapping[str, Any]) -> ReservePolicy:
    cap = config.get("RESERVE_CLAIM_CAP_AMOUNT")
    return ReservePolicy(
        commitment_share=Decimal(str(config["RESERVE_COMMITMENT_SHARE"])),
        claim_cap_share=Decimal(str(config["RESERVE_CLAIM_CAP_SHARE"])),
        claim_cap_amount=None if cap in (None, "") else Decimal(str(cap)),
        pooled=bool(config["RESERVE_POOLED"]),
    )
