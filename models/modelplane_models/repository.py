"""The Triton-layout model repository: writing model folders, caching builds, publishing safely.

Layout per model: ``<repo>/<model>/config.pbtxt``, ``<repo>/<model>/<version>/model.onnx``, label
files next to ``config.pbtxt``, ``modelplane.json`` (what serving needs beyond Triton's config)
and ``build.json`` (fingerprint, params and measured metrics). A model is rebuilt only when its
fingerprint (the code of the modules it depends on, its params and seed, the torch version)
changes; a model retrained from a user's folder is kept until ``--force``. Builds go to a staging
folder that replaces the old one only once complete, so a crash never leaves half a model.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import importlib.util
import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from modelplane_api import triton

from . import log, training_data
from .spec import ModelSpec

BUILD_FILE = "build.json"
META_FILE = "modelplane.json"
# Weights of the exported torch module (state_dict): parity checks and fine-tuning start here.
CHECKPOINT_FILE = "checkpoint.pt"
# Modules every model depends on: a change to how configs are written or exports are checked
# rebuilds everything.
COMMON_SOURCES = ("spec", "export", "repository", "imaging", "training_data")
# The contract modules every model is written through: the config.pbtxt writer and the image
# pre-processing (decode -> RGB -> resize -> [0, 1]) that training shares with serving.
CONTRACT_SOURCES = ("modelplane_api.triton", "modelplane_api.images")
_log = log.get("repository")


@dataclass(frozen=True)
class Builder:
    """How to produce one model folder. ``build(folder, params, data)`` fills ``folder`` and
    returns metrics; ``data`` is a user's image folder, or None for the repository's own data
    (the real sets of ``models/data`` and the generators, as the builder uses them)."""

    name: str
    sources: tuple[str, ...]
    params: Any
    build: Callable[[Path, Any, Path | None], dict[str, Any]]

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        modules = {f"modelplane_models.{m}" for m in (*COMMON_SOURCES, *self.sources)}
        for module in sorted({*modules, *CONTRACT_SOURCES}):
            spec = importlib.util.find_spec(module)
            if spec is None or spec.origin is None:
                raise ModuleNotFoundError(module)
            digest.update(module.encode() + Path(spec.origin).read_bytes())
        params = dataclasses.asdict(self.params)
        digest.update(json.dumps(params, sort_keys=True).encode())
        digest.update(torch.__version__.encode())
        return digest.hexdigest()[:16]


def model_file(folder: Path, spec: ModelSpec) -> Path:
    return folder / str(spec.version) / "model.onnx"


def write_config(folder: Path, spec: ModelSpec) -> None:
    """``config.pbtxt`` from the spec's ``ModelConfig`` message (the contract's one writer)."""
    triton.write_config(folder, spec.model_config())


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """One entry per line, ``\\n``-separated, UTF-8 (Triton's ``label_filename`` format)."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_build(folder: Path) -> dict[str, Any]:
    """The ``build.json`` of a model folder, or {} when absent or unreadable."""
    try:
        payload: dict[str, Any] = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return payload


def is_complete(folder: Path) -> bool:
    return (folder / "config.pbtxt").is_file() and any(folder.glob("[0-9]*/model.onnx"))


@contextmanager
def locked(repo: Path) -> Iterator[None]:
    """Serialise builders of one repository (parallel test sessions, make -j)."""
    repo.mkdir(parents=True, exist_ok=True)
    with (repo / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_builder(repo: Path, builder: Builder, data: Path | None = None) -> dict[str, Any]:
    """Build ``builder`` into a staging folder, then swap it in; returns the build record."""
    staging, record = build_staged(repo, builder, data)
    target = repo / builder.name
    old = repo / f".old-{builder.name}"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return record


def build_staged(
    repo: Path, builder: Builder, data: Path | None = None, folder: Path | None = None
) -> tuple[Path, dict[str, Any]]:
    """Build ``builder`` into ``<repo>/.staging-<name>`` (with its ``build.json``); returns the
    folder and the record. The caller publishes it: whole (:func:`run_builder`) or as the next
    version of the served model (:mod:`modelplane_models.versions`). The record's ``data`` says
    what the build read (:mod:`~modelplane_models.training_data`); ``folder`` is the user's
    folder to name there when ``data`` is a working copy of it."""
    fingerprint = builder.fingerprint()  # before training: the code that trains is recorded
    staging = repo / f".staging-{builder.name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    start = time.monotonic()
    with (
        log.timed(_log, "model.build", model=builder.name, data=str(folder or data or "own")),
        training_data.recording() as opened,
    ):
        metrics = builder.build(staging, builder.params, data)
    record = {
        "model": builder.name,
        "fingerprint": fingerprint,
        "data": training_data.record(opened, builder.sources, folder or data),
        "params": dataclasses.asdict(builder.params),
        "metrics": metrics,
        "seconds": round(time.monotonic() - start, 1),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_json(staging / BUILD_FILE, record)
    return staging, record


def remove_interrupted_staging(repo: Path) -> None:
    """Delete ``.staging-*`` folders an interrupted build left behind (called under the lock, so
    no build is writing one): a model server scanning the repository must see only models."""
    for staging in repo.glob(".staging-*"):
        shutil.rmtree(staging, ignore_errors=True)
        log.event(_log, "model.staging_removed", folder=staging.name)


def build(repo: Path, builders: Iterable[Builder], force: bool = False) -> dict[str, str]:
    """Build every model whose folder is missing or stale; returns model -> what happened."""
    outcome: dict[str, str] = {}
    with locked(repo):
        remove_interrupted_staging(repo)
        for builder in builders:
            folder = repo / builder.name
            record = read_build(folder)
            if not force and is_complete(folder) and training_data.user_folder(record):
                outcome[builder.name] = "kept"  # trained on a user's photos: never overwrite
            elif (
                not force
                and is_complete(folder)
                and record.get("fingerprint") == (builder.fingerprint())
            ):
                outcome[builder.name] = "cached"
            else:
                run_builder(repo, builder)
                outcome[builder.name] = "built"
            log.event(_log, "model.status", model=builder.name, status=outcome[builder.name])
    return outcome
