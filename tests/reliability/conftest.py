"""Reliability tier: limits, faults, fuzzing and bounded load against real server processes.

Hypothesis runs a bounded, derandomized profile in ``make test`` (the same inputs every run, a
few seconds per property); ``make soak`` sets ``MODELPLANE_SOAK=1`` for many more random inputs
and a longer load.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from reliability.servers import SLOW_MANIFESTS, serve_with
from serving.repository import build_test_repository
from serving.servers import EXAMPLES, Server, stop

SOAK = os.environ.get("MODELPLANE_SOAK") == "1"
# The limits the shared server runs with: small, so tests reach each one cheaply.
LIMIT_FLAGS = {
    "--max-request-bytes": "1048576",
    "--max-image-pixels": "1000000",
    "--max-batch": "8",
    "--max-concurrency": "4",
    "--request-timeout-s": "4",
}

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "bounded",
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_QUIET,
)
settings.register_profile(
    "soak", max_examples=5000, deadline=None, database=None, suppress_health_check=_QUIET
)
settings.load_profile("soak" if SOAK else "bounded")


@pytest.fixture(scope="session")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The serving tier's tiny repository (real PP-OCR, rule-based gate/breed/premium graphs)
    plus ``premium-slow``/``premium-stuck``: copies of premium whose deployments hold requests in
    the dynamic batcher's queue, the slow in-flight work the limit and shutdown tests need."""
    repo = build_test_repository(tmp_path_factory.mktemp("repository"))
    for copy in ("premium-slow", "premium-stuck"):
        shutil.copytree(repo / "premium", repo / copy)
        config = repo / copy / "config.pbtxt"
        config.write_text(config.read_text().replace('name: "premium"', f'name: "{copy}"'))
    return repo


@pytest.fixture(scope="session")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """car-claims and pet-premium from the examples, plus the slow and stuck deployments."""
    folder = tmp_path_factory.mktemp("manifests")
    for name in ("car-claims.yaml", "pet-premium.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    (folder / "slow.yaml").write_text(SLOW_MANIFESTS)
    return folder


@pytest.fixture(scope="session")
def limited_server(
    repository: Path, manifests: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One ``modelplane serve`` with small limits, shared by the limit, error, fuzz, log and
    load tests (each leaves it serving; that is part of what they check)."""
    log = tmp_path_factory.mktemp("logs") / "limited-server.log"
    flags = [part for pair in LIMIT_FLAGS.items() for part in pair]
    server = serve_with(manifests, repository, log, *flags)
    yield server
    stop(server)
