"""The quality gate on held-out synthetic photos, through ONNX Runtime on the exported model.

The photos are drawn with a seed the build never used. Every reject must carry its own reason
(``too-damaged`` wrecks included), sharp whole-car photos must pass, not-a-car must hold on
scenes, vehicles, objects and pets the training never drew, and the in-graph sharpness must be
the variance of the Laplacian computed here independently with numpy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from modelplane_models import quality_gate_train
from modelplane_models.export import run_onnx
from numpy.typing import NDArray

pytestmark = pytest.mark.timeout(900)
# The contract's order of the reasons output (new reasons are appended, never reordered).
REASONS = ("blurred", "not-a-car", "partial", "too-damaged")
PER_CLASS = 60
PER_NOVEL_KIND = 25
# Floors a little under what was measured (models/README.md; build holdout of 150 per class /
# this seed's 60): too-damaged named 0.96 / 0.90 and rejected 0.99 / 0.95, the others >= 0.92.
NAMED_AT_LEAST = {"blurred": 0.9, "not-a-car": 0.9, "partial": 0.88, "too-damaged": 0.85}
# Not-a-car on kinds never trained on: 0.966 / 0.965 overall, worst kind (motorbike) 0.78 / 0.76.
NOVEL_ALL = 0.92
NOVEL_WORST_KIND = 0.65


class HeldOut(NamedTuple):
    """Labels (0 accepted, 1.. reasons), the graph's outputs by name, and the input batch."""

    labels: NDArray[np.int64]
    out: dict[str, NDArray[Any]]
    images: NDArray[np.float32]


@pytest.fixture(scope="module")
def held_out(
    model_repository: Path,
) -> HeldOut:
    data = quality_gate_train.holdout(seed=20261125, per_class=PER_CLASS)
    images = data.images.astype(np.float32) / 255.0
    out = run_onnx(model_repository / "quality-gate" / "1" / "model.onnx", {"image": images})
    return HeldOut(data.labels, out, images)


def test_sharp_whole_cars_are_accepted(held_out: HeldOut) -> None:
    labels, out, _ = held_out
    accepted = out["estimable"][labels == 0, 0]
    assert accepted.mean() >= 0.9


@pytest.mark.parametrize("index,reason", list(enumerate(REASONS, start=1)))
def test_rejects_carry_their_reason(
    held_out: HeldOut,
    index: int,
    reason: str,
) -> None:
    labels, out, _ = held_out
    members = labels == index
    assert (~out["estimable"][members, 0]).mean() >= 0.9, f"{reason} not rejected"
    assert out["reasons"][members, index - 1].mean() >= NAMED_AT_LEAST[reason], (
        f"{reason} not named"
    )


def test_overall_accuracy(held_out: HeldOut) -> None:
    labels, out, _ = held_out
    assert (out["estimable"][:, 0] == (labels == 0)).mean() >= 0.9


def test_decision_outputs_are_consistent(held_out: HeldOut) -> None:
    _, out, _ = held_out
    assert np.array_equal(out["estimable"][:, 0], ~out["reasons"].any(axis=1))
    np.testing.assert_allclose(np.linalg.norm(out["embedding"], axis=1), 1.0, atol=1e-5)
    assert (out["distance"] >= 0).all() and (out["distance"] <= 2.0 + 1e-5).all()


def test_sharpness_is_variance_of_laplacian(held_out: HeldOut) -> None:
    labels, out, images = held_out
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
    sharp = out["sharpness"][:, 0]
    assert np.median(sharp[labels == 1]) < np.median(sharp[labels == 0]) / 2


def test_not_a_car_holds_on_kinds_never_trained_on(model_repository: Path) -> None:
    """Motorbikes, boats, aeroplanes, trams, houses, landscapes, table tops and pets: none of
    them in the gate's training (``scenes.HELDOUT_KINDS``). Before the scenes' training kinds
    joined not-a-car the gate rejected 0.89 of them (motorbikes 0.35)."""
    data = quality_gate_train.novel_holdout(seed=20261126, per_kind=PER_NOVEL_KIND)
    rejected = quality_gate_train.rejection_by_kind(
        model_repository / "quality-gate" / "1" / "model.onnx", data
    )
    assert rejected["all"] >= NOVEL_ALL, rejected
    assert min(v for k, v in rejected.items() if k != "all") >= NOVEL_WORST_KIND, rejected
