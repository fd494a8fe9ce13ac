"""Dog breed classifier (``breed``): a small CNN over :data:`~modelplane_models.synth.dogs.BREEDS`
that knows what it does not know.

A closed-set softmax always names the nearest breed, so a cat used to get a premium quote. The
network is trained with *outlier exposure*: besides the breeds, photos of other animals, objects
and dogs of other breeds (:mod:`~modelplane_models.synth.animals`, training kinds only) whose
target is the uniform distribution over breeds, and a dog/not-a-dog head. The open-set score is
the negative energy ``logsumexp(logits)`` (high on the breeds it knows, low elsewhere); it and
the dog probability are thresholded in the graph with constants calibrated on a validation split
(never the training data) and also written to ``modelplane.json``. Outputs: ``probabilities``
[N, K] (softmax over the breeds, ``labels.txt``), ``known_score`` [N, 1], ``dog_probability``
[N, 1], ``reasons`` [N, 2] (``reasons.txt``: not-a-dog, unknown-breed) and ``known`` [N, 1].

``make models`` trains on procedurally drawn dogs; ``train breed --data DIR`` retrains on real
photos in ``DIR/<breed>/`` (one sub-folder per name in ``labels.txt``, all of them present, so the
label order — which the ``premium`` model's ``breed`` input indexes — never changes), plus
optional ``DIR/not-a-dog/`` and ``DIR/unknown-breed/`` photos for the open-set part.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from . import datasets, export, log, repository, training
from .nets import Backbone
from .spec import ModelSpec, TensorSpec
from .synth import animals, dogs

NAME = "breed"
INPUT_SIZE = (96, 96)  # (W, H)
LABELS = dogs.NAMES
REASONS = animals.REASONS  # (not-a-dog, unknown-breed): the ``reasons`` output's order
CLASSES = (*LABELS, *REASONS)  # training labels: breeds, then the two kinds of outlier
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
    max_batch_size=32,
    preferred_batch_sizes=(8, 16, 32),
)
_log = log.get(NAME)


class BreedNet(nn.Module):
    """Backbone + linear breed classifier + a dog/not-a-dog logit."""

    def __init__(self, classes: int = len(LABELS)) -> None:
        super().__init__()
        self.backbone = Backbone((16, 32, 48, 64), extra=2)
        self.dropout = nn.Dropout(0.1)
        self.classify = nn.Linear(self.backbone.out_features, classes)
        self.dog = nn.Linear(self.backbone.out_features, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (breed logits [N, K], dog logit [N, 1])."""
        features = self.dropout(self.backbone(x))
        return self.classify(features), self.dog(features)


def breed_loss(
    net: BreedNet, x: torch.Tensor, y: torch.Tensor, smoothing: float, exposure: float
) -> torch.Tensor:
    """Cross-entropy on the breeds; outliers (label >= K) pulled to the uniform distribution
    (outlier exposure, weight ``exposure``); BCE of the dog logit (unknown breeds are dogs)."""
    logits, dog = net(x)
    k = len(LABELS)
    inlier = y < k
    loss = dog.new_zeros(())
    if inlier.any():
        loss = F.cross_entropy(logits[inlier], y[inlier], label_smoothing=smoothing)
    if (~inlier).any():
        out = logits[~inlier]
        uniform_ce = (torch.logsumexp(out, dim=1) - out.mean(dim=1)).mean()
        loss = loss + exposure * uniform_ce
    is_dog = (inlier | (y == k + REASONS.index("unknown-breed"))).float()
    total: torch.Tensor = loss + F.binary_cross_entropy_with_logits(dog[:, 0], is_dog)
    return total


@dataclass(frozen=True)
class OpenSet:
    """Decision constants baked into the graph (also written to ``modelplane.json``)."""

    known_score: float  # below: not a breed the model knows
    dog_probability: float  # below: not a dog at all


class BreedGraph(nn.Module):
    """Exported graph: image -> probabilities, known_score, dog_probability, reasons, known.

    ``not-a-dog`` when the dog probability is under its threshold; otherwise ``unknown-breed``
    when the known score is under its threshold; ``known`` when neither.
    """

    score_t: torch.Tensor
    dog_t: torch.Tensor

    def __init__(self, net: BreedNet, open_set: OpenSet) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("score_t", torch.tensor(open_set.known_score))
        self.register_buffer("dog_t", torch.tensor(open_set.dog_probability))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        logits, dog = self.net(image)
        score = torch.logsumexp(logits, dim=1, keepdim=True)
        dog_p = torch.sigmoid(dog)
        not_dog = dog_p < self.dog_t
        unknown = (score < self.score_t) & ~not_dog
        known = ~(not_dog | unknown)
        reasons = torch.cat([not_dog, unknown], dim=1)
        return torch.softmax(logits, dim=1), score, dog_p, reasons, known


