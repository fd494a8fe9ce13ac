"""How a labelled folder is split before a retrain: the held-out photos that score both versions
are never seen by the builder, and folders a builder reads when present go to training whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelplane_models import versions
from PIL import Image


def _images(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("RGB", (4, 4), (i, 0, 0)).save(folder / f"{i}.png")


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*.png")}


def test_held_out_photos_never_reach_the_builder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _images(data / "beagle", 10)
    _images(data / "poodle", 2)
    _images(data / "unknown-breed", 3)  # optional: trained on, not scored
    train, heldout = versions._split(
        data, {"beagle": "beagle", "poodle": "poodle"}, 0.2, tmp_path / "work"
    )
    held, trained = _files(heldout), _files(train)
    assert not held & trained
    assert held | trained == _files(data)
    assert sum(f.startswith("beagle/") for f in held) == 2
    assert sum(f.startswith("poodle/") for f in held) == 1
    assert {f for f in trained if f.startswith("unknown-breed/")} == {
        f"unknown-breed/{i}.png" for i in range(3)
    }
    again, _ = versions._split(
        data, {"beagle": "beagle", "poodle": "poodle"}, 0.2, tmp_path / "work2"
    )
    assert _files(again) == trained  # seeded: a rerun holds out the same photos


def test_a_class_without_photos_is_named(tmp_path: Path) -> None:
    _images(tmp_path / "data" / "beagle", 3)
    with pytest.raises(FileNotFoundError, match="poodle"):
        versions._split(
            tmp_path / "data", {"beagle": "beagle", "poodle": "poodle"}, 0.2, tmp_path / "w"
        )
