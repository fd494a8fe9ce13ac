"""The breed model's real photos: which breeds are listed, why the others were dropped, labels.

A listed breed is one the ``breed`` model names and the ``premium`` model prices (its index is
premium's ``breed`` input). The issue's rule: a breed stays only with real photos to validate
on, and one with none is dropped (it answers ``unknown-breed``, no quote) rather than guessed.
Real, redistributable photos were found only of the three listed breeds Oxford-IIIT Pet covers
(``models/data/pets/PROVENANCE.md``): 24-25 train and 24-25 held-out photos each, over the 20
held-out photos per breed asked before a figure is called met.

Every real photo the breed model sees is labelled here from its file name (Oxford-IIIT names
are the breed and a number): a listed breed, ``unknown-breed`` (real dogs of other breeds) or
``not-a-dog`` (cats, other animals, a person, empty scenes, and a slice of the real car photos
and scanned receipts: objects). Piles follow the sets' own train / held-out split.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import real_photos
from .real_photos import Photo

PETS = real_photos.DATA / "pets"
LISTED: tuple[str, ...] = ("shiba_inu", "pomeranian", "beagle")  # label order (premium's index)
DROPPED: dict[str, str] = {
    "golden_retriever": "no redistributable real photos found",
    "labrador_retriever": "no redistributable real photos found",
    "poodle": "no redistributable real photos found",
    "jindo": "no redistributable real photos found (no ImageNet class either)",
    "maltese": "no redistributable real photos found",
    "bulldog": "no redistributable real photos of English bulldogs found; Oxford-IIIT's "
    "american_bulldog is another, longer-muzzled breed, not the brachycephalic one priced here",
    "dachshund": "no redistributable real photos found (no ImageNet class either)",
}
REASONS = ("not-a-dog", "unknown-breed")  # the breed model's ``reasons`` output order
MIN_HELDOUT_PER_BREED = 20  # real held-out photos of a breed before its figure is met or not
# Oxford-IIIT Pet's 12 cat breeds (its other 25 breeds are dogs)
CATS = (
    "abyssinian",
    "bengal",
    "birman",
    "bombay",
    "british_shorthair",
    "egyptian_mau",
    "maine_coon",
    "persian",
    "ragdoll",
    "russian_blue",
    "siamese",
    "sphynx",
)
OBJECT_EVERY = 8  # one real car photo in 8 (and every receipt) joins not-a-dog as objects


def label_of(path: Path) -> str:
    """A listed breed, ``unknown-breed`` or ``not-a-dog`` from a pet or not-a-car file name:
    ``shiba_inu_126.jpg``, ``gt15725128838-beagle01.jpg``, ``google-domestic_dog.jpg``."""
    stem = path.stem.split("-", 1)[-1].lower()
    breed = re.sub(r"_?\d+$", "", stem)
    if breed in LISTED:
        return breed
    if breed in CATS or path.name.startswith("google-"):
        return "unknown-breed" if breed == "domestic_dog" else "not-a-dog"
    return "unknown-breed"


def breed_photos(pile: str, objects: bool = True) -> list[Photo]:
    """The breed model's real photos of a pile (``train`` or ``heldout``), labelled; with
    ``objects``, also a slice of the pile's real car photos and its scanned receipts."""
    folder = real_photos.PILES[pile][0]
    paths = real_photos.files(PETS / folder) + real_photos.files(real_photos.OTHERS / folder)
    photos = [Photo(path, label_of(path)) for path in paths]
    if objects:
        cars = real_photos.vehicles(pile)[::OBJECT_EVERY]
        things = [p.path for p in cars] + real_photos.receipts(pile)
        photos += [Photo(path, "not-a-dog") for path in things]
    return photos


def data_digest() -> str:
    """Names and sizes of the pet photos and of every other vision set the breed model reads."""
    return real_photos.data_digest(PETS)
