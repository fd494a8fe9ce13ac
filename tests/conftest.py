"""Fixtures and options shared by every test tier."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import validate_manifest

# KServe's gRPC protos and tritonclient.grpc's register the same ``inference.*`` symbols in
# protobuf's one descriptor pool, so no process can import both (architecture.md, the contract
# package). Tests that build KServe models in-process live in tests/inprocess and run in a
# pytest process of their own (``make test`` runs it second); every other test talks to servers
# through tritonclient.
INPROCESS = Path(__file__).parent / "inprocess"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave tests/inprocess out unless every path pytest was given lies inside it."""
    if collection_path != INPROCESS:
        return None
    given = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    inside = all(path == INPROCESS or INPROCESS in path.parents for path in given)
    return None if inside else True


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
