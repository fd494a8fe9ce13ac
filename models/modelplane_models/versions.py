"""The next version of a served model: ``modelplane-models train MODEL --data DIR``.

Retraining on a labelled folder adds a Triton version folder beside the ones already there
(``quality-gate/2/model.onnx`` next to ``quality-gate/1/``) instead of replacing the model, so the
running version keeps serving and a roll-out is a spec change: bump ``spec.model.version`` in the
ModelDeployment and the operator runs it as a readiness-gated canary (``canary.trafficPercent``),
or serve it locally with ``modelplane serve``. A share of each class of the folder is held out of
training and calibration; before a version is offered, it and the newest existing version are
evaluated on those same photos, and a drop of the model's score (gate: macro recall over accept
and each reason; breed: top-1) by more than ``max_drop`` is a regression: the candidate goes to
``<repo>/.candidates/<model>-<version>/`` and is not published.
``build.json`` keeps every version's record under ``versions``; its top level is the newest's.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import breed, datasets, imaging, log, quality_gate, quality_gate_train, repository
from .repository import Builder

CANDIDATES = ".candidates"
# Files that must not change between versions of one model: one config.pbtxt and one label list
# serve every version folder (Triton reads them per model, not per version).
CONTRACT_FILES = ("config.pbtxt", "labels.txt")
# Newest-version files kept beside config.pbtxt: fine-tuning and parity checks start from them.
SIDE_FILES = (repository.CHECKPOINT_FILE, repository.META_FILE)
_log = log.get("versions")


class VersionError(RuntimeError):
    """The new build cannot be a version of the existing model (its outputs or labels differ)."""


def _macro_recall(metrics: dict[str, float]) -> float:
    """The gate's comparison score: accepted photos accepted and each reason's photos flagged
    with that reason, averaged over classes (accuracy alone rewards rejecting everything when
    most photos are rejects)."""
    parts = [metrics["accept_rate"], *(v for k, v in metrics.items() if k.startswith("recall_"))]
    return sum(parts) / len(parts)


@dataclass(frozen=True)
class Evaluation:
    """How to compare two versions of one model on the same held-out photos of a folder."""

    folders: Mapping[str, str]  # class -> sub-folder of the labelled folder
    size: tuple[int, int]
    evaluate: Callable[[Path, datasets.ImageSet], dict[str, float]]
    metric: str  # higher is better
    score: Callable[[dict[str, float]], float]


EVALUATIONS: dict[str, Evaluation] = {
    quality_gate.NAME: Evaluation(
        quality_gate.FOLDERS,
        quality_gate.INPUT_SIZE,
        quality_gate_train.evaluate,
        "macro_recall",
        _macro_recall,
    ),
    breed.NAME: Evaluation(
        {name: name for name in breed.LABELS},
        breed.INPUT_SIZE,
        breed.evaluate,
        "top1",
        lambda metrics: metrics["top1"],
    ),
}


def versions(folder: Path) -> list[int]:
    """The numbered version folders of a model that hold a ``model.onnx``, ascending."""
    if not folder.is_dir():
        return []
    found = (p for p in folder.iterdir() if p.name.isdigit() and (p / "model.onnx").is_file())
    return sorted(int(p.name) for p in found)


def train_next(
    repo: Path, builder: Builder, data: Path, max_drop: float = 0.02, heldout: float = 0.2
) -> dict[str, Any]:
    """Train ``builder`` on ``data`` less a held-out share, and publish it as the model's next
    version unless its held-out score fell by more than ``max_drop`` below the newest existing
    version's. Returns the report printed by the CLI (``published``, ``regression``, scores)."""
    evaluation = EVALUATIONS[builder.name]
    folder = repo / builder.name
    existing = versions(folder)
    work = repo / f".split-{builder.name}"
    try:
        train_dir, heldout_dir = _split(data, evaluation.folders, heldout, work)
        staging, record = repository.build_staged(repo, builder, train_dir, folder=data)
        images = datasets.from_folder(heldout_dir, evaluation.folders, evaluation.size)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    version = existing[-1] + 1 if existing else 1
    after = evaluation.evaluate(staging / "1" / "model.onnx", images)
    record["heldout"] = {"images": len(images), "metrics": after}
    if not existing:
        _publish_whole(staging, folder, record)
        return _report(builder.name, 1, None, record, evaluation, (after, None), True)
    previous = existing[-1]
    _check_contract(staging, folder, previous)
    before = evaluation.evaluate(folder / str(previous) / "model.onnx", images)
    record["compared_with"] = {"version": previous, "heldout_metrics": before}
    drop = evaluation.score(before) - evaluation.score(after)
    scores = (after, before)
    if drop > max_drop:
        target = repo / CANDIDATES / f"{builder.name}-{version}"
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
        log.event(_log, "version.regression", model=builder.name, version=version, drop=drop)
        report = _report(builder.name, version, previous, record, evaluation, scores, False)
        return report | {"candidate": str(target), "max_drop": max_drop}
    _publish_version(staging, folder, version, previous, record)
    log.event(_log, "version.published", model=builder.name, version=version)
    return _report(builder.name, version, previous, record, evaluation, scores, True)


