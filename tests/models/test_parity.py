"""ONNX Runtime (what serves) against torch (what was trained), per exported trained model.

The torch module is rebuilt from the checkpoint saved next to the graph; both run on fresh
inputs with a batch size the export never saw (so the dynamic batch axis is exercised).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from modelplane_models import breed, premium, quality_gate, real_photos, severity
from modelplane_models.export import run_onnx
from modelplane_models.synth import policies
from numpy.typing import NDArray

pytestmark = pytest.mark.timeout(900)
ATOL = 1e-4


def _torch(module: torch.nn.Module, *inputs: NDArray[np.generic]) -> tuple[NDArray[Any], ...]:
    with torch.no_grad():
        out = module(*(torch.from_numpy(np.ascontiguousarray(x)) for x in inputs))
    return tuple(o.numpy() for o in (out if isinstance(out, tuple) else (out,)))


def _train_photos(count: int) -> NDArray[np.float32]:
    """Real train-pile photos with their derivatives (blurred, partial) at 224 px, in [0, 1]."""
    photos = real_photos.gate_photos("train")[:count]
    return real_photos.pixels(photos, quality_gate.INPUT_SIZE, False).astype(np.float32) / 255


def test_damage_severity_parity(model_repository: Path) -> None:
    folder = model_repository / "damage-severity"
    graph = severity.SeverityGraph(severity.SeverityHead())
    graph.load_state_dict(torch.load(folder / "checkpoint.pt", weights_only=True))
    images = _train_photos(5)
    (want,) = _torch(graph.eval(), images)
    got = run_onnx(folder / "1" / "model.onnx", {"image": images})["probabilities"]
    assert got.shape == want.shape == (5, 3)
    np.testing.assert_allclose(got, want, atol=ATOL, err_msg="probabilities")


def test_quality_gate_parity(model_repository: Path) -> None:
    folder = model_repository / "quality-gate"
    graph = quality_gate.load_graph(folder / "checkpoint.pt")
    images = _train_photos(5)
    expected = _torch(graph, images)
    actual = run_onnx(folder / "1" / "model.onnx", {"image": images})
    names = ("embedding", "distance", "sharpness", "reasons", "estimable")
    for name, want in zip(names, expected, strict=True):
        got = actual[name]
        assert got.shape == want.shape == (5, *want.shape[1:])
        if want.dtype == np.bool_:
            assert np.array_equal(got, want), name
        else:  # sharpness is in 8-bit units (hundreds): relative tolerance
            np.testing.assert_allclose(got, want, atol=ATOL, rtol=1e-5, err_msg=name)


def test_breed_parity(model_repository: Path) -> None:
    folder = model_repository / "breed"
    graph = breed.load_graph(folder / "checkpoint.pt")
    images = _train_photos(5)
    expected = _torch(graph, images)
    actual = run_onnx(folder / "1" / "model.onnx", {"image": images})
    names = ("probabilities", "known_score", "dog_probability", "reasons", "known")
    assert actual["probabilities"].shape == (5, len(breed.LABELS))
    for name, want in zip(names, expected, strict=True):
        if want.dtype == np.bool_:
            assert np.array_equal(actual[name], want), name
        else:
            np.testing.assert_allclose(actual[name], want, atol=ATOL, err_msg=name)


def test_premium_parity(model_repository: Path) -> None:
    folder = model_repository / "premium"
    net = premium.load_graph(folder / "checkpoint.pt")
    feeds = policies.book(37, seed=4244).features()
    (want,) = _torch(net, *feeds.values())
    got = run_onnx(folder / "1" / "model.onnx", feeds)["premium"]
    assert got.shape == (37, 1)
    np.testing.assert_allclose(got, want, rtol=1e-5)  # KRW: hundreds of thousands
