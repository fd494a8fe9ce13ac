"""``build`` is cached: a model is rebuilt only when missing, incomplete or its inputs changed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from modelplane_models import premium, registry, repository

pytestmark = pytest.mark.timeout(900)


def _mtimes(repo: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in repo.glob("*/1/model.onnx")}


def test_second_build_of_the_repository_trains_nothing(model_repository: Path) -> None:
    before = _mtimes(model_repository)
    assert len(before) == len(registry.BUILDERS)
    outcome = repository.build(model_repository, registry.BUILDERS)
    assert set(outcome.values()) <= {"cached", "kept"}
    assert _mtimes(model_repository) == before


def _tiny(seed: int = 1) -> repository.Builder:
    params = dataclasses.replace(
        premium.BUILDER.params,
        policies=600,
        holdout_policies=100,
        epochs=2,
        batch_size=128,
        seed=seed,
    )
    return dataclasses.replace(premium.BUILDER, params=params)


def test_a_build_removes_staging_left_by_an_interrupted_one(tmp_path: Path) -> None:
    assert repository.build(tmp_path, [_tiny()]) == {"premium": "built"}
    stale = tmp_path / ".staging-premium" / "1"
    stale.mkdir(parents=True)
    (stale / "model.onnx").write_bytes(b"half-written")
    assert repository.build(tmp_path, [_tiny()]) == {"premium": "cached"}
    assert not (tmp_path / ".staging-premium").exists()


def test_changed_params_or_missing_files_rebuild(tmp_path: Path) -> None:
    assert repository.build(tmp_path, [_tiny()]) == {"premium": "built"}
    onnx_file = tmp_path / "premium" / "1" / "model.onnx"
    first = onnx_file.stat().st_mtime_ns
    assert repository.build(tmp_path, [_tiny()]) == {"premium": "cached"}
    assert onnx_file.stat().st_mtime_ns == first
    assert repository.build(tmp_path, [_tiny(seed=2)]) == {"premium": "built"}
    onnx_file.unlink()
    assert repository.build(tmp_path, [_tiny(seed=2)]) == {"premium": "built"}
    assert onnx_file.is_file()
    assert not list(tmp_path.glob(".staging-*")) and not list(tmp_path.glob(".old-*"))
