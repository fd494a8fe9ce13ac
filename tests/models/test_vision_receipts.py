"""The vision models read a fixed list of receipts, not the receipts folder.

The documents benches grow ``models/data/documents/sroie``'s piles; the car and pet models use
80 of those receipts as "not a car / not a dog" photos. Were they read by folder, a receipt
added for the parser would silently change the gate's training data, its held-out n and its
fingerprint (a 3.5-minute rebuild that can move the gate's accuracy).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from modelplane_models import real_photos


def test_each_pile_lists_its_forty_receipts_and_every_one_exists() -> None:
    for pile, folder in (("train", "develop"), ("heldout", "heldout")):
        listed = real_photos.receipts(pile)
        assert len(listed) == 40
        assert all(path.is_file() and path.parent.name == folder for path in listed)


def test_a_receipt_added_to_the_folder_changes_neither_the_list_nor_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "sroie"
    shutil.copytree(real_photos.RECEIPTS, copy)
    monkeypatch.setattr(real_photos, "DATA", tmp_path)
    monkeypatch.setattr(real_photos, "VEHICLES", tmp_path / "none")
    monkeypatch.setattr(real_photos, "OTHERS", tmp_path / "none")
    monkeypatch.setattr(real_photos, "RECEIPTS", copy)
    monkeypatch.setattr(real_photos, "VISION_RECEIPTS", copy / "vision-receipts.txt")
    before = (real_photos.receipts("train"), real_photos.data_digest())
    shutil.copy(copy / "develop" / "sroie-003.jpg", copy / "develop" / "sroie-000.jpg")
    assert (real_photos.receipts("train"), real_photos.data_digest()) == before
    (copy / "develop" / "sroie-003.jpg").write_bytes(b"changed")
    assert real_photos.data_digest() != before[1]
