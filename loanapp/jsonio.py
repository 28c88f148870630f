"""JSON numbers in requests are read as Decimal, so ``"amount": 10000.10`` arrives exact, not as a float."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider


class ExactJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", Decimal)
        try:
            return json.loads(s, **kwargs)
        except RecursionError as exc:  # nested thousands deep: bad JSON like any other
            raise ValueError("JSON nested too deep") from exc
