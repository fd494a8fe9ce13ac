"""The contract package: one typed spec for operator and local server, config.pbtxt through
Triton's schema, and the image contract (decode -> RGB -> resize -> [0, 1])."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from google.protobuf import text_format
from helpers import ROOT
from modelplane_api import images, triton
from modelplane_api.triton import Batching, TensorSpec
from modelplane_inference.serving.manifests import load_manifests
from modelplane_operator.spec import parse_deployment
from PIL import Image

EXAMPLES = ROOT / "manifests" / "examples"


def example_specs() -> dict[str, dict[str, Any]]:
    """ModelDeployment name -> spec as written in manifests/examples."""
    specs: dict[str, dict[str, Any]] = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") == "ModelDeployment":
                specs[doc["metadata"]["name"]] = doc.get("spec") or {}
    return specs


def test_local_server_and_operator_read_a_manifest_into_the_same_spec() -> None:
    deployments, _ = load_manifests(EXAMPLES)
    written = example_specs()
    assert {d.name for d in deployments} == set(written) and written
    for deployment in deployments:
        assert deployment.spec == parse_deployment(written[deployment.name]), deployment.name


def test_tensor_specs_round_trip_through_tritons_model_config() -> None:
    tensors = [
        TensorSpec("image", "BYTES", (1,)),
        TensorSpec("pixels", "FP32", (3, -1, -1)),
        TensorSpec("labels", "BOOL", (4,), label_filename="labels.txt"),
        TensorSpec("ids", "INT64", (1,)),
    ]
    config = triton.new_config(name="m")
    for tensor in tensors:
        tensor.to_config(config.output.add())
    text = triton.format_config(config)
    assert "data_type: TYPE_STRING" in text and 'label_filename: "labels.txt"' in text
    parsed = triton.parse_config(text)
    assert [TensorSpec.from_config(t) for t in parsed.output] == tensors
    assert [str(t.numpy_dtype) for t in tensors] == ["object", "float32", "bool", "int64"]


def test_batching_round_trips_and_a_manifest_overrides_key_by_key() -> None:
    batching = Batching(16, 3000, (4, 8), 2)
    config = triton.new_config(name="m")
    batching.to_config(config, "KIND_GPU")
    assert Batching.from_config(triton.parse_config(triton.format_config(config))) == batching
    assert batching.updated({"maxBatchSize": 4, "instanceCount": 1}) == Batching(4, 3000, (4, 8), 1)
    assert Batching.from_config(triton.new_config(name="m")) == Batching()


def test_config_files_are_written_from_and_read_into_the_message(tmp_path: Path) -> None:
    config = triton.new_config(name="m", platform="onnxruntime_onnx", max_batch_size=2)
    triton.write_config(tmp_path, config)
    assert triton.read_config(tmp_path) == config
    (tmp_path / "config.pbtxt").write_text('name: "m"\nmax_batch: 2\n')
    with pytest.raises(text_format.ParseError):
        triton.read_config(tmp_path)


def _encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def test_image_contract_values() -> None:
    """A flat colour stays exactly that colour / 255 through any resize; grey becomes RGB."""
    flat = Image.new("RGB", (37, 21), (255, 51, 0))
    tensor = images.to_tensor(flat, (8, 6))
    assert tensor.shape == (3, 6, 8) and tensor.dtype == np.float32
    assert tensor.flags["C_CONTIGUOUS"]
    assert np.array_equal(tensor[:, 0, 0], np.array([1.0, 0.2, 0.0], np.float32))
    assert np.ptp(tensor, axis=(1, 2)).max() == 0
    grey = images.to_uint8(Image.new("L", (5, 5), 128), (5, 5))
    assert grey.dtype == np.uint8 and np.all(grey == 128) and grey.shape == (3, 5, 5)
    assert np.array_equal(images.scale(np.array([0, 255], np.uint8)), np.array([0.0, 1.0]))


def test_decode_checks_the_size_before_pixels_and_drafts_jpeg() -> None:
    photo = Image.new("RGB", (800, 600), (10, 200, 30))
    data = _encoded(photo, "JPEG")
    seen: list[tuple[int, int]] = []
    assert images.decode(data, check_size=seen.append).size == (800, 600)
    assert seen == [(800, 600)]
    drafted = images.decode(data, size_hint=(100, 100))
    # The smallest DCT scale still covering 100x100: 1/8 gives 100x75 (too low), 1/4 gives 200x150.
    assert drafted.mode == "RGB" and drafted.size == (200, 150)
    png = images.decode(_encoded(photo.convert("L"), "PNG"), size_hint=(100, 100))
    assert png.mode == "RGB" and png.size == (800, 600)  # draft applies to JPEG only

    def refuse(size: tuple[int, int]) -> None:
        raise ValueError(f"too big: {size}")

    with pytest.raises(ValueError, match="too big"):
        images.decode(data, check_size=refuse)


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("nvcr.io/nvidia/tritonserver:25.01-py3", True),
        ("registry.claims.local:5000/mirror/modelplane/operator@sha256:" + "0" * 64, True),
        ("localhost/modelplane/inference:0.2.0", True),
        ("127.0.0.1:5000/modelplane/operator:0.2.0", True),
        ("modelplane/operator:0.1.0", False),  # Docker Hub user "modelplane"
        ("kserve/storage-initializer:v0.21.0", False),
        ("busybox", False),
    ],
)
def test_names_registry_follows_docker_reference_grammar(reference: str, expected: bool) -> None:
    from modelplane_api.references import names_registry

    assert names_registry(reference) is expected
