"""The PP-OCRv4 models as published: RGB [0, 1] input, and they still read text.

The repository's graphs carry an RGB/[0, 1] prefix; they must equal the wheel's untouched
graphs fed BGR in [-1, 1] (the recogniser's reduced to argmax and max per time step, as its
published graph answers), and the recogniser with ``labels.txt`` decoded the documented way
(blank 0, dictionary 1..n, space last) must read a rendered string
(one without spaces: PP-OCR's Chinese recogniser often drops them).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from modelplane_models.export import run_onnx
from modelplane_models.ocr import FILES, package_dir
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

pytestmark = pytest.mark.timeout(900)


def _render(text: str, size: tuple[int, int], at: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", size, (255, 255, 255))
    ImageDraw.Draw(image).text(at, text, fill=(0, 0, 0), font=ImageFont.load_default(size=32))
    return image


def _unit(image: Image.Image) -> NDArray[np.float32]:
    return np.asarray(image, np.float32).transpose(2, 0, 1)[None] / 255.0


@pytest.mark.parametrize(
    "name,shape", [("text-detection", (1, 3, 96, 128)), ("text-recognition", (3, 3, 48, 200))]
)
def test_prefix_equals_original_graph(
    model_repository: Path, name: str, shape: tuple[int, ...]
) -> None:
    rgb = np.random.default_rng(5).random(shape, dtype=np.float32)
    original = package_dir() / "models" / FILES[name]
    bgr = np.ascontiguousarray(rgb[:, ::-1] * 2 - 1)
    want = next(iter(run_onnx(original, {"x": bgr}).values()))
    got = run_onnx(model_repository / name / "1" / "model.onnx", {"x": rgb})
    if name == "text-detection":  # the map in FP16: within one half-precision step
        prob = next(iter(got.values()))
        assert prob.dtype == np.float16
        np.testing.assert_allclose(prob.astype(np.float32), want, atol=5e-4)
        return
    assert sorted(got) == ["indices", "scores"]
    assert got["indices"].dtype == np.int32 and got["indices"].shape == want.shape[:2]
    np.testing.assert_array_equal(got["indices"], want.argmax(axis=-1))
    np.testing.assert_allclose(got["scores"], want.max(axis=-1), atol=1e-5)


def _ctc_greedy(best: NDArray[np.int32], labels: list[str]) -> str:
    text, previous = [], 0
    for index in best:
        if index != previous and index != 0:
            text.append(" " if index == len(labels) + 1 else labels[index - 1])
        previous = index
    return "".join(text)


def test_recognizer_reads_rendered_text(model_repository: Path) -> None:
    folder = model_repository / "text-recognition"
    labels = (folder / "labels.txt").read_text(encoding="utf-8").removesuffix("\n").split("\n")
    line = _render("INVOICE2024-318", (360, 48), (6, 6))
    width = math.ceil(48 * line.width / line.height)
    batch = np.full((1, 3, 48, 400), 0.5, np.float32)  # pad as PaddleOCR does (0 after norm)
    batch[..., :width] = _unit(line.resize((width, 48), Image.Resampling.BILINEAR))
    out = run_onnx(folder / "1" / "model.onnx", {"x": batch})
    assert _ctc_greedy(out["indices"][0], labels) == "INVOICE2024-318"
    assert out["scores"][0].min() > 0.3  # each time step's best class is a probability


def test_detector_finds_text_and_not_blank_paper(model_repository: Path) -> None:
    page = _render("Total 12,500", (320, 224), (40, 40))
    out = run_onnx(model_repository / "text-detection" / "1" / "model.onnx", {"x": _unit(page)})
    prob = next(iter(out.values()))[0, 0]
    assert prob.shape == (224, 320)
    assert prob.dtype == np.float16  # half the bytes of FP32 on every hop
    assert prob[40:80, 40:260].max() > 0.6
    assert prob[140:, :].max() < 0.2
