"""Breed top-1 on real held-out photos and premium MAPE on a held-out book, through ONNX Runtime.

Premium is also checked against the documented pricing rule's direction (older, heavier,
unneutered dogs in Seoul cost more), which holds for the rule whatever the noise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from modelplane_models import breed, pet_photos, real_photos
from modelplane_models.export import run_batched, run_onnx
from modelplane_models.synth import policies

pytestmark = pytest.mark.timeout(900)


def test_listed_breeds_on_real_held_out_photos(model_repository: Path) -> None:
    """ONNX Runtime on the real held-out photos of the listed breeds: each has at least the 20
    the issue asks before its figure counts (24, 25, 24: models/data/pets/PROVENANCE.md), and
    the most probable listed breed is right for at least the goal's 0.85 of each breed
    (measured 73 of 73 at build; the open-set threshold is the served test's business)."""
    photos = [p for p in pet_photos.breed_photos("heldout", objects=False)]
    photos = [p for p in photos if p.label in breed.LABELS]
    images = real_photos.pixels(photos, breed.INPUT_SIZE, evaluating=True)
    out = run_batched(model_repository / "breed" / "1" / "model.onnx", "image", images)
    labels = np.array([breed.LABELS.index(p.label) for p in photos])
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, atol=1e-5)
    right = out["probabilities"].argmax(axis=1) == labels
    for index, name in enumerate(breed.LABELS):
        mine = labels == index
        assert mine.sum() >= pet_photos.MIN_HELDOUT_PER_BREED, (name, int(mine.sum()))
        assert right[mine].mean() >= 0.85, (name, float(right[mine].mean()))


def test_dropped_breeds_are_neither_named_nor_priced(model_repository: Path) -> None:
    """A breed without real photos answers unknown-breed: no label, no price, no index."""
    labels = (model_repository / "breed" / "labels.txt").read_text().split()
    meta = json.loads((model_repository / "premium" / "modelplane.json").read_text())
    assert labels == list(pet_photos.LISTED) == meta["breeds"] == list(policies.BREEDS)
    assert set(policies.BASE) == set(policies.TYPICAL_WEIGHT) == set(pet_photos.LISTED)
    assert not set(pet_photos.DROPPED) & set(pet_photos.LISTED)
    assert {"golden_retriever", "bulldog", "jindo"} <= set(pet_photos.DROPPED)


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
            {"breed": breed.LABELS.index("beagle"), "weight_kg": 8.0},
            {"breed": breed.LABELS.index("beagle"), "weight_kg": 15.0},
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
