"""Training's side of the image contract: image folders in, the shared pre-processing applied.

The contract itself (decode -> RGB -> bilinear resize -> [0, 1], CHW) is
:mod:`modelplane_api.images`, the module serving uses too, so there is no train/serve skew; a file
is read with ``open_file``, EXIF orientation applied as serving applies it. What is only
training's lives here: finding a user's image files, reproducibly ordered.
"""

from __future__ import annotations

from pathlib import Path

from modelplane_api.images import open_file, scale, to_tensor, to_uint8

__all__ = ["IMAGE_SUFFIXES", "image_files", "open_file", "scale", "to_tensor", "to_uint8"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def image_files(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted so training is reproducible."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
