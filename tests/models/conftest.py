"""Fixtures for the model tests: the real model repository, built once and reused.

``make test`` runs ``make models`` first, so the session fixture normally finds every model
current and returns at once; run alone, it builds what is missing (a few minutes on two cores),
which is why the modules using it raise pytest's timeout.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from modelplane_api import logs
from modelplane_models import registry, repository

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = ROOT / "models" / "repository"
BUILD_TIMEOUT_S = 900


@pytest.fixture(scope="session")
def model_repository() -> Path:
    """``models/repository`` as ``make models`` leaves it (built here when missing or stale)."""
    logs.setup("plain")
    outcome = repository.build(REPOSITORY, registry.BUILDERS)
    assert set(outcome) == {b.name for b in registry.BUILDERS}
    return REPOSITORY
