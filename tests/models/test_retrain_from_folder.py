"""Retraining on a user's photo folder: ``modelplane-models train MODEL --data DIR``.

A tiny folder is written with the synthetic generators (as JPEG/PNG files, like real photos),
one epoch is trained, and the published model must load in ONNX Runtime with the contract's
tensors and labels; a later ``build`` must keep it rather than retrain on synthetic data.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from modelplane_models import breed as breed_model
from modelplane_models import cli, datasets, registry, repository
from modelplane_models.export import run_onnx
from modelplane_models.synth import cars, dogs
from PIL import Image

pytestmark = pytest.mark.timeout(300)


def _write(
    folder: Path,
    make: Callable[[np.random.Generator], Image.Image],
    count: int,
    rng: np.random.Generator,
) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        make(rng).save(folder / (f"{i}.jpg" if i % 2 else f"{i}.png"))


def test_quality_gate_retrains_on_a_folder(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = tmp_path / "photos"
    _write(data / "accept", cars.accepted, 10, rng)
    for reason in ("blurred", "not-a-car", "partial", "too-damaged"):
        _write(data / "reject" / reason, cars.GENERATORS[reason], 5, rng)
    repo = tmp_path / "repo"
    assert (
        cli.main(
            [
                "--log-format",
                "plain",
                "train",
                "quality-gate",
                "--data",
                str(data),
                "--output",
                str(repo),
                "--epochs",
                "1",
            ]
        )
        == 0
    )
    folder = repo / "quality-gate"
    recorded = json.loads((folder / "build.json").read_text())["data"]
    assert recorded["folder"] == str(data) and recorded["summary"].startswith("a user's folder")
    assert (folder / "labels.txt").read_text().split() == [
        "blurred",
        "not-a-car",
        "partial",
        "too-damaged",
    ]
    width, height = json.loads((folder / "modelplane.json").read_text())["input_size"]
    images = np.random.default_rng(0).random((3, 3, height, width), dtype=np.float32)
    out = run_onnx(folder / "1" / "model.onnx", {"image": images})
    assert out["embedding"].ndim == 2 and out["embedding"].shape[0] == 3
    assert out["embedding"].dtype == np.float32
    assert out["reasons"].shape == (3, 4) and out["reasons"].dtype == np.bool_
    assert out["estimable"].shape == (3, 1) and out["distance"].shape == (3, 1)
    gate = registry.by_name("quality-gate")
    assert repository.build(repo, [gate]) == {"quality-gate": "kept"}


def test_breed_retrains_on_a_folder(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    data = tmp_path / "dogs"
    for breed in dogs.BREEDS:
        _write(data / breed.name, functools.partial(dogs.photo, breed=breed), 3, rng)
    repo = tmp_path / "repo"
    assert (
        cli.main(
            [
                "--log-format",
                "plain",
                "train",
                "breed",
                "--data",
                str(data),
                "--output",
                str(repo),
                "--epochs",
                "1",
            ]
        )
        == 0
    )
    labels = (repo / "breed" / "labels.txt").read_text().split()
    assert labels == list(breed_model.LABELS)  # the listed breeds; other folders are ignored
    images = np.random.default_rng(0).random((2, 3, 224, 224), dtype=np.float32)
    probs = run_onnx(repo / "breed" / "1" / "model.onnx", {"image": images})["probabilities"]
    assert probs.shape == (2, len(labels))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_a_missing_class_folder_is_named(tmp_path: Path) -> None:
    _write(tmp_path / "accept", cars.accepted, 2, np.random.default_rng(0))
    with pytest.raises(FileNotFoundError, match="blurred"):
        datasets.from_folder(
            tmp_path, {"accept": "accept", "blurred": "reject/blurred"}, (128, 128)
        )
