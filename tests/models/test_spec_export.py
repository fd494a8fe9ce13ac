"""One spec drives config.pbtxt and the ONNX export; the parity check catches a wrong graph."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from google.protobuf import text_format
from modelplane_models.export import ParityError, check_parity, export_onnx
from modelplane_models.spec import ModelSpec, TensorSpec
from tritonclient.grpc import model_config_pb2 as mc

SPEC = ModelSpec(
    name="toy",
    inputs=(TensorSpec("signal", "FP32", (2, -1)),),
    outputs=(TensorSpec("peak", "FP32", (2,)), TensorSpec("hot", "BOOL", (2,))),
    max_batch_size=8,
    preferred_batch_sizes=(4, 8),
)


class Toy(torch.nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, signal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        peak = signal.amax(dim=2) * self.scale
        return peak, peak > 0.5


def test_pbtxt_round_trips_through_tritons_schema() -> None:
    config = text_format.Parse(SPEC.pbtxt(), mc.ModelConfig())
    assert config.max_batch_size == 8
    assert list(config.dynamic_batching.preferred_batch_size) == [4, 8]
    assert [(t.name, t.data_type, list(t.dims)) for t in config.input] == [
        ("signal", mc.TYPE_FP32, [2, -1])
    ]
    assert [(t.name, t.data_type) for t in config.output] == [
        ("peak", mc.TYPE_FP32),
        ("hot", mc.TYPE_BOOL),
    ]


def test_export_follows_the_spec_and_parity_holds(tmp_path: Path) -> None:
    path = tmp_path / "toy.onnx"
    export_onnx(Toy(1.0), SPEC, {"signal": torch.rand(2, 2, 5)}, path)
    derived = ModelSpec.from_onnx(path, "toy", 8)
    assert derived.inputs == SPEC.inputs
    assert [(t.name, t.datatype, t.dims) for t in derived.outputs] == [
        ("peak", "FP32", (2,)),
        ("hot", "BOOL", (2,)),
    ]
    feeds = {"signal": np.random.default_rng(0).random((7, 2, 11), dtype=np.float32)}
    report = check_parity(Toy(1.0), SPEC, path, feeds)
    assert report["peak"] <= 1e-6 and report["hot"] == 0.0


def test_parity_check_rejects_a_graph_that_differs(tmp_path: Path) -> None:
    path = tmp_path / "toy.onnx"
    export_onnx(Toy(1.0), SPEC, {"signal": torch.rand(1, 2, 3)}, path)
    feeds = {"signal": np.random.default_rng(1).random((3, 2, 4), dtype=np.float32)}
    with pytest.raises(ParityError, match="peak"):
        check_parity(Toy(1.001), SPEC, path, feeds)


def test_export_rejects_dims_the_graph_does_not_produce(tmp_path: Path) -> None:
    wrong = dataclasses.replace(
        SPEC, outputs=(TensorSpec("peak", "FP32", (3,)), TensorSpec("hot", "BOOL", (2,)))
    )
    with pytest.raises(onnx.shape_inference.InferenceError):
        export_onnx(Toy(1.0), wrong, {"signal": torch.rand(2, 2, 5)}, tmp_path / "toy.onnx")
    assert not (tmp_path / "toy.onnx").exists()
