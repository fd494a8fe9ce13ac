"""Dog breed (``breed``) on the pretrained backbone, trained and judged on real photos.

The frozen EfficientNet-Lite0 (:mod:`modelplane_models.backbone`, features cached and shared
with the gate and severity) already tells dog breeds apart: its ImageNet head has 118 dog
classes. Two pieces of real evidence decide, baked into one exported graph:

- ``dog_probability``: the ImageNet softmax mass on dogs and wild canids (a shiba's mass often
  sits on dingo or fox); under its threshold the photo is ``not-a-dog``;
- a linear head on the pooled features over the listed breeds plus one "other" class, trained
  on the real train pile (:mod:`modelplane_models.pet_photos`: listed breeds, real dogs of
  other breeds, cats and objects; class-weighted against the imbalance); ``known_score`` is its
  largest listed-breed probability, and under its threshold a dog is ``unknown-breed``.

Both thresholds are calibrated on the train pile only: the dog mass on all of it (no training
involved), the known score on out-of-fold scores (each train photo scored by a head that did
not see it). Held-out photos are only scored. Outputs as before: ``probabilities`` [N, K]
(``labels.txt``), ``known_score``, ``dog_probability``, ``reasons`` (``reasons.txt``) and
``known``. ``train breed --data DIR`` retrains on ``DIR/<breed>/`` for every listed breed plus
optional ``DIR/not-a-dog/`` and ``DIR/unknown-breed/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from . import (
    backbone,
    cards,
    datasets,
    export,
    heads,
    log,
    pet_photos,
    real_photos,
    repository,
    training,
)
from .spec import ModelSpec, TensorSpec

NAME = "breed"
INPUT_SIZE = backbone.INPUT_SIZE
LABELS = pet_photos.LISTED
REASONS = pet_photos.REASONS  # (not-a-dog, unknown-breed): the ``reasons`` output's order
CLASSES = (*LABELS, *REASONS)  # a photo's label: a listed breed or the reason it is none
OTHER = len(LABELS)  # the head's extra class: anything that is not a listed breed
# ImageNet dogs (151-268), wolves, coyote, dingo, dhole, hunting dog (269-275), foxes (277-280)
CANIDS = (*backbone.DOG_CLASSES, *range(269, 276), *range(277, 281))
SPEC = ModelSpec(
    name=NAME,
    inputs=(TensorSpec("image", "FP32", (3, INPUT_SIZE[1], INPUT_SIZE[0])),),
    outputs=(
        TensorSpec("probabilities", "FP32", (len(LABELS),), label_filename="labels.txt"),
        TensorSpec("known_score", "FP32", (1,)),
        TensorSpec("dog_probability", "FP32", (1,)),
        TensorSpec("reasons", "BOOL", (len(REASONS),), label_filename="reasons.txt"),
        TensorSpec("known", "BOOL", (1,)),
    ),
    max_batch_size=16,
    preferred_batch_sizes=(4, 8, 16),
)
_log = log.get(NAME)


class BreedHead(nn.Module):
    """Pooled backbone features -> logits over the listed breeds and "other"."""

    def __init__(self, dropout: float = 0.2) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Dropout(dropout), nn.Linear(backbone.FEATURES, OTHER + 1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class OpenSet:
    """Decision constants baked into the graph (also written to ``modelplane.json``)."""

    known_score: float  # below: not a breed the model lists
    dog_probability: float  # below: not a dog at all


class BreedGraph(nn.Module):
    """image -> probabilities, known_score, dog_probability, reasons, known.

    ``not-a-dog`` when the canid mass is under its threshold; otherwise ``unknown-breed`` when
    the known score is under its threshold; ``known`` when neither.
    """

    score_t: torch.Tensor
    dog_t: torch.Tensor
    canids: torch.Tensor

    def __init__(self, head: BreedHead, open_set: OpenSet) -> None:
        super().__init__()
        self.features = backbone.Features()
        self.head = head
        self.register_buffer("score_t", torch.tensor(open_set.known_score))
        self.register_buffer("dog_t", torch.tensor(open_set.dog_probability))
        self.register_buffer("canids", torch.tensor(CANIDS, dtype=torch.int64))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.decide(*self.features(image))

    def decide(self, pooled: torch.Tensor, imagenet: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The graph after the backbone (what the build scores on cached features)."""
        logits = self.head(pooled)
        score = F.softmax(logits, dim=1)[:, :OTHER].max(dim=1, keepdim=True).values
        dog_p = F.softmax(imagenet, dim=1).index_select(1, self.canids).sum(dim=1, keepdim=True)
        not_dog = dog_p < self.dog_t
        unknown = (score < self.score_t) & ~not_dog
        known = ~(not_dog | unknown)
        reasons = torch.cat([not_dog, unknown], dim=1)
        return F.softmax(logits[:, :OTHER], dim=1), score, dog_p, reasons, known


