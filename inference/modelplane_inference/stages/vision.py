"""Photo stages: the car-claim quality gate and damage severity, dog breed, the pet premium.

The decisions live in the exported graphs (the gate's reasons and ``estimable`` are outputs);
these classes only turn bytes into the models' tensors and outputs into named JSON fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from modelplane_api.parameters import PremiumParameters

from modelplane_inference.runtime.repository import ModelConfig, side_file_lines
from modelplane_inference.serving.metrics import GATE_REJECTS
from modelplane_inference.stages.base import Item, Stage, StageInputError, image_of, off_loop
from modelplane_inference.stages.images import to_tensor

GATE_REASONS = ("blurred", "not-a-car", "partial", "too-damaged")
# Why the breed model names no breed (its reasons.txt); an older model without the open-set
# outputs always names one.
BREED_REASONS = ("not-a-dog", "unknown-breed")
NO_QUOTE = {
    "not-a-dog": "no quote: the photo does not show a dog",
    "unknown-breed": "no quote: the dog is not of a breed the model knows",
}
DRAFT_FACTOR = 2  # JPEG draft decode keeps at least this multiple of the model's input size


def image_tensor(item: Item, config: ModelConfig, max_pixels: int) -> np.ndarray:
    """[1, 3, H, W] FP32 RGB in [0, 1] with H, W from config.pbtxt's first input."""
    dims = config.inputs[0].dims
    if len(dims) != 3 or dims[1] < 1 or dims[2] < 1:
        raise RuntimeError(f"model {config.name} needs fixed CHW image dims, has {dims}")
    # JPEG decoded at no less than twice the input size, then the usual bilinear resize: the gate's
    # sharpness and distance stay within 5% of a full decode (docs/benchmarks.md), 2.3x cheaper.
    hint = (DRAFT_FACTOR * dims[2], DRAFT_FACTOR * dims[1])
    return to_tensor(image_of(item, max_pixels, hint), dims[1], dims[2])[np.newaxis]


class QualityGate(Stage):
    """Is a claim photo estimable? Maps the gate graph's outputs to reasons by name."""

    stage: ClassVar[str] = "quality-gate"

    def setup(self) -> None:
        labels = self.backend.config.labels
        self.reasons = tuple(labels) if labels else GATE_REASONS

    async def run(self, item: Item) -> Item:
        name = self.backend.config.inputs[0].name
        out = await self.backend.infer(
            {name: await off_loop(image_tensor, item, self.backend.config, self.max_pixels)}
        )
        flags = np.asarray(out["reasons"]).reshape(-1).astype(bool)
        reasons = [r for r, flag in zip(self.reasons, flags, strict=False) if flag]
        estimable = bool(np.asarray(out["estimable"]).reshape(-1)[0])
        for reason in reasons:
            GATE_REJECTS.labels(model=self.name, reason=reason).inc()
        return {
            "estimable": estimable,
            "reasons": reasons,
            "sharpness": round(float(np.asarray(out["sharpness"]).reshape(-1)[0]), 6),
            "distance": round(float(np.asarray(out["distance"]).reshape(-1)[0]), 6),
            # private (never in an answer): the photo, already decoded, for a later step that
            # takes ``$response`` (damage severity), as breed forwards ``_features``
            **forwarded_photo(item),
        }


def forwarded_photo(item: Item) -> Item:
    """The photo of ``item`` under private keys: its bytes as ``_image``, decodes as is."""
    kept: Item = {k: v for k, v in item.items() if k.startswith("_pil")}
    if "image" in item or "_image" in item:
        kept["_image"] = item.get("image", item.get("_image"))
    return kept


class DamageSeverity(Stage):
    """How bad is the damage on an estimable claim photo: minor, moderate or severe.

    Runs after the gate (the car-claims pipeline's condition): the model was trained on
    estimable-looking photos of damaged cars only, so its answer on anything else means nothing.
    """

    stage: ClassVar[str] = "damage-severity"

    def setup(self) -> None:
        self.labels = self.backend.config.labels
        if not self.labels:
            raise RuntimeError(f"model {self.backend.config.name} has no labels.txt")

    async def run(self, item: Item) -> Item:
        """A photo (``image``), or the gate's answer with its forwarded photo: then the gate's
        fields stay in the answer next to the severity (``data: $response`` in a pipeline)."""
        photo = item if "image" in item else {**forwarded_photo(item), "image": item.get("_image")}
        if photo["image"] is None:
            raise StageInputError("missing input 'image' (encoded JPEG/PNG bytes)")
        name = self.backend.config.inputs[0].name
        out = await self.backend.infer(
            {name: await off_loop(image_tensor, photo, self.backend.config, self.max_pixels)}
        )
        probs = np.asarray(out["probabilities"], dtype=np.float64).reshape(-1)
        best = int(np.argmax(probs))
        gate = {
            k: v for k, v in item.items() if k in ("estimable", "reasons", "sharpness", "distance")
        }
        return {
            **gate,
            "severity": self.labels[best],
            "severity_score": round(float(probs[best]), 6),
            "probabilities": {
                label: round(float(p), 6) for label, p in zip(self.labels, probs, strict=False)
            },
        }


