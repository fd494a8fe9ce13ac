"""The next version of a served model: ``modelplane-models train MODEL --data DIR``.

Retraining on a labelled folder adds a Triton version folder beside the ones already there
(``quality-gate/2/model.onnx`` next to ``quality-gate/1/``) instead of replacing the model, so the
running version keeps serving and a roll-out is a spec change: bump ``spec.model.version`` in the
ModelDeployment and the operator runs it as a readiness-gated canary (``canary.trafficPercent``),
or serve it locally with ``modelplane serve``. Before a version is offered, it and the newest
existing version are evaluated on the same held-out images (the new folder's validation split,
which neither trained on); a drop of the model's main metric by more than ``max_drop`` is a
regression: the candidate goes to ``<repo>/.candidates/<model>-<version>/`` and is not published.
``build.json`` keeps every version's record under ``versions``; its top level is the newest's.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import breed, datasets, log, quality_gate_train, repository
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


@dataclass(frozen=True)
class Evaluation:
    """How to compare two versions of one model on the same held-out images."""

    heldout: Callable[[Any, Path], datasets.ImageSet]
    evaluate: Callable[[Path, datasets.ImageSet], dict[str, float]]
    metric: str  # higher is better


EVALUATIONS: dict[str, Evaluation] = {
    quality_gate_train.BUILDER.name: Evaluation(
        lambda params, data: quality_gate_train._data(params, data)[1],
        quality_gate_train.evaluate,
        "accuracy",
    ),
    breed.NAME: Evaluation(
        lambda params, data: breed._data(params, data)[1], breed.evaluate, "top1"
    ),
}


def versions(folder: Path) -> list[int]:
    """The numbered version folders of a model that hold a ``model.onnx``, ascending."""
    if not folder.is_dir():
        return []
    found = (p for p in folder.iterdir() if p.name.isdigit() and (p / "model.onnx").is_file())
    return sorted(int(p.name) for p in found)


def train_next(repo: Path, builder: Builder, data: Path, max_drop: float = 0.02) -> dict[str, Any]:
    """Train ``builder`` on ``data`` and publish it as the model's next version, unless its
    held-out metric fell by more than ``max_drop`` below the newest existing version's.
    Returns the report printed by the CLI (``published``, ``regression``, both metrics)."""
    folder = repo / builder.name
    existing = versions(folder)
    staging, record = repository.build_staged(repo, builder, data)
    if not existing:
        _publish_whole(staging, folder, record)
        return _report(builder.name, 1, None, record, None, published=True)
    previous, version = existing[-1], existing[-1] + 1
    _check_contract(staging, folder, previous)
    evaluation = EVALUATIONS[builder.name]
    heldout = evaluation.heldout(builder.params, data)
    before = evaluation.evaluate(folder / str(previous) / "model.onnx", heldout)
    drop = before[evaluation.metric] - record["metrics"][evaluation.metric]
    if drop > max_drop:
        target = repo / CANDIDATES / f"{builder.name}-{version}"
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
        log.event(_log, "version.regression", model=builder.name, version=version, drop=drop)
        report = _report(builder.name, version, previous, record, before, published=False)
        return report | {"candidate": str(target), "max_drop": max_drop}
    record["compared_with"] = {"version": previous, "previous_metrics_same_heldout": before}
    _publish_version(staging, folder, version, previous, record)
    log.event(_log, "version.published", model=builder.name, version=version)
    return _report(builder.name, version, previous, record, before, published=True)


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
    before: dict[str, float] | None,
    published: bool,
) -> dict[str, Any]:
    metric = EVALUATIONS[model].metric if model in EVALUATIONS else None
    report: dict[str, Any] = {
        "model": model,
        "version": version,
        "previous_version": previous,
        "published": published,
        "regression": not published,
        "metric": metric,
        "metrics": record["metrics"],
        "previous_metrics": before,
        "seconds": record["seconds"],
    }
    if published:
        report["roll_out"] = (
            f'set spec.model.version: "{version}" in the ModelDeployment of model {model} '
            "(the operator canaries it by canary.trafficPercent), or serve it locally with "
            "modelplane serve"
        )
    return report