def load_graph(checkpoint: Path) -> BreedGraph:
    """The exported torch module from a model folder's checkpoint (thresholds included)."""
    graph = BreedGraph(BreedNet(), OpenSet(0.0, 0.0))
    graph.load_state_dict(torch.load(checkpoint, weights_only=True))
    return graph.eval()


def calibrate(
    score: NDArray[np.float64], dog_p: NDArray[np.float64], labels: NDArray[np.int64], reject: float
) -> OpenSet:
    """Thresholds from the validation split (never the training data): the ``reject`` quantile
    of the known breeds' known score and dog probability.

    Each rule spends its whole false-rejection budget (about ``reject`` of known-breed photos)
    rather than stopping half-way to the outliers it was trained on (Youden's J): what it must
    also turn away are kinds it never saw, which lie between the two. With no non-dog photos (a
    user's folder without them) the dog head is untrained and its rule is off.
    """
    known = labels < len(LABELS)
    dog_trained = bool((labels == len(LABELS) + REASONS.index("not-a-dog")).any())
    return OpenSet(
        known_score=float(np.quantile(score[known], reject)),
        dog_probability=float(np.quantile(dog_p[known], reject)) if dog_trained else 0.0,
    )


@dataclass(frozen=True)
class BreedParams:
    """Everything that shapes the trained classifier (and so its build fingerprint)."""

    seed: int = 11
    train_per_breed: int = 400
    train_not_dog: int = 400
    train_unknown_breed: int = 200
    val_per_class: int = 30
    holdout_per_breed: int = 60
    holdout_per_kind: int = 40
    epochs: int = 14
    batch_size: int = 64
    lr: float = 4e-3
    label_smoothing: float = 0.05
    exposure: float = 0.5  # weight of the outlier-exposure term
    reject: float = 0.02  # most known-breed photos one open-set rule may turn away (validation)
    val_fraction: float = 0.2  # of a user's folder


def _generators() -> dict[str, datasets.Generator]:
    """Breeds, then one mixed generator per outlier reason over the *training* kinds only."""
    kinds = {r: tuple(k for k in animals.TRAIN_KINDS if animals.REASON_OF[k] == r) for r in REASONS}
    return dogs.generators() | {r: animals.mixed(kinds[r]) for r in REASONS}


def holdout(seed: int, per_breed: int) -> datasets.ImageSet:
    """Fresh synthetic dogs of the known breeds (use a seed the build never trained on)."""
    return datasets.synthesize(
        dogs.generators(), dict.fromkeys(LABELS, per_breed), INPUT_SIZE, seed, f"{NAME}.holdout"
    )


def outliers(seed: int, per_kind: int, kinds: tuple[str, ...]) -> datasets.ImageSet:
    """Photos that are none of the breeds, one class per kind of :mod:`synth.animals`."""
    return datasets.synthesize(
        animals.generators(kinds), dict.fromkeys(kinds, per_kind), INPUT_SIZE, seed, f"{NAME}.out"
    )


def evaluate(onnx_path: Path, data: datasets.ImageSet) -> dict[str, float]:
    """Known breeds: top-1 (argmax, as before the open set), accepted rate, accepted-and-right."""
    out = export.run_onnx(onnx_path, {"image": training.to_float(data.images)})
    hit = out["probabilities"].argmax(axis=1) == data.labels
    known = out["known"][:, 0]
    per_class = [
        float(hit[data.labels == i].mean()) for i in range(len(LABELS)) if (data.labels == i).any()
    ]
    return {
        "top1": float(hit.mean()),
        "worst_breed_top1": min(per_class),
        "known_accepted": float(known.mean()),
        "accepted_and_right": float((known & hit).mean()),
    }


def rejection_by_kind(onnx_path: Path, data: datasets.ImageSet) -> dict[str, float]:
    """Share of each outlier kind reported unknown (``known`` false), and with the right reason."""
    out = export.run_onnx(onnx_path, {"image": training.to_float(data.images)})
    rejected = ~out["known"][:, 0]
    reason = np.array([REASONS.index(animals.REASON_OF[k]) for k in data.classes])[data.labels]
    named = out["reasons"][np.arange(len(reason)), reason]
    metrics = {"all": float(rejected.mean()), "right_reason": float(named.mean())}
    metrics |= {k: float(rejected[data.labels == i].mean()) for i, k in enumerate(data.classes)}
    return metrics


