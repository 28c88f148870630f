"""Importing this module registers every page route of the feature on ``bp``."""

from __future__ import annotations

from loanapp.applications import officer_views, worker_views  # noqa: F401  (routes register on import)
from loanapp.applications.blueprint import bp

__all__ = ["bp"]
