"""Training, calibration, export and evaluation of the quality gate (``quality-gate``).

``make models`` trains on synthetic photos (:mod:`modelplane_models.synth.cars`); a user retrains
on real photos with ``train quality-gate --data DIR`` where DIR holds ``accept/`` and
``reject/blurred/``, ``reject/not-a-car/``, ``reject/partial/``, ``reject/too-damaged/``.
Metrics are measured through ONNX Runtime on the exported file, on photos drawn with a seed never
used for training; ``not-a-car`` also on :mod:`~modelplane_models.synth.scenes` kinds that no
training ever drew (other vehicles, scenes, objects, textures, pets).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from . import datasets, export, log, repository, training
from .quality_gate import (
    CLASSES,
    FOLDERS,
    INPUT_SIZE,
    NAME,
    SPEC,
    GateGraph,
    GateNet,
    calibrate,
    gate_loss,
)
from .synth import cars, scenes
from .synth.cars import REASONS

_log = log.get(NAME)


@dataclass(frozen=True)
class GateParams:
    """Everything that shapes the trained gate (and so its build fingerprint)."""

    seed: int = 7
    train_accept: int = 1200
    train_per_reason: int = 400
    val_per_class: int = 100
    holdout_per_class: int = 150
    novel_per_kind: int = 40  # not-a-car photos per scenes.HELDOUT_KINDS kind
    epochs: int = 12
    batch_size: int = 64
    lr: float = 3e-3
    margin: float = 1.0
    val_fraction: float = 0.2  # of a user's folder, for calibration


def _data(params: GateParams, data: Path | None) -> tuple[datasets.ImageSet, datasets.ImageSet]:
    """(train, validation): a user's folder split, or two independently seeded synthetic sets."""
    if data is not None:
        full = datasets.from_folder(data, FOLDERS, INPUT_SIZE)
        return datasets.split(full, params.val_fraction, params.seed)
    train_counts = {"accept": params.train_accept} | dict.fromkeys(REASONS, params.train_per_reason)
    train = datasets.synthesize(cars.GENERATORS, train_counts, INPUT_SIZE, params.seed, NAME)
    val_counts = dict.fromkeys(CLASSES, params.val_per_class)
    val = datasets.synthesize(cars.GENERATORS, val_counts, INPUT_SIZE, params.seed + 1, NAME)
    return train, val


def holdout(seed: int, per_class: int) -> datasets.ImageSet:
    """Fresh synthetic photos for evaluation (use a seed the build never trained on)."""
    return datasets.synthesize(
        cars.GENERATORS, dict.fromkeys(CLASSES, per_class), INPUT_SIZE, seed, f"{NAME}.holdout"
    )


def novel_holdout(seed: int, per_kind: int) -> datasets.ImageSet:
    """Not-a-car photos of kinds the gate never trained on (:data:`scenes.HELDOUT_KINDS`)."""
    return datasets.synthesize(
        scenes.generators(scenes.HELDOUT_KINDS),
        dict.fromkeys(scenes.HELDOUT_KINDS, per_kind),
        INPUT_SIZE,
        seed,
        f"{NAME}.novel",
    )


def rejection_by_kind(onnx_path: Path, data: datasets.ImageSet) -> dict[str, float]:
    """Share of each kind's photos that the gate does not pass (``estimable`` false)."""
    out = export.run_onnx(onnx_path, {"image": training.to_float(data.images)})
    rejected = ~out["estimable"][:, 0]
    by_kind = {k: float(rejected[data.labels == i].mean()) for i, k in enumerate(data.classes)}
    return {"all": float(rejected.mean()), **by_kind}


def evaluate(onnx_path: Path, data: datasets.ImageSet) -> dict[str, float]:
    """Accuracy of ``estimable``, accepted rate, and per-reason recall (right reason flagged)."""
    out = export.run_onnx(onnx_path, {"image": training.to_float(data.images)})
    estimable, reasons = out["estimable"][:, 0], out["reasons"]
    accepted = data.labels == 0
    metrics = {
        "accuracy": float((estimable == accepted).mean()),
        "accept_rate": float(estimable[accepted].mean()),
    }
    for index, reason in enumerate(REASONS, start=1):
        members = data.labels == index
        metrics[f"recall_{reason}"] = float(reasons[members, index - 1].mean())
        metrics[f"rejected_{reason}"] = float((~estimable[members]).mean())
    return metrics


def _train(params: GateParams, train: datasets.ImageSet) -> GateNet:
    gen = training.set_seed(params.seed)
    net = GateNet()
    config = training.FitConfig(params.epochs, params.batch_size, params.lr)
    targets = torch.from_numpy(train.labels)
    training.fit(
        net,
        train.images,
        targets,
        lambda x, y: gate_loss(net, x, y, params.margin),
        config,
        gen,
        NAME,
    )
    return net


def build(folder: Path, params: GateParams, data: Path | None) -> dict[str, Any]:
    """Train, calibrate on validation, export with baked thresholds, check parity, evaluate."""
    train, val = _data(params, data)
    log.event(_log, "data", train=train.counts(), validation=val.counts())
    net = _train(params, train)
    train_emb = training.predict(net, train.images[train.labels == 0])[0]
    centroid = F.normalize(train_emb.mean(dim=0), dim=0)
    emb, logits, sharp = training.predict(net, val.images)
    thresholds = calibrate(emb, logits, sharp, val.labels, centroid)
    log.event(
        _log,
        "calibrated",
        distance=thresholds.distance,
        sharpness_floor=thresholds.sharpness_floor,
        reasons=thresholds.reason_probability,
    )
    graph = GateGraph(net, thresholds).eval()
    onnx_path = repository.model_file(folder, SPEC)
    sample = {"image": torch.from_numpy(training.to_float(val.images[:2]))}
    export.export_onnx(graph, SPEC, sample, onnx_path)
    parity = export.check_parity(
        graph, SPEC, onnx_path, {"image": training.to_float(val.images[:7])}
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
    evaluation = val if data is not None else holdout(params.seed + 1000, params.holdout_per_class)
    metrics: dict[str, Any] = dict(evaluate(onnx_path, evaluation))
    if data is None:
        novel = novel_holdout(params.seed + 1000, params.novel_per_kind)
        metrics["rejected_novel_not_a_car"] = rejection_by_kind(onnx_path, novel)
    log.event(_log, "evaluated", split="validation" if data else "holdout", **metrics)
    return {
        "parity_max_abs": parity,
        "evaluated_on": "validation" if data else "holdout",
        "images": len(evaluation),
        **metrics,
    }


BUILDER = repository.Builder(
    name=NAME,
    sources=(
        "quality_gate",
        "quality_gate_train",
        "nets",
        "training",
        "datasets",
        "synth.cars",
        "synth.wrecks",
        "synth.scenes",
        "synth.animals",
        "synth.dogs",
        "synth.documents",
        "synth.photo",
    ),
    params=GateParams(),
    build=build,
)
