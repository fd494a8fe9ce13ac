"""The serving contract of every model folder: config.pbtxt agrees with the ONNX graph.

Triton refuses a model whose config disagrees with its graph; the serving side maps outputs by
the names and label files here. Each config is parsed back with Triton's own schema and compared
with what onnx and ONNX Runtime read from the file, which proves the one-source generation.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import onnxruntime as ort
import pytest
from google.protobuf import text_format
from modelplane_models import pet_photos, registry
from tritonclient.grpc import model_config_pb2 as mc

pytestmark = pytest.mark.timeout(900)

MODELS = tuple(builder.name for builder in registry.BUILDERS)
TRITON_TO_ONNX = {
    mc.TYPE_FP32: onnx.TensorProto.FLOAT,
    mc.TYPE_FP16: onnx.TensorProto.FLOAT16,
    mc.TYPE_INT32: onnx.TensorProto.INT32,
    mc.TYPE_INT64: onnx.TensorProto.INT64,
    mc.TYPE_BOOL: onnx.TensorProto.BOOL,
}
ORT_TYPES = {
    mc.TYPE_FP32: "tensor(float)",
    mc.TYPE_FP16: "tensor(float16)",
    mc.TYPE_INT32: "tensor(int32)",
    mc.TYPE_INT64: "tensor(int64)",
    mc.TYPE_BOOL: "tensor(bool)",
}


def _config(folder: Path) -> mc.ModelConfig:
    return text_format.Parse((folder / "config.pbtxt").read_text(), mc.ModelConfig())


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").removesuffix("\n").split("\n")


def _onnx_dims(value: onnx.ValueInfoProto) -> list[int]:
    return [
        d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim
    ]


@pytest.mark.parametrize("name", MODELS)
def test_config_matches_onnx_graph(model_repository: Path, name: str) -> None:
    folder = model_repository / name
    config = _config(folder)
    assert config.name == name
    assert config.platform == "onnxruntime_onnx"
    assert config.max_batch_size > 0
    assert config.HasField("dynamic_batching")
    assert all(s <= config.max_batch_size for s in config.dynamic_batching.preferred_batch_size)
    graph = onnx.load(str(folder / "1" / "model.onnx")).graph
    initializers = {i.name for i in graph.initializer}
    graph_inputs = [v for v in graph.input if v.name not in initializers]
    for declared, actual in ((config.input, graph_inputs), (config.output, graph.output)):
        assert [t.name for t in declared] == [v.name for v in actual]
        for tensor, value in zip(declared, actual, strict=True):
            assert TRITON_TO_ONNX[tensor.data_type] == value.type.tensor_type.elem_type
            dims = _onnx_dims(value)
            assert dims[0] == -1, f"{name}/{value.name}: batch axis is not dynamic"
            assert list(tensor.dims) == dims[1:]


@pytest.mark.parametrize("name", MODELS)
def test_onnxruntime_sees_the_configured_tensors(model_repository: Path, name: str) -> None:
    config = _config(model_repository / name)
    session = ort.InferenceSession(
        str(model_repository / name / "1" / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    for declared, actual in (
        (config.input, session.get_inputs()),
        (config.output, session.get_outputs()),
    ):
        assert [(t.name, ORT_TYPES[t.data_type]) for t in declared] == [
            (a.name, a.type) for a in actual
        ]


def test_label_files(model_repository: Path) -> None:
    gate = _config(model_repository / "quality-gate")
    reasons = next(o for o in gate.output if o.name == "reasons")
    assert reasons.label_filename == "labels.txt"
    assert _lines(model_repository / "quality-gate" / "labels.txt") == [
        "blurred",
        "not-a-car",
        "partial",
        "too-damaged",
    ]
    breed = _config(model_repository / "breed")
    probabilities = breed.output[0]
    labels = _lines(model_repository / "breed" / probabilities.label_filename)
    assert len(labels) == probabilities.dims[0] == len(pet_photos.LISTED)  # dropped breeds: none
    assert len(set(labels)) == len(labels)
    premium_meta = json.loads((model_repository / "premium" / "modelplane.json").read_text())
    assert premium_meta["breeds"] == labels
    assert premium_meta["regions"] == _lines(model_repository / "premium" / "regions.txt")
    assert "seoul" in premium_meta["regions"]


def test_recognizer_dictionary_covers_every_ctc_class(model_repository: Path) -> None:
    folder = model_repository / "text-recognition"
    meta = json.loads((folder / "modelplane.json").read_text())
    classes = meta["classes"]  # the graph answers class indices; the softmax had this many
    assert [o.name for o in _config(folder).output] == ["indices", "scores"]
    characters = _lines(folder / "labels.txt")
    assert len(characters) + 2 == classes  # + blank (index 0) + space (last index)
    assert meta["blank_index"] == 0 and meta["space_index"] == classes - 1
    assert meta["input"]["channel_order"] == "RGB"


@pytest.mark.parametrize("name", ["quality-gate", "damage-severity", "breed"])
def test_image_size_in_meta_matches_config(model_repository: Path, name: str) -> None:
    meta = json.loads((model_repository / name / "modelplane.json").read_text())
    dims = list(_config(model_repository / name).input[0].dims)
    assert dims == [3, meta["input_size"][1], meta["input_size"][0]]
