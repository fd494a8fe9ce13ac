"""Triton tier fixtures: a real ``tritonserver`` (the nvidia-pytriton wheel's, installed by
``make install``) in explicit model-control mode, and the real model repository (``make models``).

No skip: the tier fails with the install step to run when the wheel or the models are missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from modelplane_inference.runtime.triton_local import TritonServer, distribution
from serving.servers import REAL_REPOSITORY


@pytest.fixture(scope="session")
def model_repository() -> Path:
    """``models/repository`` as ``make models`` builds it; a model it lacks fails the test that
    needs it, naming the file and ``make models``."""
    assert REAL_REPOSITORY.is_dir(), "no models/repository: run make models"
    return REAL_REPOSITORY


@pytest.fixture(scope="session")
def explicit_triton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """One tritonserver whose models the tests load and unload through its repository API."""
    assert (distribution() / "bin" / "tritonserver").is_file(), "run make install"
    workdir = tmp_path_factory.mktemp("triton")
    (workdir / "repository").mkdir()
    server = TritonServer(
        workdir / "repository", workdir, "127.0.0.1", "--model-control-mode=explicit"
    )
    server.start(wait_s=120)
    yield server
    server.stop()
