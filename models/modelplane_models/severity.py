"""``damage-severity``: minor / moderate / severe for an estimable car-claim photo.

The seed's next step after "can this photo be estimated?" is "how bad is it?". The same frozen
EfficientNet-Lite0 backbone as the gate (:mod:`modelplane_models.backbone`, features cached and
shared), average- and max-pooled final map, a class-weighted multinomial logistic regression
with a strong L2 penalty trained on the VDS train pile (an MLP head overfits ~1,800 photos:
cross-validation on the train pile, models/README.md), softmax inside the graph.
Scored on the VDS held-out pile only, through ONNX Runtime on the exported file: per-class F1
and macro-F1 (published baselines on VDS: ResNet-18 0.737, ResNet + DeiT ensemble 0.776, both
on the CarDD test split, which is not redistributable and so not used here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import backbone, cards, datasets, export, heads, log, real_photos, repository, training
from .spec import ModelSpec, TensorSpec

NAME = "damage-severity"
INPUT_SIZE = backbone.INPUT_SIZE
CLASSES = real_photos.SEVERITIES
SPEC = ModelSpec(
    name=NAME,
    inputs=(TensorSpec("image", "FP32", (3, INPUT_SIZE[1], INPUT_SIZE[0])),),
    outputs=(TensorSpec("probabilities", "FP32", (len(CLASSES),), label_filename="labels.txt"),),
    max_batch_size=16,
    preferred_batch_sizes=(4, 8, 16),
)
_log = log.get(NAME)


@dataclass(frozen=True)
class SeverityParams:
    """Everything that shapes the trained model (and so its build fingerprint)."""

    l2: float = 1.0  # penalty on standardised features, chosen by cross-validation
    data: str = field(default_factory=real_photos.data_digest)
    backbone: str = field(default_factory=backbone.fingerprint)


class SeverityHead(nn.Module):
    """Logits from the average- and max-pooled final map of :class:`backbone.RichFeatures`."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2 * backbone.FEATURES, len(CLASSES))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features[:, : 2 * backbone.FEATURES])  # type: ignore[no-any-return]


class SeverityGraph(nn.Module):
    """image -> softmax over (minor, moderate, severe)."""

    def __init__(self, head: SeverityHead) -> None:
        super().__init__()
        self.features = backbone.RichFeatures()
        self.head = head

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.head(self.features(image)), dim=1)


def images(pile: str) -> datasets.ImageSet:
    photos = real_photos.vehicles(pile)
    labels = np.array([CLASSES.index(p.label) for p in photos], np.int64)
    pixels = real_photos.pixels(photos, INPUT_SIZE, evaluating=pile == "heldout")
    return datasets.ImageSet(pixels, labels, CLASSES)


def f1_scores(truth: np.ndarray, predicted: np.ndarray, classes: int) -> dict[str, Any]:
    """Per-class precision, recall, F1 and macro-F1, with the confusion matrix and n."""
    confusion = np.array(
        [
            [int(((truth == t) & (predicted == p)).sum()) for p in range(classes)]
            for t in range(classes)
        ]
    )
    tp = np.diag(confusion).astype(np.float64)
    precision = tp / np.maximum(confusion.sum(axis=0), 1)
    recall = tp / np.maximum(confusion.sum(axis=1), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return {
        "accuracy": float((truth == predicted).mean()),
        "macro_f1": float(f1.mean()),
        "precision": precision.round(4).tolist(),
        "recall": recall.round(4).tolist(),
        "f1": f1.round(4).tolist(),
        "confusion": confusion.tolist(),
        "n": confusion.sum(axis=1).tolist(),
    }


def evaluate(onnx_path: Path, data: datasets.ImageSet) -> dict[str, Any]:
    """:func:`scores` of the exported file run by ONNX Runtime on ``data``."""
    probs = export.run_batched(onnx_path, "image", data.images)["probabilities"]
    return scores(data.labels, probs)


def scores(labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Per-class F1 and macro-F1 of the argmax, with a reliability table of its confidence."""
    named = probs.argmax(axis=1)
    return {
        "classes": list(CLASSES),
        **f1_scores(labels, named, len(CLASSES)),
        "reliability": cards.reliability(probs.max(axis=1), named == labels),
    }


def build(folder: Path, params: SeverityParams, data: Path | None) -> dict[str, Any]:
    """Fit the head on the train pile's cached features, export, check parity, score held-out."""
    if data is not None:
        raise ValueError("damage-severity trains on models/data/vehicle-damage only")
    train = images("train")
    log.event(_log, "data", train=train.counts())
    cache = backbone.FeatureCache(folder.parent / ".features", rich=True)
    feats = cache.features(train.images, NAME)
    head = SeverityHead()
    weight, bias = heads.fit_logistic(
        feats[:, : 2 * backbone.FEATURES], train.labels, len(CLASSES), params.l2
    )
    with torch.no_grad():
        head.linear.weight.copy_(torch.from_numpy(weight))
        head.linear.bias.copy_(torch.from_numpy(bias))
    graph = SeverityGraph(head).eval()
    onnx_path = repository.model_file(folder, SPEC)
    sample = {"image": torch.from_numpy(training.to_float(train.images[:2]))}
    export.export_onnx(graph, SPEC, sample, onnx_path)
    feeds = {"image": training.to_float(train.images[:3])}
    parity = export.check_parity(graph, SPEC, onnx_path, feeds)
    torch.save(graph.state_dict(), folder / repository.CHECKPOINT_FILE)
    repository.write_config(folder, SPEC)
    repository.write_lines(folder / "labels.txt", CLASSES)
    repository.write_json(folder / repository.META_FILE, {"input_size": list(INPUT_SIZE)})
    heldout = images("heldout")  # scored on cached features (parity checked above)
    with torch.no_grad():
        held = torch.from_numpy(cache.features(heldout.images, f"{NAME}.heldout"))
        metrics = scores(heldout.labels, F.softmax(head(held), dim=1).numpy())
    log.event(_log, "evaluated", split="heldout", **metrics)
    return {
        "parity_max_abs": parity,
        "backbone": backbone.provenance(),
        "evaluated_on": "heldout (VDS val split, real photos)",
        "trained_on": train.counts(),
        **metrics,
    }


BUILDER = repository.Builder(
    name=NAME,
    sources=("severity", "backbone", "heads", "real_photos", "training", "datasets"),
    params=SeverityParams(),
    build=build,
)
