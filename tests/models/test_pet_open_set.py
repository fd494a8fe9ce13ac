"""The open-set breed model, alone (ONNX Runtime) and through the pet-premium pipeline.

Known breeds must still be named (top-1 and the share the open-set rule lets through); photos
that are none of the breeds — other animals, objects, dogs of other breeds — must be reported
unknown, measured on kinds the training never drew (``animals.HELDOUT_KINDS``) and on the
training kinds drawn with a fresh seed. Figures measured at build on other seeds are in
models/README.md; the thresholds here sit a little below them. The pipeline part runs the
example manifest served over the real repository: a cat gets no quote, with the reason,
instead of a price.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from modelplane_models import breed
from modelplane_models.export import run_onnx
from modelplane_models.synth import animals, dogs
from PIL import Image
from serving.calls import call
from serving.servers import EXAMPLES, serve, stop

pytestmark = pytest.mark.timeout(900)
PIPE = "pet-premium"
FEATURES = {"age_years": 4, "weight_kg": 12.0, "sex": "female", "neutered": True, "region": 0}
SEED = 424242  # never a training, calibration or build-evaluation seed
# Floors a little under what was measured (build holdout / this file's seeds, models/README.md):
KNOWN_TOP1 = 0.93  # top-1 on known breeds 0.960 / 0.973 (closed-set model before: 0.963)
KNOWN_ACCEPTED = 0.92  # known-breed photos let through the open-set rules 0.952 / 0.967
UNSEEN_ALL = 0.75  # unseen kinds reported unknown 0.817 / 0.817 (before: 0, always a breed)
UNSEEN_NOT_A_DOG = 0.8  # mean over the unseen non-dog kinds 0.89 / 0.87
CATS_REJECTED = 0.95  # 1.0 / 1.0
CATS_NOT_A_DOG = 0.85  # cats named not-a-dog (the rest unknown-breed) 0.95 on this seed


@pytest.fixture(scope="module")
def onnx_path(model_repository: Path) -> Path:
    return model_repository / "breed" / "1" / "model.onnx"


def test_known_breeds_are_still_named(onnx_path: Path) -> None:
    metrics = breed.evaluate(onnx_path, breed.holdout(seed=SEED, per_breed=30))
    assert metrics["top1"] >= KNOWN_TOP1, metrics
    assert metrics["known_accepted"] >= KNOWN_ACCEPTED, metrics


def test_unseen_kinds_are_unknown(onnx_path: Path) -> None:
    data = breed.outliers(SEED, per_kind=20, kinds=animals.HELDOUT_KINDS)
    rejected = breed.rejection_by_kind(onnx_path, data)
    assert rejected["all"] >= UNSEEN_ALL, rejected
    non_dogs = [rejected[k] for k in animals.HELDOUT_KINDS if animals.REASON_OF[k] == "not-a-dog"]
    assert np.mean(non_dogs) >= UNSEEN_NOT_A_DOG, rejected


def test_cats_are_not_priced_as_dogs(onnx_path: Path) -> None:
    data = breed.outliers(SEED + 1, per_kind=40, kinds=("cat",))
    out = run_onnx(onnx_path, {"image": data.images.astype(np.float32) / 255.0})
    assert (~out["known"][:, 0]).mean() >= CATS_REJECTED
    assert out["reasons"][:, 0].mean() >= CATS_NOT_A_DOG  # named not-a-dog
    assert np.array_equal(out["known"][:, 0], ~out["reasons"].any(axis=1))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_pet_premium_quotes_a_dog_and_not_a_cat(model_repository: Path, tmp_path: Path) -> None:
    """``modelplane serve`` with the pet-premium example on loopback, called with tritonclient
    (a subprocess: KServe and tritonclient.grpc cannot share one process)."""
    rng = np.random.default_rng(SEED + 2)
    beagle = dogs.photo(rng, dogs.BREEDS[dogs.NAMES.index("beagle")])
    cat = animals.photo(rng, "cat")
    server = serve(EXAMPLES / "pet-premium.yaml", model_repository, tmp_path / "serve.log", [PIPE])
    try:
        dog_answer = call(server, "grpc", PIPE, image=_png(beagle), features=FEATURES)
        cat_answer = call(server, "http", PIPE, image=_png(cat), features=FEATURES)
    finally:
        stop(server)
    assert dog_answer["breed"] == "beagle" and dog_answer["premium"] > 50_000, dog_answer
    assert cat_answer["premium"] is None, cat_answer
    assert cat_answer["breed"] == "unknown" and cat_answer["reason"] == "not-a-dog", cat_answer
    assert "not show a dog" in cat_answer["message"]
