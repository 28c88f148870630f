"""The servicing policy the program runs under, from configuration (``DELINQUENCY_*``, ``CHARGE_OFF_DAYS``,
``LATE_FEE_*``, ``PAYMENT_*``, ``MATURITY_RESIDUAL_TOLERANCE``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from risk.delinquency import BucketScheme
from risk.money import D


@dataclass(frozen=True)
class ServicingPolicy:
    tolerance: Decimal
    buckets: BucketScheme
    call_report: BucketScheme
    charge_off_days: int
    late_fees: bool
    late_fee: Decimal
    late_fee_grace_days: int
    max_future_days: int
    payoff_quote_days: int
    residual_tolerance: Decimal = D("5.00")

    @property
    def current(self) -> str:
        """The first bucket's label: a loan that is not late."""
        return self.buckets.labels[0]


def servicing_policy(config: Mapping[str, Any]) -> ServicingPolicy:
    buckets = BucketScheme.from_pairs(config["DELINQUENCY_BUCKETS"])
    if buckets.lower_bounds[0] != 0:
        raise ValueError("DELINQUENCY_BUCKETS must start at 0 days (the bucket of loans that are not late)")
    return ServicingPolicy(
        tolerance=D(str(config["DELINQUENCY_TOLERANCE"])),
        buckets=buckets,
        call_report=BucketScheme.from_pairs(config["CALL_REPORT_BUCKETS"]),
        charge_off_days=int(config["CHARGE_OFF_DAYS"]),
        late_fees=bool(config["LATE_FEES_ENABLED"]),
        late_fee=D(str(config["LATE_FEE_AMOUNT"])),
        late_fee_grace_days=int(config["LATE_FEE_GRACE_DAYS"]),
        max_future_days=int(config["PAYMENT_MAX_FUTURE_DAYS"]),
        payoff_quote_days=int(config["PAYOFF_QUOTE_MAX_DAYS"]),
        residual_tolerance=D(str(config.get("MATURITY_RESIDUAL_TOLERANCE", "5.00"))),
    )


def current_policy() -> ServicingPolicy:
    from flask import current_app

    return servicing_policy(current_app.config)
