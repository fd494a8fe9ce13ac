"""``build.json`` says what a build read: the real sets and piles it trained and was scored on
(with their provenance), the generators it drew from, or a user's folder.

The damage-severity model is built for real (a logistic regression on pooled features; the
backbone features of ``models/repository`` copied in when it has them, so no backbone pass is
repeated): the record
is measured from the files the build opened, so a training change that reads other data, or a
held-out photo counted as training data, changes it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from modelplane_models import repository, severity, training_data

pytestmark = pytest.mark.timeout(900)
ROOT = Path(__file__).resolve().parents[2]
FEATURES = ROOT / "models" / "repository" / ".features"
VDS = "models/data/vehicle-damage"


def test_a_real_data_build_records_the_sets_it_read(tmp_path: Path) -> None:
    if FEATURES.is_dir():
        shutil.copytree(FEATURES, tmp_path / ".features")
    staging, record = repository.build_staged(tmp_path, severity.BUILDER)
    data = record["data"]
    provenance = f"{VDS}/PROVENANCE.md"
    assert data["folder"] is None and data["generators"] == []
    assert data["trained_on"] == [
        {"set": VDS, "pile": "train", "files": 1832, "provenance": provenance}
    ]
    assert data["evaluated_on"] == [
        {"set": VDS, "pile": "heldout", "files": 457, "provenance": provenance}
    ]
    assert (ROOT / provenance).is_file()
    assert data["summary"] == f"{VDS}/train (1832 files)"
    written = json.loads((staging / repository.BUILD_FILE).read_text(encoding="utf-8"))
    assert written["data"] == data


def test_a_user_folder_is_recorded_and_keeps_its_build() -> None:
    """A folder-trained build is never overwritten by ``make models``, whether its record is
    this one or the plain string written before it."""
    opened: list[str] = []
    data = training_data.record(opened, ["premium", "synth.policies"], Path("/photos"))
    assert data["folder"] == "/photos" and data["trained_on"] == []
    assert data["generators"] == ["modelplane_models.synth.policies"]
    cases: list[tuple[Any, str | None]] = [
        (data, "/photos"),
        ({**data, "folder": None}, None),
        ("/photos", "/photos"),
        ("synthetic", None),
        (None, None),
    ]
    for recorded, folder in cases:
        assert training_data.user_folder({"data": recorded}) == folder, recorded
