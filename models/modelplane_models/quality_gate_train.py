"""Training, calibration, export and evaluation of the quality gate on real photos.

``make models`` trains the gate's head on the real photos of ``models/data/`` (train piles,
:mod:`modelplane_models.real_photos`): accepted = VDS minor + moderate, ``too-damaged`` = VDS
severe, ``blurred`` / ``partial`` = the real photos with the stated blur and crop rules,
``not-a-car`` = real photos of other things, real scanned receipts, and drawn pages and ID cards
(:mod:`~modelplane_models.synth.documents`, augmentation only). 20% of the train pile (whole
source photos, with their derivatives) calibrates the thresholds; the held-out piles are only
scored, through ONNX Runtime on the exported file. A user retrains with
``train quality-gate --data DIR`` (``accept/`` and ``reject/<reason>/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from . import backbone, cards, datasets, export, heads, log, real_photos, repository, training
from .quality_gate import (
    CLASSES,
    FOLDERS,
    INPUT_SIZE,
    NAME,
    SEVERE,
    SPEC,
    GateGraph,
    GateHead,
    Sharpness,
    calibrate,
    gate_loss,
)
from .synth import documents
from .synth.cars import REASONS

_log = log.get(NAME)
DRAWN = {"page": documents.page, "id-card": documents.id_card}


@dataclass(frozen=True)
class GateParams:
    """Everything that shapes the trained gate (and so its build fingerprint)."""

    seed: int = 7
    drawn_train: int = 160  # drawn pages / ID cards added to not-a-car (augmentation)
    drawn_heldout: int = 60
    epochs: int = 40
    batch_size: int = 64
    lr: float = 2e-3
    margin: float = 1.0
    severe_l2: float = 1.0  # the too-damaged logistic regression's penalty (cross-validated)
    val_fraction: float = 0.2  # calibration slice of the train pile (or of a user's folder)
    data: str = field(default_factory=real_photos.data_digest)
    backbone: str = field(default_factory=backbone.fingerprint)


def _drawn(count: int, seed: int, name: str) -> datasets.ImageSet:
    counts = {"page": count // 2, "id-card": count - count // 2}
    drawn = datasets.synthesize(DRAWN, counts, INPUT_SIZE, seed, name)
    return datasets.ImageSet(drawn.images, np.full(len(drawn), CLASSES.index("not-a-car")), CLASSES)


def _real(photos: list[real_photos.Photo], evaluating: bool) -> datasets.ImageSet:
    labels = np.array([CLASSES.index(p.label) for p in photos], np.int64)
    return datasets.ImageSet(real_photos.pixels(photos, INPUT_SIZE, evaluating), labels, CLASSES)


def _concat(*sets: datasets.ImageSet) -> datasets.ImageSet:
    return datasets.ImageSet(
        np.concatenate([s.images for s in sets]), np.concatenate([s.labels for s in sets]), CLASSES
    )


def real_train(params: GateParams) -> tuple[datasets.ImageSet, datasets.ImageSet]:
    """(fit, calibration) from the train piles; a source photo and its derivatives stay together."""
    photos = real_photos.gate_photos("train")
    calib = [
        real_photos.rng_for(p.path, "calibration").random() < params.val_fraction for p in photos
    ]
    fit = [p for p, c in zip(photos, calib, strict=True) if not c]
    cal = [p for p, c in zip(photos, calib, strict=True) if c]
    drawn = _drawn(params.drawn_train, params.seed, f"{NAME}.drawn")
    n_cal = int(len(drawn) * params.val_fraction)
    fit_set = _concat(_real(fit, False), drawn.subset(np.arange(n_cal, len(drawn))))
    cal_set = _concat(_real(cal, False), drawn.subset(np.arange(n_cal)))
    return fit_set, cal_set


def heldout(params: GateParams) -> datasets.ImageSet:
    """The held-out piles (real photos, their derivatives) plus drawn documents of another seed."""
    real = _real(real_photos.gate_photos("heldout"), evaluating=True)
    return _concat(real, _drawn(params.drawn_heldout, params.seed + 1000, f"{NAME}.heldout"))


def _sharpness(images: np.ndarray) -> np.ndarray:
    sharp = Sharpness()
    with torch.no_grad():
        rows = [
            sharp(torch.from_numpy(training.to_float(images[i : i + 64]))).numpy()
            for i in range(0, len(images), 64)
        ]
    return np.concatenate(rows).astype(np.float32)


def predict_classes(reasons: np.ndarray, estimable: np.ndarray) -> np.ndarray:
    """The class the gate names: ``accept`` when estimable, else its first reason
    (``not-a-car`` first: the graph's rules already let it exclude the others)."""
    order = [
        REASONS.index("not-a-car"),
        *(i for i in range(len(REASONS)) if REASONS[i] != "not-a-car"),
    ]
    named = np.zeros(len(estimable), np.int64)
    for index in reversed(order):
        named = np.where(reasons[:, index], index + 1, named)
    return np.where(estimable, 0, named)


def evaluate(onnx_path: Path, data: datasets.ImageSet) -> dict[str, Any]:
    """:func:`outcome_metrics` of the exported file run by ONNX Runtime on ``data``."""
    out = export.run_batched(onnx_path, "image", data.images)
    return outcome_metrics(data.labels, out["reasons"], out["estimable"][:, 0])


def evaluate_cached(
    graph: GateGraph, cache: backbone.FeatureCache, data: datasets.ImageSet, name: str
) -> dict[str, Any]:
    """:func:`outcome_metrics` of the graph on cached backbone features (one backbone pass per
    photo for every model and build; the export's ONNX parity is checked separately)."""
    feats, sharp = cache.features(data.images, name), _sharpness(data.images)
    with torch.no_grad():
        out = graph.decide(torch.from_numpy(feats), torch.from_numpy(sharp))
        logits = graph.head(torch.from_numpy(feats), torch.from_numpy(sharp))[1]
    metrics = outcome_metrics(data.labels, out[3].numpy(), out[4].numpy()[:, 0])
    # the reason head's probabilities, one (photo, reason) pair each: is "this photo has
    # reason r" as likely as the head says? (the decisions themselves are booleans)
    prob = torch.sigmoid(logits).numpy().reshape(-1)
    truth = (data.labels[:, None] == np.arange(1, len(CLASSES))[None, :]).reshape(-1)
    confident_yes = prob >= 0.5
    confidence = np.where(confident_yes, prob, 1.0 - prob)
    metrics["reliability"] = cards.reliability(confidence, confident_yes == truth)
    return metrics


def outcome_metrics(
    labels: np.ndarray, reasons: np.ndarray, estimable: np.ndarray
) -> dict[str, Any]:
    """Accuracy of ``estimable`` and of the named class, per-class recall, confusion matrix."""
    named = predict_classes(reasons, estimable)
    accepted = labels == 0
    metrics: dict[str, Any] = {
        "accuracy": float((estimable == accepted).mean()),
        "class_accuracy": float((named == labels).mean()),
        "accept_rate": float(estimable[accepted].mean()),
        "n": {c: int((labels == i).sum()) for i, c in enumerate(CLASSES)},
        "classes": list(CLASSES),
        "confusion": [
            [int(((labels == t) & (named == p)).sum()) for p in range(len(CLASSES))]
            for t in range(len(CLASSES))
        ],
    }
    for index, reason in enumerate(REASONS, start=1):
        members = labels == index
        metrics[f"recall_{reason}"] = float(reasons[members, index - 1].mean())
        metrics[f"rejected_{reason}"] = float((~estimable[members]).mean())
    return metrics


def _train(
    params: GateParams, feats: np.ndarray, sharp: np.ndarray, labels: np.ndarray
) -> GateHead:
    gen = training.set_seed(params.seed)
    head = GateHead()
    weights = heads.class_weights(labels, len(CLASSES))
    config = training.FitConfig(params.epochs, params.batch_size, params.lr)
    heads.fit(
        head,
        feats,
        sharp,
        labels,
        lambda f, s, y: gate_loss(head, f, s, y, params.margin, weights),
        config,
        gen,
        NAME,
    )
    _fit_severe(head, params, feats, labels)
    return head


def _fit_severe(head: GateHead, params: GateParams, feats: np.ndarray, labels: np.ndarray) -> None:
    """The too-damaged logit: logistic regression of too-damaged against accepted photos on the
    average- and max-pooled final map (:class:`~.quality_gate.GateHead`)."""
    rows = np.isin(labels, (0, SEVERE + 1))
    weight, bias = heads.fit_logistic(
        feats[rows, : 2 * backbone.FEATURES],
        (labels[rows] == SEVERE + 1).astype(np.int64),
        2,
        params.severe_l2,
    )
    with torch.no_grad():
        head.severe.weight.copy_(torch.from_numpy(weight[1:] - weight[:1]))
        head.severe.bias.copy_(torch.from_numpy(bias[1:] - bias[:1]))


def build(folder: Path, params: GateParams, data: Path | None) -> dict[str, Any]:
    """Train the head on cached features, calibrate, export with baked thresholds, evaluate."""
    if data is not None:
        full = datasets.from_folder(data, FOLDERS, INPUT_SIZE)
        train, val = datasets.split(full, params.val_fraction, params.seed)
    else:
        train, val = real_train(params)
    log.event(_log, "data", train=train.counts(), calibration=val.counts())
    cache = backbone.FeatureCache(folder.parent / ".features", rich=True)
    feats, sharp = cache.features(train.images, f"{NAME}.train"), _sharpness(train.images)
    head = _train(params, feats, sharp, train.labels)
    with torch.no_grad():
        accepted = train.labels == 0
        fit_emb, _ = head(torch.from_numpy(feats[accepted]), torch.from_numpy(sharp[accepted]))
        centroid = F.normalize(fit_emb.mean(dim=0), dim=0)
        val_sharp = torch.from_numpy(_sharpness(val.images))
        emb, logits = head(
            torch.from_numpy(cache.features(val.images, f"{NAME}.calibration")), val_sharp
        )
    thresholds = calibrate(emb, logits, val_sharp, val.labels, centroid)
    log.event(
        _log,
        "calibrated",
        distance=thresholds.distance,
        sharpness_floor=thresholds.sharpness_floor,
        reasons=thresholds.reason_probability,
    )
    graph = GateGraph(head, thresholds).eval()
    onnx_path = repository.model_file(folder, SPEC)
    export.export_onnx(
        graph, SPEC, {"image": torch.from_numpy(training.to_float(val.images[:2]))}, onnx_path
    )
    parity = export.check_parity(
        graph, SPEC, onnx_path, {"image": training.to_float(val.images[:3])}
    )
    torch.save(graph.state_dict(), folder / repository.CHECKPOINT_FILE)
    repository.write_config(folder, SPEC)
    repository.write_lines(folder / "labels.txt", REASONS)
    repository.write_json(
        folder / repository.META_FILE,
        {
            "input_size": list(INPUT_SIZE),
            "thresholds": {
                "distance": round(thresholds.distance, 4),
                "sharpness_floor": round(thresholds.sharpness_floor, 4),
                "reason_probability": [round(t, 4) for t in thresholds.reason_probability],
            },
        },
    )
    evaluation = val if data is not None else heldout(params)
    metrics = evaluate_cached(graph, cache, evaluation, f"{NAME}.heldout")
    log.event(_log, "evaluated", split="validation" if data else "heldout", **metrics)
    return {
        "parity_max_abs": parity,
        "backbone": backbone.provenance(),
        "evaluated_on": "validation" if data else "heldout (real photos + drawn documents)",
        "trained_on": train.counts(),
        "calibrated_on": val.counts(),
        "images": len(evaluation),
        **metrics,
    }


BUILDER = repository.Builder(
    name=NAME,
    sources=(
        "quality_gate",
        "quality_gate_train",
        "backbone",
        "heads",
        "real_photos",
        "training",
        "datasets",
        "synth.documents",
    ),
    params=GateParams(),
    build=build,
)