def load_graph(checkpoint: Path) -> BreedGraph:
    """The exported torch module from a model folder's checkpoint (thresholds included)."""
    graph = BreedGraph(BreedHead(), OpenSet(0.0, 0.0))
    graph.load_state_dict(torch.load(checkpoint, weights_only=True))
    return graph.eval()


@dataclass(frozen=True)
class BreedParams:
    """Everything that shapes the trained model (and so its build fingerprint)."""

    seed: int = 11
    epochs: int = 30
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-2
    dropout: float = 0.2
    quote_unlisted: float = 0.1  # most unlisted-breed train dogs the known rule lets through
    folds: int = 5  # out-of-fold scores of the train pile calibrate the known-score threshold
    val_fraction: float = 0.2  # of a user's folder
    data: str = field(default_factory=pet_photos.data_digest)
    backbone: str = field(default_factory=backbone.fingerprint)


def _targets(labels: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.minimum(labels, OTHER)  # both reasons are the head's one "other" class


def train_head(
    params: BreedParams, feats: NDArray[np.float32], labels: NDArray[np.int64]
) -> BreedHead:
    """Class-weighted cross-entropy over the listed breeds and "other" on cached features."""
    gen = training.set_seed(params.seed)
    head = BreedHead(params.dropout)
    targets = _targets(labels)
    weights = heads.class_weights(targets, OTHER + 1)
    config = training.FitConfig(params.epochs, params.batch_size, params.lr, params.weight_decay)
    heads.fit(
        head,
        feats,
        np.zeros((len(feats), 1), np.float32),
        targets,
        lambda f, _e, y: F.cross_entropy(head(f), y, weight=weights),
        config,
        gen,
        NAME,
    )
    return head.eval()


def known_scores(head: BreedHead, feats: NDArray[np.float32]) -> NDArray[np.float64]:
    with torch.no_grad():
        probs = F.softmax(head(torch.from_numpy(feats)), dim=1).double().numpy()
    return probs  # [N, K + 1]


def out_of_fold(
    params: BreedParams, feats: NDArray[np.float32], labels: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Every train photo's head probabilities from a head trained on the other folds."""
    fold = np.random.default_rng(params.seed).permutation(len(labels)) % params.folds
    probs = np.zeros((len(labels), OTHER + 1))
    for k in range(params.folds):
        head = train_head(params, feats[fold != k], labels[fold != k])
        probs[fold == k] = known_scores(head, feats[fold == k])
    return probs


def canid_mass(imagenet: NDArray[np.float32]) -> NDArray[np.float64]:
    probs = torch.softmax(torch.from_numpy(imagenet).double(), dim=1).numpy()
    return probs[:, list(CANIDS)].sum(axis=1)  # type: ignore[no-any-return]


def calibrate(
    oof: NDArray[np.float64],
    dog_p: NDArray[np.float64],
    labels: NDArray[np.int64],
    quote_unlisted: float = 0.1,
) -> OpenSet:
    """Thresholds from the train pile. Known score: Youden's J of the listed-breed photos the
    out-of-fold head named right against every other photo, but never under the score that
    lets through more than ``quote_unlisted`` of the real dogs of unlisted breeds (the goal:
    no quote for 90% of them; with 5 photos a breed, J alone sits at the few listed photos a
    fold's head barely knew). Canid mass: Youden's J of dogs against non-dogs."""
    listed = labels < OTHER
    right = listed & (oof[:, :OTHER].argmax(axis=1) == labels)
    score = oof[:, :OTHER].max(axis=1)
    unlisted_dogs = labels == CLASSES.index("unknown-breed")
    dogs = listed | unlisted_dogs
    grid = np.linspace(0.02, 0.98, 97)
    if right.any() and (~listed).any():
        known_t = training.best_threshold(score[right], score[~listed], grid)
    else:  # a user's folder without outlier photos: turn away at most ~2% of its listed dogs
        known_t = float(np.quantile(score[listed], 0.02))
    if unlisted_dogs.any():
        known_t = max(known_t, float(np.quantile(score[unlisted_dogs], 1.0 - quote_unlisted)))
    has_non_dogs = bool((~dogs).any())
    dog_t = training.best_threshold(dog_p[dogs], dog_p[~dogs], grid) if has_non_dogs else 0.0
    return OpenSet(known_score=known_t, dog_probability=dog_t)


def scores(labels: NDArray[np.int64], out: dict[str, NDArray[Any]]) -> dict[str, Any]:
    """Listed breeds: top-1 (argmax) and accepted-and-right per breed with n; every other kind:
    the share given no quote; the named-class confusion matrix and a reliability table."""
    probs, known = out["probabilities"], out["known"][:, 0]
    named = np.where(known, probs.argmax(axis=1), OTHER + out["reasons"][:, 1])
    n = {c: int((labels == i).sum()) for i, c in enumerate(CLASSES)}
    listed = labels < OTHER
    hit = probs.argmax(axis=1) == labels
    per_class = {
        "top1": {c: float(hit[labels == i].mean()) for i, c in enumerate(LABELS) if n[c]},
        "quoted_right": {
            c: float((hit & known)[labels == i].mean()) for i, c in enumerate(LABELS) if n[c]
        },
        "no_quote": {c: float((~known)[labels == i].mean()) for c, i in _reasons() if n[c]},
    }
    return {
        "classes": list(CLASSES),
        "n": n,
        "top1": float(hit[listed].mean()) if listed.any() else None,
        "quoted_right": float((hit & known)[listed].mean()) if listed.any() else None,
        "no_quote": float((~known)[~listed].mean()) if (~listed).any() else None,
        "measurable": min(n[c] for c in LABELS) >= pet_photos.MIN_HELDOUT_PER_BREED,
        "per_class": per_class,
        "confusion": [
            [int(((labels == t) & (named == p)).sum()) for p in range(len(CLASSES))]
            for t in range(len(CLASSES))
        ],
        "reliability": cards.reliability(probs.max(axis=1)[listed], hit[listed]),
    }


def _reasons() -> list[tuple[str, int]]:
    return [(r, OTHER + i) for i, r in enumerate(REASONS)]


def evaluate(onnx_path: Path, data: datasets.ImageSet) -> dict[str, Any]:
    """:func:`scores` of the exported file run by ONNX Runtime on ``data``."""
    return scores(data.labels, export.run_batched(onnx_path, "image", data.images))


def real_images(pile: str) -> datasets.ImageSet:
    photos = pet_photos.breed_photos(pile)
    labels = np.array([CLASSES.index(p.label) for p in photos], np.int64)
    pixels = real_photos.pixels(photos, INPUT_SIZE, evaluating=pile == "heldout")
    return datasets.ImageSet(pixels, labels, CLASSES)


def _data(params: BreedParams, data: Path | None) -> tuple[datasets.ImageSet, datasets.ImageSet]:
    """(train, evaluation): the real piles, or a user's folder split."""
    if data is None:
        return real_images("train"), real_images("heldout")
    folders = {name: name for name in LABELS} | {r: r for r in REASONS if (data / r).is_dir()}
    found = datasets.from_folder(data, folders, INPUT_SIZE)
    index = np.array([CLASSES.index(c) for c in found.classes])
    full = datasets.ImageSet(found.images, index[found.labels], CLASSES)
    return datasets.split(full, params.val_fraction, params.seed)


def build(folder: Path, params: BreedParams, data: Path | None) -> dict[str, Any]:
    """Train the head on cached features, calibrate on train, export, check parity, score."""
    train, evaluation = _data(params, data)
    log.event(_log, "data", train=train.counts(), evaluation=evaluation.counts())
    cache = backbone.FeatureCache(folder.parent / ".features")
    feats = cache.features(train.images, f"{NAME}.train")
    open_set = calibrate(
        out_of_fold(params, feats, train.labels),
        canid_mass(backbone.imagenet_logits(feats)),
        train.labels,
        params.quote_unlisted,
    )
    log.event(_log, "calibrated", **vars(open_set))
    graph = BreedGraph(train_head(params, feats, train.labels), open_set).eval()
    onnx_path = repository.model_file(folder, SPEC)
    sample = training.to_float(train.images[:3])
    export.export_onnx(graph, SPEC, {"image": torch.from_numpy(sample[:2])}, onnx_path)
    parity = export.check_parity(graph, SPEC, onnx_path, {"image": sample})
    torch.save(graph.state_dict(), folder / repository.CHECKPOINT_FILE)
    repository.write_config(folder, SPEC)
    repository.write_lines(folder / "labels.txt", LABELS)
    repository.write_lines(folder / "reasons.txt", REASONS)
    thresholds = {k: round(v, 4) for k, v in vars(open_set).items()}
    meta = {"input_size": list(INPUT_SIZE), "open_set": {"reasons": list(REASONS), **thresholds}}
    repository.write_json(folder / repository.META_FILE, meta)
    held = cache.features(evaluation.images, f"{NAME}.heldout")  # parity checked above
    with torch.no_grad():
        imagenet = backbone.imagenet_logits(held)
        outs = graph.decide(torch.from_numpy(held), torch.from_numpy(imagenet))
    names = ("probabilities", "known_score", "dog_probability", "reasons", "known")
    metrics = scores(evaluation.labels, {k: v.numpy() for k, v in zip(names, outs, strict=True)})
    log.event(_log, "evaluated", top1=metrics["top1"], no_quote=metrics["no_quote"])
    return {
        "parity_max_abs": parity,
        "backbone": backbone.provenance(),
        "evaluated_on": "validation" if data else "heldout (real photos)",
        "trained_on": train.counts(),
        "dropped_breeds": pet_photos.DROPPED,
        **metrics,
    }


BUILDER = repository.Builder(
    name=NAME,
    sources=("breed", "pet_photos", "backbone", "heads", "real_photos", "training", "datasets"),
    params=BreedParams(),
    build=build,
)
