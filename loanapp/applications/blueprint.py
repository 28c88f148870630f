"""The applications blueprint; the worker's pages and the officer's pages add their routes to it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from loanapp.applications import vocabulary

bp = Blueprint("applications", __name__)


@bp.context_processor
def words() -> dict[str, Any]:
    """The feature's fixed lists and their labels, for its templates."""
    return {"vocab": vocabulary, "status_labels": vocabulary.STATUS_LABELS}
