"""The real photo sets under ``models/data/``: train and held-out piles, and the gate's derivatives.

Every real set has two piles. ``train`` trains and (a slice of it) calibrates; ``heldout`` is
only ever scored. :func:`open_photo` is the one door training reads a committed photo through:
it refuses a file whose sha256 is listed in ``models/data/HELDOUT.sha256`` unless the caller
says it is evaluating, so a build that tunes on held-out photos fails instead of scoring well.

The quality gate's reasons that no data set labels are derived from the real photos by fixed,
seeded rules (stated in the model card; the seed is the source file's hash, so a photo's
derivative is the same in every build, test and benchmark):

- ``blurred``: Gaussian defocus (radius 2.5-4% of the long side) or linear motion blur
  (a streak of 8-14% of the long side at a random angle), half each;
- ``partial``: a window of 30-45% of the width and of the height (9-20% of the frame), at a
  random place, scaled back to the photo's size: too little of the car to assess.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from . import imaging

DATA = Path(__file__).resolve().parents[1] / "data"
HELDOUT_LIST = DATA / "HELDOUT.sha256"
VEHICLES = DATA / "vehicle-damage"
OTHERS = DATA / "not-a-car"
RECEIPTS = DATA / "documents" / "sroie"
VISION_RECEIPTS = RECEIPTS / "vision-receipts.txt"
SEVERITIES = ("minor", "moderate", "severe")
PILES = {"train": ("train", "develop"), "heldout": ("heldout", "heldout")}


class HeldOutError(RuntimeError):
    """Training tried to open a held-out photo."""


@cache
def heldout_hashes() -> frozenset[str]:
    lines = HELDOUT_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.split()[0] for line in lines if line.strip())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def open_photo(path: Path, evaluating: bool = False) -> Image.Image:
    """Decode a committed photo through the image contract; held-out ones only to evaluate."""
    if not evaluating and sha256(path) in heldout_hashes():
        raise HeldOutError(f"{path} is held out (models/data/HELDOUT.sha256): never train on it")
    return imaging.open_file(path)


@dataclass(frozen=True)
class Photo:
    """One labelled real photo file and, for a derivative, the rule applied to it."""

    path: Path
    label: str
    derive: str = ""  # "", "blurred" or "partial"

    def image(self, evaluating: bool = False) -> Image.Image:
        image = open_photo(self.path, evaluating)
        if self.derive == "blurred":
            return blur(image, rng_for(self.path, self.derive))
        if self.derive == "partial":
            return crop_partial(image, rng_for(self.path, self.derive))
        return image


def rng_for(path: Path, rule: str) -> np.random.Generator:
    digest = hashlib.sha256(path.name.encode() + rule.encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def blur(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Real-world blur on a real photo: defocus (Gaussian) or camera shake (linear motion)."""
    long_side = max(image.size)
    if rng.random() < 0.5:
        return image.filter(ImageFilter.GaussianBlur(long_side * rng.uniform(0.025, 0.04)))
    length = long_side * rng.uniform(0.08, 0.14)
    angle = rng.uniform(0.0, np.pi)
    steps = max(2, int(length))
    pixels = np.zeros((image.size[1], image.size[0], 3), np.float64)
    for t in np.linspace(-length / 2, length / 2, steps):
        dx, dy = t * np.cos(angle), t * np.sin(angle)
        moved = image.transform(
            image.size, Image.Transform.AFFINE, (1, 0, dx, 0, 1, dy), Image.Resampling.BILINEAR
        )
        pixels += np.asarray(moved, np.float64)
    # edges: the shifted copies leave black borders; keep the original there
    out = (pixels / steps).clip(0, 255).astype(np.uint8)
    margin = int(np.ceil(length / 2)) + 1
    base = np.asarray(image).copy()
    base[margin:-margin, margin:-margin] = out[margin:-margin, margin:-margin]
    return Image.fromarray(base)


def crop_partial(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A window of 30-45% of each side (9-20% of the frame), scaled back up."""
    width, height = image.size
    w, h = int(width * rng.uniform(0.30, 0.45)), int(height * rng.uniform(0.30, 0.45))
    x, y = int(rng.uniform(0, width - w)), int(rng.uniform(0, height - h))
    return image.crop((x, y, x + w, y + h)).resize((width, height), Image.Resampling.BILINEAR)


def data_digest(*extra: Path) -> str:
    """Names and sizes of every committed car-model photo (and of the ``extra`` sets under
    ``models/data``): a changed set rebuilds the models that read it."""
    digest = hashlib.sha256()
    paths = [*sorted(VEHICLES.rglob("*.jpg")), *sorted(OTHERS.rglob("*.jpg"))]
    paths += [*receipts("train"), *receipts("heldout")]
    paths += [path for root in extra for path in sorted(root.rglob("*.jpg"))]
    for path in paths:
        digest.update(f"{path.relative_to(DATA)}:{path.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def receipts(pile: str) -> list[Path]:
    """The scanned receipts of a pile that the car and pet models see as "not a car/dog".

    A fixed list (``sroie/vision-receipts.txt``), not the folder: the documents benches add
    receipts to the same piles, and those must not change, or rebuild, the vision models.
    """
    prefix = f"{PILES[pile][1]}/"
    lines = VISION_RECEIPTS.read_text(encoding="utf-8").splitlines()
    return [RECEIPTS / line for line in lines if line.startswith(prefix)]


def files(folder: Path) -> list[Path]:
    return imaging.image_files(folder) if folder.is_dir() else []


def vehicles(pile: str) -> list[Photo]:
    """VDS photos of a pile labelled with their severity."""
    folder = PILES[pile][0]
    return [
        Photo(path, severity)
        for severity in SEVERITIES
        for path in files(VEHICLES / folder / severity)
    ]


def gate_photos(pile: str) -> list[Photo]:
    """The gate's real photos of a pile, labelled ``accept`` or a reason.

    Every third vehicle photo (in file order) is also blurred, every third (offset by one)
    also cropped; the receipts of the documents set and the real not-a-car photos are
    ``not-a-car``.
    """
    photos: list[Photo] = []
    for index, photo in enumerate(vehicles(pile)):
        label = "too-damaged" if photo.label == "severe" else "accept"
        photos.append(Photo(photo.path, label))
        if index % 3 == 0:
            photos.append(Photo(photo.path, "blurred", "blurred"))
        elif index % 3 == 1:
            photos.append(Photo(photo.path, "partial", "partial"))
    others = files(OTHERS / PILES[pile][0]) + receipts(pile)
    photos += [Photo(path, "not-a-car") for path in others]
    return photos


def pixels(photos: list[Photo], size: tuple[int, int], evaluating: bool) -> np.ndarray:
    """uint8 NCHW through the contract's resize, one row per photo."""
    return np.stack([imaging.to_uint8(p.image(evaluating), size) for p in photos])


def iter_heldout_files() -> Iterator[Path]:
    """Every committed held-out file of the vision sets (for the guard's test)."""
    for root in (VEHICLES, OTHERS, DATA / "pets"):
        yield from sorted(root.glob("heldout/**/*.jpg"))
