"""Serving-tier fixtures: model repositories and ``modelplane serve`` on loopback, started once
per session on free ports and stopped (by their own pid) at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serving.repository import build_test_repository, is_complete
from serving.servers import EXAMPLES, REAL_REPOSITORY, Server, serve, stop


@pytest.fixture(scope="session")
def tiny_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The PP-OCR models from the rapidocr wheel plus small rule-based ONNX graphs for the gate,
    breed and premium models (see ``repository.py``): what the semantics tests reason about."""
    return build_test_repository(tmp_path_factory.mktemp("repository"))


@pytest.fixture(scope="session")
def repository(tiny_repository: Path) -> Path:
    """``models/repository`` when ``make models`` built all five models, else the tiny one."""
    return REAL_REPOSITORY if is_complete(REAL_REPOSITORY) else tiny_repository


@pytest.fixture(scope="session")
def examples_server(repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``modelplane serve manifests/examples``: the three pipelines plus Korean documents."""
    log = tmp_path_factory.mktemp("logs") / "examples-server.log"
    server = serve(
        EXAMPLES, repository, log, ["car-claims", "documents", "documents-korean", "pet-premium"]
    )
    yield server
    stop(server)
