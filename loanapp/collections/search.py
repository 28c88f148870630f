"""How names and phone numbers are folded for search: "Hernández" and "HERNANDEZ" both become
"hernandez" (Unicode NFKD, combining marks dropped, case folded, spaces collapsed); a phone keeps
its digits only. The same folding is applied to what is stored and to what is typed."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold_name(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", plain.casefold()).strip()


def digits(text: str) -> str:
    return "".join(ch for ch in (text or "") if ch.isdigit())


def loan_number(text: str) -> int | None:
    """A loan number as people type it: "1234", "#1234", "L-1234", "loan 1234"."""
    cleaned = re.sub(r"^(loan|l)?\s*[-#]?\s*", "", (text or "").strip(), flags=re.IGNORECASE)
    return int(cleaned) if cleaned.isdigit() and len(cleaned) <= 9 else None
