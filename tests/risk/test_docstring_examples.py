"""The runnable examples in the docstrings of risk/ stay true (their figures are checked elsewhere)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["risk.amortization", "risk.apr", "risk.dates", "risk.disclosure", "risk.servicing"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
