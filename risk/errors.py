"""The exceptions of ``risk/``, in one place so callers catch one family.

Every refusal of bad input is an :class:`InvalidTerms`, a ``ValueError`` that names the offending
field, so the web layer can answer 422 and point at the form field without parsing messages.
"""

from __future__ import annotations


class InvalidTerms(ValueError):
    """A loan term, amount, rate or date that the numeric code refuses.

    Parameters
    ----------
    field
        The name of the argument (and, by convention, of the form field) that is wrong.
    message
        What is wrong with it, in words a loan officer can read.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class APRError(InvalidTerms):
    """No annual percentage rate exists for the cash flows (e.g. payments total less than financed)."""


class AprAboveCeiling(InvalidTerms):
    """Terms whose disclosed APR would be above the federal credit union ceiling.

    ``apr`` is the APR the terms would disclose; ``ceiling`` the ceiling it exceeds.
    """

    def __init__(self, field: str, message: str, *, apr: object, ceiling: object) -> None:
        super().__init__(field, message)
        self.apr = apr
        self.ceiling = ceiling


class BackdatedPayment(InvalidTerms):
    """A payment dated before the loan state it is applied to.

    Backdating is the caller's job: replay the history from a state dated on or before the payment.
    """