def _split(
    data: Path, folders: Mapping[str, str], fraction: float, work: Path
) -> tuple[Path, Path]:
    """Symlink trees ``work/train`` and ``work/heldout`` of ``data``'s class folders: a seeded
    ``fraction`` of each class (one at least, when it has two) is kept from the builder, so the
    versions are compared on photos neither trained nor calibrated on."""
    shutil.rmtree(work, ignore_errors=True)
    rng = np.random.default_rng(0)
    for cls, sub in folders.items():
        source = data / sub
        files = imaging.image_files(source) if source.is_dir() else []
        if not files:
            raise FileNotFoundError(f"no images for class {cls!r} in {source}")
        order = rng.permutation(len(files))
        take = max(1, round(len(files) * fraction)) if len(files) > 1 else 0
        for rank, index in enumerate(order):
            split = "heldout" if rank < take else "train"
            (work / split / sub).mkdir(parents=True, exist_ok=True)
            os.symlink(files[index].resolve(), work / split / sub / files[index].name)
    _link_optional(data, set(folders.values()), work / "train")
    return work / "train", work / "heldout"


def _link_optional(data: Path, scored: set[str], train: Path) -> None:
    """Folders a builder reads when present (the breed model's ``not-a-dog/``, ``unknown-breed/``)
    go to training whole: they are not classes the versions are scored on."""
    for folder in sorted(p for p in data.rglob("*") if p.is_dir()):
        relative = folder.relative_to(data)
        if relative.as_posix() in scored or any(p.startswith(".") for p in relative.parts):
            continue
        for path in imaging.image_files(folder):
            (train / relative).mkdir(parents=True, exist_ok=True)
            os.symlink(path.resolve(), train / relative / path.name)


def _check_contract(staging: Path, folder: Path, previous: int) -> None:
    for name in CONTRACT_FILES:
        new, old = staging / name, folder / name
        if new.is_file() != old.is_file() or (
            new.is_file() and not filecmp.cmp(new, old, shallow=False)
        ):
            shutil.rmtree(staging, ignore_errors=True)
            raise VersionError(
                f"{folder.name}: the new build's {name} differs from version {previous}'s, so "
                "it cannot be another version of the same model; publish it as a new model "
                f"(build --force --only {folder.name}) and roll it out as such"
            )


def _publish_whole(staging: Path, folder: Path, record: dict[str, Any]) -> None:
    """The first version: the staged folder becomes the model folder."""
    repository.write_json(staging / repository.BUILD_FILE, record | {"versions": {"1": record}})
    shutil.rmtree(folder, ignore_errors=True)  # a half model (no version folder) only
    staging.rename(folder)


def _publish_version(
    staging: Path, folder: Path, version: int, previous: int, record: dict[str, Any]
) -> None:
    """Move the staged ``1/`` in as ``<version>/`` (one rename: never half a version folder),
    then the side files and ``build.json``, each replaced atomically."""
    old = repository.read_build(folder)
    history: dict[str, Any] = dict(old.get("versions") or {})
    if not history and old:
        history[str(previous)] = {k: v for k, v in old.items() if k != "versions"}
    history[str(version)] = record
    (staging / "1").rename(folder / str(version))
    for name in SIDE_FILES:
        if (staging / name).is_file():
            os.replace(staging / name, folder / name)
    staged_build = staging / repository.BUILD_FILE
    repository.write_json(staged_build, record | {"versions": history})
    os.replace(staged_build, folder / repository.BUILD_FILE)
    shutil.rmtree(staging, ignore_errors=True)


def _report(
    model: str,
    version: int,
    previous: int | None,
    record: dict[str, Any],
    evaluation: Evaluation,
    scores: tuple[dict[str, float], dict[str, float] | None],
    published: bool,
) -> dict[str, Any]:
    after, before = scores
    report: dict[str, Any] = {
        "model": model,
        "version": version,
        "previous_version": previous,
        "published": published,
        "regression": not published,
        "metric": evaluation.metric,
        "heldout_images": record["heldout"]["images"],
        "score": round(evaluation.score(after), 4),
        "previous_score": None if before is None else round(evaluation.score(before), 4),
        "metrics": after,
        "previous_metrics": before,
        "seconds": record["seconds"],
    }
    if published:
        report["roll_out"] = (
            f'set spec.model.version: "{version}" in the ModelDeployment of model {model}: the '
            "operator opens its canary once the new revision is Ready; modelplane serve "
            "serves it on restart"
        )
    return report