class Breed(Stage):
    """Dog breed from a photo; forwards ``features`` so the premium step can use them.

    When the model's open-set outputs say the photo is not one of its breeds, the result is
    ``"breed": "unknown"``, ``"known": false`` and a ``reason`` instead of the nearest breed.
    """

    stage: ClassVar[str] = "breed"
    wire_inputs: ClassVar[tuple[str, ...]] = ("image", "features")

    def setup(self) -> None:
        self.labels = self.backend.config.labels
        if not self.labels:
            raise RuntimeError(f"model {self.backend.config.name} has no labels.txt")
        self.reasons = tuple(side_file_lines(self.backend.config, "reasons.txt")) or BREED_REASONS

    async def run(self, item: Item) -> Item:
        name = self.backend.config.inputs[0].name
        out = await self.backend.infer(
            {name: await off_loop(image_tensor, item, self.backend.config, self.max_pixels)}
        )
        probs = np.asarray(out["probabilities"], dtype=np.float64).reshape(-1)
        top = np.argsort(-probs)[:3]
        result: Item = {
            "breed": self.labels[int(top[0])],
            "breed_score": round(float(probs[top[0]]), 6),
            "top": [
                {"breed": self.labels[int(i)], "score": round(float(probs[i]), 6)} for i in top
            ],
            "known": True,
        }
        if "known" in out:
            result.update(self.open_set(out))
        if "features" in item:
            result["_features"] = item["features"]
        return result

    def open_set(self, out: dict[str, Any]) -> Item:
        """``known``, the open-set score and, for an unknown photo, the reason."""
        known = bool(np.asarray(out["known"]).reshape(-1)[0])
        fields: Item = {
            "known": known,
            "known_score": round(float(np.asarray(out["known_score"]).reshape(-1)[0]), 6),
        }
        if not known:
            flags = np.asarray(out["reasons"]).reshape(-1).astype(bool)
            named = [r for r, flag in zip(self.reasons, flags, strict=False) if flag]
            fields |= {"breed": "unknown", "reason": named[0] if named else "unknown-breed"}
        return fields


class Premium(Stage):
    """Yearly premium (KRW) from breed, age, weight, sex, neutered and region."""

    stage: ClassVar[str] = "premium"
    wire_inputs: ClassVar[tuple[str, ...]] = ("features",)
    stage_params: PremiumParameters

    def setup(self) -> None:
        """Names for the index inputs: the model folder's regions.txt (or modelplane.json), and
        the breed list of modelplane.json, ``--param breedLabels=FILE`` or the breed model's."""
        config = self.backend.config
        self.regions = side_file_lines(config, "regions.txt") or list(
            config.extra.get("regions", [])
        )
        default = config.path.parent / "breed" / "labels.txt"  # the repository's breed model
        given = self.stage_params.breed_labels
        path = Path(given) if given is not None else default
        if given is None and config.extra.get("breeds"):
            self.breeds = [str(b) for b in config.extra["breeds"]]
        else:
            self.breeds = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []

    async def run(self, item: Item) -> Item:
        if item.get("known") is False:  # the breed step recognised no breed: no price
            # Bad features are the caller's error whatever the photo shows: a 4xx, not a
            # no-quote answer that hides it (the breed itself is not needed for the check).
            features = item.get("_features") or item.get("features")
            if isinstance(features, dict) and features and self.breeds:
                self.tensors({**features, "breed": self.breeds[0]})
            reason = str(item.get("reason", "unknown-breed"))
            message = NO_QUOTE.get(reason, f"no quote: {reason}")
            return {
                "premium": None,
                "breed": "unknown",
                "reason": reason,
                "message": message,
            }
        features = dict(item.get("_features") or item.get("features") or {})
        if "breed" in item and "breed" not in features:
            features["breed"] = item["breed"]
        if not isinstance(features, dict) or not features:
            raise StageInputError("missing input 'features' (JSON with age_years, weight_kg, ...)")
        tensors = self.tensors(features)
        out = await self.backend.infer(tensors)
        result: Item = {"premium": round(float(np.asarray(out["premium"]).reshape(-1)[0]), 2)}
        for key in ("breed", "breed_score"):
            if key in item:
                result[key] = item[key]
        if "breed" not in result:
            result["breed"] = features["breed"]
        return result

    def tensors(self, features: dict[str, Any]) -> dict[str, np.ndarray]:
        """The six [1, 1] inputs, each checked and named in the error when wrong."""

        def index(key: str, names: list[str]) -> int:
            value = features.get(key)
            if isinstance(value, str) and value in names:
                return names.index(value)
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and 0 <= value < max(len(names), 1)
            ):
                return value
            raise StageInputError(f"feature {key!r}: {value!r} is not one of {names}")

        def number(key: str, low: float, high: float) -> float:
            value = features.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise StageInputError(f"feature {key!r} must be a number, got {value!r}")
            if not low <= float(value) <= high:
                raise StageInputError(f"feature {key!r}={value} is outside [{low}, {high}]")
            return float(value)

        sex = features.get("sex")
        sexes = {"female": 0, "male": 1, 0: 0, 1: 1}
        if sex not in sexes:
            raise StageInputError(f"feature 'sex' must be female/male or 0/1, got {sex!r}")
        neutered = features.get("neutered")
        if not isinstance(neutered, (bool, int)) or neutered not in (0, 1):
            raise StageInputError(f"feature 'neutered' must be true/false, got {neutered!r}")
        values: dict[str, tuple[float, type[np.generic]]] = {
            "breed": (index("breed", self.breeds), np.int64),
            "age_years": (number("age_years", 0, 30), np.float32),
            "weight_kg": (number("weight_kg", 0.1, 120), np.float32),
            "sex": (sexes[sex], np.int64),
            "neutered": (int(neutered), np.int64),
            "region": (index("region", self.regions), np.int64),
        }
        return {k: np.array([[v]], dtype=dtype) for k, (v, dtype) in values.items()}
