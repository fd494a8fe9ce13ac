"""Labelled image sets: synthesised from generators or read from a user's image folder.

Both paths end in the same :class:`ImageSet` of uint8 CHW images that went through the serving
contract's resize (:mod:`modelplane_models.imaging`), so a model retrained on real photos is fed
exactly what serving will feed it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from . import imaging, log

Generator = Callable[[np.random.Generator], Image.Image]
_log = log.get("datasets")


@dataclass(frozen=True)
class ImageSet:
    """Images (N, 3, H, W) uint8 with an integer class per image, indexing ``classes``."""

    images: NDArray[np.uint8]
    labels: NDArray[np.int64]
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: NDArray[np.intp]) -> ImageSet:
        return ImageSet(self.images[index], self.labels[index], self.classes)

    def counts(self) -> dict[str, int]:
        return {c: int((self.labels == i).sum()) for i, c in enumerate(self.classes)}


def synthesize(
    generators: Mapping[str, Generator],
    counts: Mapping[str, int],
    size: tuple[int, int],
    seed: int,
    name: str,
) -> ImageSet:
    """Draw ``counts[c]`` images of every class ``c`` with one seeded generator, interleaved."""
    classes = tuple(generators)
    rng = np.random.default_rng(seed)
    order = np.concatenate([np.full(counts[c], i) for i, c in enumerate(classes)])
    rng.shuffle(order)
    images = np.empty((len(order), 3, size[1], size[0]), np.uint8)
    progress = log.Progress(_log, f"{name}.synthesize", len(order))
    for step, label in enumerate(order, start=1):
        images[step - 1] = imaging.to_uint8(generators[classes[label]](rng), size)
        progress.update(step)
    return ImageSet(images, order.astype(np.int64), classes)


def from_folder(root: Path, folders: Mapping[str, str], size: tuple[int, int]) -> ImageSet:
    """Read ``root/<folders[c]>/*`` as class ``c``; a class with no folder or no file raises."""
    images: list[NDArray[np.uint8]] = []
    labels: list[int] = []
    classes = tuple(folders)
    for index, cls in enumerate(classes):
        folder = root / folders[cls]
        files = imaging.image_files(folder) if folder.is_dir() else []
        if not files:
            raise FileNotFoundError(f"no images for class {cls!r} in {folder}")
        for path in files:
            images.append(imaging.to_uint8(imaging.open_file(path), size))
            labels.append(index)
    log.event(_log, "folder.loaded", root=str(root), images=len(labels))
    return ImageSet(np.stack(images), np.array(labels, np.int64), classes)


def split(data: ImageSet, fraction: float, seed: int) -> tuple[ImageSet, ImageSet]:
    """Stratified split: ``fraction`` of every class (at least one image) goes to the second set."""
    rng = np.random.default_rng(seed)
    held: list[NDArray[np.intp]] = []
    for index in range(len(data.classes)):
        members = rng.permutation(np.flatnonzero(data.labels == index))
        take = max(1, round(len(members) * fraction)) if len(members) > 1 else 0
        held.append(members[:take])
    second = np.concatenate(held) if held else np.array([], np.intp)
    first = np.setdiff1d(np.arange(len(data)), second)
    return data.subset(first), data.subset(second)
