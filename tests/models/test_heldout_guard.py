"""Held-out photos stay held out: listed, refused by the training door, never opened by training.

``models/data/HELDOUT.sha256`` lists every held-out file; a figure measured on a photo the
build trained or calibrated on would be worthless, so the build's training data assembly is run
here for real while a Python audit hook records every file it opens.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from modelplane_models import breed, quality_gate_train, real_photos, severity
from modelplane_models.training_data import recording

pytestmark = pytest.mark.timeout(600)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_heldout_file_is_listed_with_its_hash() -> None:
    listed = {
        line.split("  ", 1)[1]: line.split()[0]
        for line in real_photos.HELDOUT_LIST.read_text().splitlines()
        if line.strip()
    }
    files = list(real_photos.iter_heldout_files())
    assert len(files) >= 480  # 457 VDS val photos + 30 real not-a-car photos
    for path in files:
        assert listed[path.relative_to(real_photos.DATA).as_posix()] == _sha(path), path


def test_no_train_file_is_a_heldout_file() -> None:
    train = [p.path for p in real_photos.gate_photos("train")]
    assert len(train) > 1800
    assert not {_sha(p) for p in set(train)} & real_photos.heldout_hashes()


def oxford_names(pile: str) -> set[str]:
    """The pet photos of a pile (``pets/`` and ``not-a-car/``) by source name: the file name
    after its copy's prefix, the Oxford-IIIT name (``marinanasser-abyssinian_108`` is
    ``abyssinian_108``; ``google-ocelot``, a camera-trap file, stays itself)."""
    roots = (real_photos.DATA / "pets", real_photos.OTHERS)
    return {p.stem.split("-", 1)[-1].lower() for root in roots for p in (root / pile).glob("*")}


def test_no_heldout_pet_photo_is_in_a_train_pile_by_name() -> None:
    """By source, not bytes: Oxford-IIIT photos reach both sets through several copies, each
    downscaled and re-encoded, so one photo in two piles has two hashes. (VDS car photos carry
    no source name: the author renamed them ``train_*`` / ``val_*``; the bytes guard is all.)"""
    held, train = oxford_names("heldout"), oxford_names("train")
    assert len(held) >= 260 and len(train) >= 260
    assert not held & train


def test_the_training_door_refuses_a_heldout_photo() -> None:
    photo = next(real_photos.iter_heldout_files())
    with pytest.raises(real_photos.HeldOutError):
        real_photos.open_photo(photo)
    assert real_photos.open_photo(photo, evaluating=True).size[0] > 0


def test_training_never_opens_a_heldout_file() -> None:
    """The gate's and the severity model's training sets, assembled as the build does."""
    params = quality_gate_train.GateParams(drawn_train=10)
    with recording() as opened:
        fit, calibration = quality_gate_train.real_train(params)
        train = severity.images("train")
    assert len(fit) + len(calibration) > 2500 and len(train) == 1832
    photos = {p.resolve() for p in opened if p.suffix.lower() in (".jpg", ".jpeg", ".png")}
    assert len(photos) > 1800  # the hook saw the photos being read
    assert not {_sha(p) for p in photos} & real_photos.heldout_hashes()


def test_breed_training_never_opens_a_heldout_file() -> None:
    """The breed model's train pile (pets, not-a-car, a slice of cars, receipts), as built."""
    with recording() as opened:
        train = breed.real_images("train")
    assert len(train) > 400 and (train.labels < len(breed.LABELS)).sum() >= 15
    photos = {p.resolve() for p in opened if p.suffix.lower() in (".jpg", ".jpeg", ".png")}
    assert any(p.parent.parent.name == "pets" for p in photos)
    assert not {_sha(p) for p in photos} & real_photos.heldout_hashes()
