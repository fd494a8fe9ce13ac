"""The local runner picks ONNX Runtime's CUDA provider on a GPU machine (onnxruntime-gpu)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from modelplane_inference.runtime.repository import load_model_config
from modelplane_inference.runtime.runner import ModelRunner, execution_providers


@pytest.fixture()
def cuda_provider() -> None:
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip("onnxruntime has no CUDA provider: pip uninstall onnxruntime, install -gpu")


@pytest.mark.usefixtures("cuda_provider")
def test_runner_runs_on_cuda(gpu_repository: Path) -> None:
    assert execution_providers()[0] == "CUDAExecutionProvider"
    runner = ModelRunner(load_model_config(gpu_repository, "quality-gate"))
    try:
        assert runner.session.get_providers()[0] == "CUDAExecutionProvider"
        size = runner.config.inputs[0].dims
        batch = np.random.default_rng(0).uniform(0, 1, (2, *size)).astype(np.float32)
        out = runner.infer_sync({runner.config.inputs[0].name: batch})
        assert all(v.shape[0] == 2 for v in out.values())
    finally:
        runner.close()
