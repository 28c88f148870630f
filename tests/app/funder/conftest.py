"""The servicing fixtures (loans booked through the real operations, the business date per test)."""

from tests.app.servicing.conftest import (  # noqa: F401  (fixtures, re-exported for pytest)
    _reference_lists,
    ctx,
    funded,
    loan,
    on_date,
    people,
)
