"""The quality gate's graph on real photos, through ONNX Runtime on the exported model.

Accuracy on real held-out photos is measured through the served pipeline
(``test_vision_served.py``) and in full by ``bench/vision_quality.py``; here the graph's own
contract is checked on train-pile photos and their derivatives (no held-out budget spent):
the decisions agree with each other, the embedding is a unit vector, and the in-graph sharpness
is the variance of the Laplacian computed here independently with numpy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from modelplane_models import quality_gate, real_photos
from modelplane_models.export import run_onnx
from numpy.typing import NDArray

pytestmark = pytest.mark.timeout(900)
# The contract's order of the reasons output (new reasons are appended, never reordered).
REASONS = ("blurred", "not-a-car", "partial", "too-damaged")
PHOTOS = 24


class Photos(NamedTuple):
    """Derivation of each photo ("" / blurred / partial), the graph's outputs, the inputs."""

    derive: list[str]
    out: dict[str, NDArray[Any]]
    images: NDArray[np.float32]


@pytest.fixture(scope="module")
def photos(model_repository: Path) -> Photos:
    chosen = real_photos.gate_photos("train")[:PHOTOS]
    pixels = real_photos.pixels(chosen, quality_gate.INPUT_SIZE, evaluating=False)
    images = pixels.astype(np.float32) / 255.0
    out = run_onnx(model_repository / "quality-gate" / "1" / "model.onnx", {"image": images})
    return Photos([p.derive for p in chosen], out, images)


def test_labels_keep_the_contract_order(model_repository: Path) -> None:
    labels = (model_repository / "quality-gate" / "labels.txt").read_text().split("\n")[:-1]
    assert tuple(labels) == REASONS


def test_decision_outputs_are_consistent(photos: Photos) -> None:
    out = photos.out
    assert np.array_equal(out["estimable"][:, 0], ~out["reasons"].any(axis=1))
    np.testing.assert_allclose(np.linalg.norm(out["embedding"], axis=1), 1.0, atol=1e-5)
    assert (out["distance"] >= 0).all() and (out["distance"] <= 2.0 + 1e-5).all()


def test_sharpness_is_variance_of_laplacian(photos: Photos) -> None:
    images, out = photos.images, photos.out
    gray = (0.299 * images[:, 0] + 0.587 * images[:, 1] + 0.114 * images[:, 2]) * 255.0
    lap = (
        gray[:, :-2, 1:-1]
        + gray[:, 2:, 1:-1]
        + gray[:, 1:-1, :-2]
        + gray[:, 1:-1, 2:]
        - 4 * gray[:, 1:-1, 1:-1]
    )
    np.testing.assert_allclose(
        out["sharpness"][:, 0], lap.reshape(len(lap), -1).var(axis=1), rtol=1e-3
    )
    derive = np.array(photos.derive)
    sharp = out["sharpness"][:, 0]
    assert np.median(sharp[derive == "blurred"]) < np.median(sharp[derive == ""]) / 2
