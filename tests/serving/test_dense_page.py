"""A dense full page through every hop of the cluster's data path, at the cluster's limits.

In a cluster a document goes client -> transformer (KServe ModelServer) -> Triton and back,
twice (detection, recognition). Every KServe server here runs with KServe's own gRPC limit
(8 MiB), the limit a cluster's transformers have; ``modelplane serve``'s raw models stand in for
Triton with the same limit. An A4 page at 150 dpi full of text used to need a 256 MiB limit
(the recognizer's softmax: N x T x 6625 FP32 per request); it must now pass at 8 MiB, and read
what was printed.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import yaml
from PIL import Image, ImageDraw, ImageFont
from serving.calls import call
from serving.documents import FONT_DIR
from serving.servers import EXAMPLES, Server, start_transformer, stop
from tritonclient.utils import InferenceServerException

KSERVE_GRPC_LIMIT = 8 * 1024 * 1024  # kserve.model_server: MAX_GRPC_MESSAGE_LENGTH
PAGE = (1240, 1754)  # A4 at 150 dpi
# Words PP-OCR reads back exactly (a capital I comes back as a lower-case l now and then).
WORDS = ["Physio", "Clinic", "Claim", "Policy", "Ward", "Dental", "Refund", "Total", "Doctor"]


def dense_page(seed: int = 5) -> tuple[bytes, list[str]]:
    """A page of 40 lines of words and amounts; returns (PNG, the printed lines)."""
    rng = random.Random(seed)
    font = ImageFont.truetype(str(FONT_DIR / "dejavu/DejaVuSans.ttf"), 26)
    image = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(image)
    printed = []
    for row in range(40):
        words = [rng.choice(WORDS) for _ in range(3)]
        text = f"{row + 1:02d}-{''.join(words)}-{rng.randint(1000, 99999)}"
        draw.text((70, 60 + row * 41), text, font=font, fill="black")
        printed.append(text)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), printed


def example_parameters(deployment: str) -> list[str]:
    """The ``--param`` flags the operator renders for an example deployment's parameters, so
    the transformer reads exactly as the local server's deployment of the same name does."""
    for doc in yaml.safe_load_all((EXAMPLES / "documents.yaml").read_text(encoding="utf-8")):
        if doc and doc["metadata"]["name"] == deployment:
            params = doc["spec"].get("parameters", {})
            return [f"--param={key}={value}" for key, value in sorted(params.items())]
    raise AssertionError(f"no example deployment {deployment}")


def transformer(predictor: Server, stage: str, model_dir: Path, tmp_path: Path) -> Iterator[Server]:
    server = start_transformer(
        predictor,
        f"{stage}-transformer",
        stage,
        stage,
        tmp_path / f"{stage}.log",
        f"--model-dir={model_dir / stage}",
        *example_parameters(f"doc-{stage}"),
    )
    try:
        yield server
    finally:
        stop(server)


@pytest.fixture
def detection(examples_server: Server, repository: Path, tmp_path: Path) -> Iterator[Server]:
    yield from transformer(examples_server, "text-detection", repository, tmp_path)


@pytest.fixture
def recognition(examples_server: Server, repository: Path, tmp_path: Path) -> Iterator[Server]:
    yield from transformer(examples_server, "text-recognition", repository, tmp_path)


@pytest.mark.timeout(600)  # an A4 page at full resolution: seconds per hop on a busy 2-core box
def test_dense_page_through_transformers_at_kserve_limits(
    examples_server: Server, detection: Server, recognition: Server
) -> None:
    png, printed = dense_page()
    assert len(png) < KSERVE_GRPC_LIMIT  # the client -> transformer hop
    boxes = call(detection, "grpc", "text-detection-transformer", image=png)["boxes"]
    assert len(boxes) >= len(printed)
    lines = call(recognition, "grpc", "text-recognition-transformer", image=png, boxes=boxes)
    read = ["".join(line["text"].split()) for line in lines["lines"]]
    assert sum(text in read for text in printed) >= 0.9 * len(printed), read
    local = call(examples_server, "grpc", "doc-text-recognition", image=png, boxes=boxes)
    assert [line["text"] for line in local["lines"]] == [line["text"] for line in lines["lines"]]


def test_the_triton_stand_in_sends_at_most_kserve_limit(examples_server: Server) -> None:
    """The limit above is real: an answer over 8 MiB (a 2048 x 2080 detection map, FP16, beyond
    what ``maxSideLen`` lets a page become) is refused, not sent."""
    pixels = np.zeros((1, 3, 2048, 2080), np.float32)
    tensor = grpcclient.InferInput("x", list(pixels.shape), "FP32")
    tensor.set_data_from_numpy(pixels)
    client = examples_server.grpc_client()
    try:
        with pytest.raises(InferenceServerException) as error:
            client.infer("text-detection", [tensor])
    finally:
        client.close()
    assert "RESOURCE_EXHAUSTED" in str(error.value.status())
    assert KSERVE_GRPC_LIMIT < 2048 * 2080 * 2
