"""Fixtures for the projections: the servicing fixtures (loans booked through the real operations, a
business date per test, the reserve funded), re-imported here because ``pytest_plugins`` is only
allowed in the root conftest."""

from tests.app.servicing.conftest import _reference_lists, ctx, funded, on_date, people

__all__ = ["_reference_lists", "ctx", "funded", "on_date", "people"]
