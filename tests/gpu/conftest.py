"""GPU tier (docs/architecture.md, tier 6): TensorRT plans and ONNX Runtime's CUDA provider.

Runs standalone on a GPU machine::

    pip install -e '.[gpu,inference,models,dev]'
    pip uninstall -y onnxruntime && pip install onnxruntime-gpu   # the CUDA provider test only
    pytest tests/gpu

Elsewhere every test skips with the reason (shown by ``-ra`` and in the report header).
"""

from __future__ import annotations

from pathlib import Path

import pytest


def gpu_missing() -> str | None:
    """Why this machine cannot run the GPU tier, or None."""
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return "TensorRT is not installed (pip install -e '.[gpu]' on a GPU machine)"
    try:
        import torch
    except ImportError:
        return "torch is not installed (pip install -e '.[gpu]')"
    if not torch.cuda.is_available():
        return "no CUDA device visible to torch"
    return None


def pytest_report_header() -> str:
    reason = gpu_missing()
    return f"gpu tier: {'runs' if reason is None else 'skipped: ' + reason}"


@pytest.fixture(autouse=True)
def _needs_gpu() -> None:
    """Skip, naming the reason, where there is no GPU or no TensorRT."""
    reason = gpu_missing()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def gpu_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``models/repository`` when built (``make models``), else the serving tests' repository:
    the real PP-OCR graphs plus small rule-based gate/breed/premium graphs (seconds to write)."""
    from serving.repository import build_test_repository, is_complete
    from serving.servers import REAL_REPOSITORY

    if is_complete(REAL_REPOSITORY):
        return REAL_REPOSITORY
    return build_test_repository(tmp_path_factory.mktemp("repository"))
