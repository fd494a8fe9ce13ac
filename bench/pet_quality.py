"""How well the served pet-premium pipeline answers real held-out photos.

``python -m bench.pet_quality`` starts ``modelplane serve`` on ``pet-premium.yaml`` (as shipped)
with ``models/repository`` and sends every held-out photo of the breed model over gRPC
(``tests/serving/real_pets.py``, shared with the tests): photos of the listed breeds (top-1 and
the share quoted with the right breed, per breed with n) and photos of no listed breed (real
dogs of other breeds, cats, other animals / a person / empty scenes, objects: the share
answered with no quote, per kind with n). A listed breed's figure needs
``pet_photos.MIN_HELDOUT_PER_BREED`` photos before it is called met or not.

Results: ``bench/results/pet_quality.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bench.common import ROOT, progress, write_result
from bench.serving import running_examples

sys.path.insert(0, str(ROOT / "tests"))
from serving.real_pets import pet_samples, pet_scores
from serving.real_vision import served

PET = {"age_years": 3, "weight_kg": 10, "sex": "male", "neutered": True, "region": "seoul"}


def measure(stride: int = 1) -> dict[str, Any]:
    samples = pet_samples(stride)
    progress(f"{len(samples)} held-out pet photos")
    with running_examples(("pet-premium.yaml",), ["pet-premium"]) as server:
        answers = [served(server, "pet-premium", s.image, features=PET) for s in samples]
    scores = pet_scores(samples, answers)
    scores["wrong"] = [
        {"photo": s.name, "kind": s.kind, "breed": a.get("breed"), "premium": a.get("premium")}
        for s, a in zip(samples, answers, strict=True)
        if (s.kind in scores["listed"]) != (a.get("premium") is not None)
    ]
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stride", type=int, default=1, help="every N-th photo of each kind")
    args = parser.parse_args(argv)
    result = measure(args.stride)
    path = write_result("pet_quality", result)
    summary = {k: result[k] for k in ("named_right", "quoted_right", "no_quote_all")}
    print(json.dumps(summary | {"written": str(path)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
