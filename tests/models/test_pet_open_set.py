"""The breed model on real held-out photos, alone (ONNX Runtime) and through pet-premium.

Listed breeds must be named and quoted; photos of no listed breed (real dogs of other breeds,
cats, other animals, a person, empty scenes, objects) must get no quote, with the reason. The
photos are the breed model's held-out pile (``serving.real_pets``, shared with
``bench/pet_quality.py``, which sends all of them: docs/benchmarks.md). Each listed breed has at
least the 20 held-out photos the issue asks before a breed figure is called met
(models/data/pets/PROVENANCE.md); this test sends a sample of them (every 3rd) and of the rest
(every 8th), 65 photos, and its floors are regression guards a little under what the
full held-out set measured.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from modelplane_models import breed, pet_photos, real_photos
from modelplane_models.export import run_batched
from serving.real_pets import KINDS, PetSample, pet_samples, pet_scores
from serving.real_vision import served
from serving.servers import EXAMPLES, Server, serve, stop

pytestmark = pytest.mark.timeout(900)
PIPE = "pet-premium"
PET = {"age_years": 4, "weight_kg": 10.0, "sex": "female", "neutered": True, "region": "seoul"}
LISTED_EVERY = 3  # every 3rd held-out photo of each listed breed (25 of 73)
OTHERS_EVERY = 8  # every 8th held-out photo of each kind of no listed breed (40 of 298)
# Floors a little under the full held-out set through the same endpoint (bench/pet_quality.py,
# docs/benchmarks.md): listed breeds named and quoted right 0.945 (69 of 73: shiba 24/24,
# pomeranian 22/25, beagle 23/24); no quote on photos of no listed breed 0.973 (290 of 298):
# unlisted dogs 0.934 (n 121), cats 1.0 (n 75), objects 1.0 (n 98), other animals / a person /
# scenes 1.0 (n 4). This sample measured 24 of 25 listed named and quoted right, 40 of 40 no
# quote (unlisted dogs 16 of 16; per photo in bench/results/pet_quality.json, 'wrong').
NAMED_RIGHT = 0.85
QUOTED_RIGHT = 0.85
NO_QUOTE_ALL = 0.9
NO_QUOTE = {"unlisted-dog": 0.85, "cat": 0.9, "object": 0.9}
# the rest of the cats are answered unknown-breed (the dog rule: ImageNet canid mass; at build
# 168 of 177 held-out non-dogs were named not-a-dog): still no quote
CATS_NOT_A_DOG = 0.75


@pytest.fixture(scope="module")
def samples() -> list[PetSample]:
    listed = [s for s in pet_samples(LISTED_EVERY) if s.kind in pet_photos.LISTED]
    return listed + [s for s in pet_samples(OTHERS_EVERY) if s.kind in KINDS]


@pytest.fixture(scope="module")
def server(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("pet-premium")
    running = serve(EXAMPLES / "pet-premium.yaml", model_repository, folder / "serve.log", [PIPE])
    yield running
    stop(running)


def test_real_held_out_photos_through_pet_premium(server: Server, samples: list[PetSample]) -> None:
    """``modelplane serve`` with the example manifest, over gRPC: listed breeds named and
    quoted, the rest answered with no quote and the reason."""
    answers = [served(server, PIPE, s.image, features=PET) for s in samples]
    scores = pet_scores(samples, answers)
    for name, figure in scores["listed"].items():
        assert figure["n"] >= 8, (name, figure)
    assert scores["named_right"] >= NAMED_RIGHT, scores
    assert scores["quoted_right"] >= QUOTED_RIGHT, scores
    assert scores["no_quote_all"]["share"] >= NO_QUOTE_ALL, scores
    for kind, floor in NO_QUOTE.items():
        assert scores["no_quote"][kind]["share"] >= floor, (kind, scores)
    for answer in answers:
        if answer["premium"] is None:
            assert answer["breed"] == "unknown", answer
            assert answer["reason"] in pet_photos.REASONS and answer["message"], answer
        else:
            assert answer["breed"] in pet_photos.LISTED and answer["premium"] > 50_000, answer
    cats = [a["reason"] for s, a in zip(samples, answers, strict=True) if s.kind == "cat"]
    assert cats.count("not-a-dog") / len(cats) >= CATS_NOT_A_DOG, cats


def test_open_set_outputs_agree(model_repository: Path) -> None:
    """ONNX Runtime on held-out cats and listed dogs: ``known`` is exactly "no reason", the
    two reasons never both fire, and the breed softmax sums to one."""
    photos = [p for p in pet_photos.breed_photos("heldout", objects=False)][::6]
    images = real_photos.pixels(photos, breed.INPUT_SIZE, evaluating=True)
    out = run_batched(model_repository / "breed" / "1" / "model.onnx", "image", images)
    assert np.array_equal(out["known"][:, 0], ~out["reasons"].any(axis=1))
    assert not (out["reasons"][:, 0] & out["reasons"][:, 1]).any()
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, atol=1e-5)
    assert out["known"].any() and not out["known"].all()
