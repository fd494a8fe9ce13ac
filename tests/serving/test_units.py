"""Pure parts of the data plane, tested in-process: parsing, the runner's batcher, config.pbtxt
reading, manifest defaults. (Stage and server modules import KServe, whose gRPC protos clash
with tritonclient's in one process: they are tested through ``modelplane serve``.)"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
import yaml
from modelplane_api.spec import parse_deployment
from modelplane_api.triton import Batching
from modelplane_inference.documents.parsing.document import (
    normalise_amount,
    normalise_date,
    parse_document,
)
from modelplane_inference.runtime.repository import load_model_config
from modelplane_inference.runtime.runner import ModelRunner, RunnerInputError
from modelplane_inference.serving.manifests import load_manifests
from modelplane_inference.stages.images import ImageError, decode_image
from serving.calls import png
from serving.servers import EXAMPLES, ROOT

CRDS = ROOT / "manifests" / "crds"


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2024.03.05", "2024-03-05"),
        ("진료일자: 2023년 7월 9일", "2023-07-09"),
        ("Date: 2021-12-31", "2021-12-31"),
        ("20200229", "2020-02-29"),
        ("2021-02-30", None),
        ("no date here", None),
    ],
)
def test_dates(text: str, date: str | None) -> None:
    assert normalise_date(text) == date


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("89,500 원", 89500),
        ("Total: 1,234,567", 1234567),
        ("합계 12 300", 12300),
        ("—", None),
    ],
)
def test_amounts(text: str, amount: int | None) -> None:
    assert normalise_amount(text) == amount


def line(text: str, x: int, y: int) -> dict[str, Any]:
    return {
        "text": text,
        "box": [[x, y], [x + 100, y], [x + 100, y + 30], [x, y + 30]],
        "score": 0.9,
    }


def test_label_and_value_in_separate_boxes_on_one_row() -> None:
    lines = [
        line("진료비 영수증", 50, 20),
        line("합계", 50, 300),
        line("45,000 원", 400, 304),
        line("환자성명", 50, 100),
        line("김민수", 400, 98),
    ]
    doc = parse_document(lines)
    assert doc["document_type"] == "receipt"
    assert doc["fields"]["total_amount"] == 45000
    assert doc["fields"]["name"] == "김민수"
    assert doc["lines"] == lines


def test_full_width_forms_are_read_as_ascii() -> None:
    """A separator in a full-width form is a separator (comma U+FF0C, stop U+FF0E, digits
    U+FF10-U+FF19 of a CJK text layer): never dropped, so never a number scaled by 1000."""
    date = "\uff12\uff10\uff12\uff14\uff0e\uff10\uff13\uff0e\uff10\uff15\uff0e"  # 2024.03.05.
    lines = [
        line("진료비 영수증", 50, 20),
        line(f"진료일자\uff1a{date}", 50, 100),
        line("합계", 50, 300),
        line("RM1\uff0c234\uff0e50", 400, 304),
    ]
    doc = parse_document(lines)
    assert doc["fields"]["total_amount"] == 1234.5
    assert doc["fields"]["date"] == "2024-03-05"
    assert doc["lines"] == lines  # the answer's lines are as read


def test_decode_image_rejects_and_accepts() -> None:
    good = png(np.zeros((10, 20, 3)))
    assert decode_image(good).size == (20, 10)
    with pytest.raises(ImageError, match="too large"):
        decode_image(good, max_pixels=100)
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")


def test_config_pbtxt_and_manifest_batching(tiny_repository: Path) -> None:
    config = load_model_config(tiny_repository, "quality-gate")
    assert config.batching.max_batch_size == 16
    assert config.batching.preferred_batch_sizes == (8, 16)
    assert config.inputs[0].name == "image" and config.inputs[0].dims == (3, 128, 128)
    assert config.labels == ("blurred", "not-a-car", "partial")
    spec = parse_deployment(
        {
            "stage": "quality-gate",
            "model": {"name": "quality-gate", "storageUri": "pvc://models/repository"},
            "batching": {"maxBatchSize": 4, "maxQueueDelayMicroseconds": 7},
        }
    )
    merged = config.with_batching(spec.batching)
    # What the manifest leaves out is the CRD's default, not config.pbtxt's (8, 16): the
    # cluster's rendered config.pbtxt replaces the model's, and the laptop does the same.
    assert merged.batching == Batching(4, 7, (), 1)


def test_runner_batches_concurrent_requests(tiny_repository: Path) -> None:
    config = load_model_config(tiny_repository, "breed").with_batching(
        Batching(max_batch_size=8, max_queue_delay_us=500_000)
    )
    runner = ModelRunner(config, batcher="fixed")  # Triton's rule: wait for the batch to fill
    images = [np.full((1, 3, 64, 64), 0.1 * i, dtype=np.float32) for i in range(6)]
    for i, image in enumerate(images):
        image[:, i % 3] += 0.5  # dominant channel i % 3
    results: list[dict[str, np.ndarray]] = [{} for _ in images]
    barrier = threading.Barrier(len(images))

    def send(i: int) -> None:
        barrier.wait()
        results[i] = runner.infer_sync({"image": images[i]})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    runner.close()
    assert sum(runner.stats.batch_sizes) == len(images)
    assert max(runner.stats.batch_sizes) > 1
    for i, result in enumerate(results):  # each caller got its own rows back
        assert result["probabilities"].shape == (1, 3)
        assert int(result["probabilities"].argmax()) == i % 3


def test_runner_rejects_bad_tensors(tiny_repository: Path) -> None:
    runner = ModelRunner(load_model_config(tiny_repository, "breed"))
    with pytest.raises(RunnerInputError, match="shape"):
        runner.infer_sync({"image": np.zeros((1, 3, 10, 10), np.float32)})
    with pytest.raises(RunnerInputError, match="max_batch_size"):
        runner.infer_sync({"image": np.zeros((17, 3, 64, 64), np.float32)})
    with pytest.raises(RunnerInputError, match="missing input"):
        runner.infer_sync({"picture": np.zeros((1, 3, 64, 64), np.float32)})
    runner.close()


def crd_schema(plural: str) -> dict[str, Any]:
    crd = yaml.safe_load((CRDS / f"modelplane.io_{plural}.yaml").read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def test_examples_are_valid_and_defaulted() -> None:
    plural = {"ModelDeployment": "modeldeployments", "ModelPipeline": "modelpipelines"}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            jsonschema.validate(doc, crd_schema(plural[doc["kind"]]))
    deployments, pipelines = load_manifests(EXAMPLES)
    korean = next(d for d in deployments if d.name == "doc-text-recognition-korean")
    assert korean.parameters == {"recognizer": "tesseract", "language": "kor+eng"}
    assert korean.repository(Path("/repo")) == Path("/repo")  # pvc:// maps to the local repo
    parse = next(d for d in deployments if d.name == "doc-parse")
    assert parse.runtime == "python" and parse.version == "1"  # CRD default
    assert {p.name for p in pipelines} >= {
        "car-claims",
        "documents",
        "documents-korean",
        "pet-premium",
    }
    assert all(p.spec.root == "root" for p in pipelines)
