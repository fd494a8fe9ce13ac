"""Labelling-tier fixtures: the car-claims gate served once per session from ``models/repository``
(``make models`` builds it before ``make test``), as ``modelplane serve`` serves it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving.servers import EXAMPLES, REAL_REPOSITORY, Server, serve, stop


@pytest.fixture(scope="session")
def repository() -> Path:
    """The real model repository (or ``$MODELPLANE_MODEL_REPOSITORY``, as for
    ``modelplane-models``): the page reads its classes from the gate's labels.txt."""
    repo = Path(os.environ.get("MODELPLANE_MODEL_REPOSITORY") or REAL_REPOSITORY)
    if not (repo / "quality-gate" / "labels.txt").is_file():
        raise RuntimeError(f"{repo} has no quality-gate: run `make models` first")
    return repo


@pytest.fixture(scope="session")
def gate_server(repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``modelplane serve`` with the car-claims example only (the gate loads in seconds)."""
    folder = tmp_path_factory.mktemp("car-claims")
    shutil.copy(EXAMPLES / "car-claims.yaml", folder)
    server = serve(folder, repository, folder / "serve.log", ["car-claims"])
    yield server
    stop(server)
