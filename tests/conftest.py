"""Fixtures and options shared by every test tier."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers import validate_manifest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--with-e2e", action="store_true", help="run tests that need a real cluster")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--with-e2e"):
        return
    skip = pytest.mark.skip(reason="needs a real cluster: run `make e2e` (--with-e2e)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture()
def validate() -> Callable[[dict[str, Any]], None]:
    """Schema validation of one rendered object (upstream CRDs vendored in tests/schemas)."""
    return validate_manifest
