"""Breed top-1 and premium MAPE on held-out data, through ONNX Runtime.

Premium is also checked against the documented pricing rule's direction (older, heavier,
unneutered dogs in Seoul cost more), which holds for the rule whatever the noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from modelplane_models import breed
from modelplane_models.export import run_onnx
from modelplane_models.synth import policies

pytestmark = pytest.mark.timeout(900)


def test_breed_top1_on_held_out_dogs(model_repository: Path) -> None:
    data = breed.holdout(seed=777, per_breed=30)
    out = run_onnx(
        model_repository / "breed" / "1" / "model.onnx",
        {"image": data.images.astype(np.float32) / 255.0},
    )["probabilities"]
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
    assert (out.argmax(axis=1) == data.labels).mean() >= 0.85


def test_premium_mape_on_held_out_book(model_repository: Path) -> None:
    book = policies.book(3000, seed=31337)
    out = run_onnx(model_repository / "premium" / "1" / "model.onnx", book.features())
    predicted = out["premium"][:, 0].astype(np.float64)
    mape = np.mean(np.abs(predicted - book.premium) / book.premium)
    assert mape <= 0.08


def _one(**overrides: float) -> dict[str, np.ndarray]:
    row = {
        "breed": 0,
        "age_years": 4.0,
        "weight_kg": 30.0,
        "sex": 0,
        "neutered": 1,
        "region": policies.REGIONS.index("daegu"),
    } | overrides
    return {
        k: np.array([[v]], np.int64 if k in ("breed", "sex", "neutered", "region") else np.float32)
        for k, v in row.items()
    }


@pytest.mark.parametrize(
    "cheaper,dearer",
    [
        ({"age_years": 2.0}, {"age_years": 11.0}),
        ({"neutered": 1}, {"neutered": 0}),
        ({"region": policies.REGIONS.index("other")}, {"region": policies.REGIONS.index("seoul")}),
        (
            {"breed": breed.LABELS.index("jindo"), "weight_kg": 18.0},
            {"breed": breed.LABELS.index("bulldog"), "weight_kg": 23.0},
        ),
    ],
)
def test_premium_follows_the_pricing_rule(
    model_repository: Path, cheaper: dict[str, float], dearer: dict[str, float]
) -> None:
    path = model_repository / "premium" / "1" / "model.onnx"
    low = run_onnx(path, _one(**cheaper))["premium"][0, 0]
    high = run_onnx(path, _one(**dearer))["premium"][0, 0]
    assert 50_000 < low < high < 5_000_000
