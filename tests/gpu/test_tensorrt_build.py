"""``modelplane-build-engine`` on a GPU: plans in Triton layout, agreeing with ONNX Runtime.

The parity check itself lives in the builder (a plan outside tolerance is never written); these
tests prove the layout Triton loads, the recorded digest and the shapes the operator passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from modelplane_api.triton import parse_config as parse_pbtxt
from modelplane_models import tensorrt as trt_build

# The shape flags the operator renders for the documents example's detector.
DETECTION_SHAPE = "x:3,32,32:3,736,736:3,1536,1536"


def build_into(repo: Path, out: Path, model: str, precision: str, *args: str) -> dict[str, object]:
    plan = out / "engines" / "key" / model / "1" / "model.plan"
    argv = ["--onnx", str(repo / model / "1" / "model.onnx"), "--output", str(plan)]
    argv += ["--precision", precision, "--workspace-mib", "2048", *args]
    assert trt_build.main(argv) == 0, "modelplane-build-engine failed (see stderr)"
    record: dict[str, object] = json.loads((plan.parent / "engine.json").read_text())
    return record


@pytest.mark.timeout(900)
@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_gate_plan_in_triton_layout(gpu_repository: Path, tmp_path: Path, precision: str) -> None:
    record = build_into(
        gpu_repository, tmp_path, "quality-gate", precision, "--max-batch-size", "16"
    )
    model_dir = tmp_path / "engines" / "key" / "quality-gate"
    assert (model_dir / "1" / "model.plan").stat().st_size > 0
    config = parse_pbtxt((model_dir / "config.pbtxt").read_text())
    onnx_config = parse_pbtxt((gpu_repository / "quality-gate" / "config.pbtxt").read_text())
    assert config.platform == "tensorrt_plan"
    assert config.max_batch_size == 16
    assert [(i.name, list(i.dims)) for i in config.input] == [
        (i.name, list(i.dims)) for i in onnx_config.input
    ]
    assert [o.name for o in config.output] == [o.name for o in onnx_config.output]
    assert record["onnx_sha256"] == trt_build.sha256(
        gpu_repository / "quality-gate" / "1" / "model.onnx"
    )
    assert record["precision"] == precision
    parity = record["parity"]
    assert isinstance(parity, dict) and parity["tolerance"] == trt_build.TOLERANCE[precision]


@pytest.mark.timeout(1800)
def test_detector_plan_with_operator_shapes(gpu_repository: Path, tmp_path: Path) -> None:
    """The documents example's flags: dynamic H/W bounds, batch 1..4, fp16."""
    record = build_into(
        gpu_repository, tmp_path, "text-detection", "fp16",
        "--max-batch-size", "4", "--shape", DETECTION_SHAPE,
    )  # fmt: skip
    assert record["profile"] == [
        {"name": "x", "min": [1, 3, 32, 32], "opt": [4, 3, 736, 736], "max": [4, 3, 1536, 1536]}
    ]
    plan = tmp_path / "engines" / "key" / "text-detection" / "1" / "model.plan"
    runner = trt_build.PlanRunner(plan.read_bytes())
    page = np.random.default_rng(0).uniform(0, 1, (1, 3, 640, 480)).astype(np.float32)
    (prob,) = runner.run({"x": page}).values()
    assert prob.shape == (1, 1, 640, 480)
    assert (tmp_path / "engines" / "key" / "timing.cache").stat().st_size > 0


def test_dynamic_dims_without_shape_are_refused(gpu_repository: Path, tmp_path: Path) -> None:
    plan = tmp_path / "text-detection" / "1" / "model.plan"
    argv = ["--onnx", str(gpu_repository / "text-detection" / "1" / "model.onnx")]
    assert trt_build.main([*argv, "--output", str(plan)]) == 1
    assert not plan.exists()
