"""How well the served car-claims pipeline answers real held-out photos.

``python -m bench.vision_quality`` starts ``modelplane serve`` on ``car-claims.yaml`` (the
pipeline exactly as shipped) with ``models/repository`` (:func:`bench.serving.running_examples`),
and sends over gRPC (``tests/serving/real_vision.py``, shared with the tests):

- every held-out gate photo (VDS val photos, their blurred and cropped derivatives, the real
  not-a-car photos and receipts, drawn documents of the held-out seed) through ``car-claims``:
  class accuracy, ``estimable`` accuracy, per-class recall with n, confusion matrix;
- every held-out VDS photo through ``car-damage-severity`` alone: per-class F1, macro-F1.

The pet-premium pipeline's real held-out photos are ``bench/pet_quality.py``'s. Results:
``bench/results/vision_quality.json``. A gate figure needs at least 500 photos and ``MIN_N`` per
class before it is called met or not; below that it is "not measurable".
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bench.common import ROOT, progress, write_result
from bench.serving import running_examples

sys.path.insert(0, str(ROOT / "tests"))
from serving.real_vision import (
    gate_class,
    gate_samples,
    gate_scores,
    served,
    severity_samples,
    severity_scores,
)


def run(limit: int | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with running_examples(("car-claims.yaml",), ["car-claims"]) as server:
        samples = gate_samples(limit)
        named = []
        for index, sample in enumerate(samples, 1):
            named.append(gate_class(served(server, "car-claims", sample.image)))
            if index % 50 == 0:
                progress(f"car-claims {index}/{len(samples)}")
        result["gate"] = gate_scores([s.gate for s in samples], named)
        wrong = [(s.name, s.gate, n) for s, n in zip(samples, named, strict=True) if s.gate != n]
        result["gate"]["wrong"] = wrong
        progress(f"gate: {json.dumps({k: result['gate'][k] for k in ('n', 'class_accuracy')})}")
        truth, said = [], []
        for sample in severity_samples():
            answer = served(server, "car-damage-severity", sample.image)
            truth.append(sample.severity)
            said.append(answer["severity"])
        result["severity"] = severity_scores(truth, said)
        progress(f"severity macro-F1 {result['severity']['macro_f1']:.3f}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="first N held-out photos per gate class")
    args = parser.parse_args(argv)
    result = run(args.limit)
    path = write_result("vision_quality", result)
    print(json.dumps({k: v for k, v in result.items() if k != "gate"}, indent=1))
    print(json.dumps({k: v for k, v in result["gate"].items() if k != "wrong"}, indent=1))
    progress(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