def _from_folder(data: Path) -> datasets.ImageSet:
    """``DIR/<breed>/`` for every breed, plus the optional ``DIR/<reason>/`` outlier folders."""
    folders = {name: name for name in LABELS} | {r: r for r in REASONS if (data / r).is_dir()}
    found = datasets.from_folder(data, folders, INPUT_SIZE)
    index = np.array([CLASSES.index(c) for c in found.classes])
    return datasets.ImageSet(found.images, index[found.labels], CLASSES)


def _data(params: BreedParams, data: Path | None) -> tuple[datasets.ImageSet, datasets.ImageSet]:
    """(train, validation): a user's folder split, or two independently seeded synthetic sets."""
    if data is not None:
        return datasets.split(_from_folder(data), params.val_fraction, params.seed)
    counts = dict.fromkeys(LABELS, params.train_per_breed) | {
        "not-a-dog": params.train_not_dog,
        "unknown-breed": params.train_unknown_breed,
    }
    train = datasets.synthesize(_generators(), counts, INPUT_SIZE, params.seed, NAME)
    val_counts = dict.fromkeys(CLASSES, params.val_per_class)
    val = datasets.synthesize(_generators(), val_counts, INPUT_SIZE, params.seed + 1, NAME)
    return train, val


def _train(params: BreedParams, train: datasets.ImageSet) -> BreedNet:
    gen = training.set_seed(params.seed)
    net = BreedNet()
    config = training.FitConfig(params.epochs, params.batch_size, params.lr)

    def loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return breed_loss(net, x, y, params.label_smoothing, params.exposure)

    training.fit(net, train.images, torch.from_numpy(train.labels), loss, config, gen, NAME)
    return net


def _metrics(onnx_path: Path, params: BreedParams, val: datasets.ImageSet | None) -> dict[str, Any]:
    """On a user's folder: its validation split. Synthetic: held-out dogs, held-out outlier
    kinds never trained on, and training kinds drawn with a fresh seed."""
    if val is not None:
        known = val.subset(np.flatnonzero(val.labels < len(LABELS)))
        return {"evaluated_on": "validation", "images": len(known), **evaluate(onnx_path, known)}
    seed = params.seed + 1000
    metrics: dict[str, Any] = {"evaluated_on": "holdout"}
    metrics |= evaluate(onnx_path, holdout(seed, params.holdout_per_breed))
    per_kind = params.holdout_per_kind
    unseen = rejection_by_kind(onnx_path, outliers(seed, per_kind, animals.HELDOUT_KINDS))
    seen = rejection_by_kind(onnx_path, outliers(seed + 1, per_kind // 2, animals.TRAIN_KINDS))
    metrics["rejected_unseen_kinds"] = unseen
    metrics["rejected_seen_kinds_fresh_seed"] = seen
    return metrics


def build(folder: Path, params: BreedParams, data: Path | None) -> dict[str, Any]:
    """Train, calibrate the open set on validation, export, check parity, evaluate."""
    train, val = _data(params, data)
    log.event(_log, "data", train=train.counts(), validation=val.counts())
    net = _train(params, train)
    logits, dog = training.predict(net, val.images)
    score = torch.logsumexp(logits, dim=1).double().numpy()
    dog_p = torch.sigmoid(dog[:, 0]).double().numpy()
    open_set = calibrate(score, dog_p, val.labels, params.reject)
    log.event(_log, "calibrated", **vars(open_set))
    graph = BreedGraph(net, open_set).eval()
    onnx_path = repository.model_file(folder, SPEC)
    sample = training.to_float(val.images[:7])
    export.export_onnx(graph, SPEC, {"image": torch.from_numpy(sample[:2])}, onnx_path)
    parity = export.check_parity(graph, SPEC, onnx_path, {"image": sample})
    torch.save(graph.state_dict(), folder / repository.CHECKPOINT_FILE)
    repository.write_config(folder, SPEC)
    repository.write_lines(folder / "labels.txt", LABELS)
    repository.write_lines(folder / "reasons.txt", REASONS)
    thresholds = {k: round(v, 4) for k, v in vars(open_set).items()}
    meta = {"input_size": list(INPUT_SIZE), "open_set": {"reasons": list(REASONS), **thresholds}}
    repository.write_json(folder / repository.META_FILE, meta)
    metrics = _metrics(onnx_path, params, val if data is not None else None)
    log.event(_log, "evaluated", **metrics)
    return {"parity_max_abs": parity, **metrics}


BUILDER = repository.Builder(
    name=NAME,
    sources=(
        "breed",
        "nets",
        "training",
        "datasets",
        "synth.dogs",
        "synth.animals",
        "synth.photo",
    ),
    params=BreedParams(),
    build=build,
)
