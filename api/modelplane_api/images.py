"""The image contract of every image model: decode -> RGB -> bilinear resize -> FP32 CHW in [0, 1].

A model only works if it is fed what it was trained on. Training (``modelplane_models``) runs every
synthetic or user image through these functions, and serving (``modelplane_inference``) feeds
uploads through the same ones, so there is no train/serve skew: Pillow decodes, ``convert("RGB")``,
``resize((W, H), BILINEAR)``, divide by 255 into float32 CHW. Normalisation (mean/std) lives inside
each ONNX graph, never here.

Decoding applies the EXIF Orientation tag (``ImageOps.exif_transpose``): a phone stores a portrait
shot as landscape pixels plus "rotate 90°", every viewer shows it upright, and the model must see
what the person saw. :func:`decode` is the one decoder of the project: serving's uploads
(``modelplane_inference.stages.images``), the documents stages' pages, the labelling page's
thumbnails and training's image folders (:func:`open_file`) all go through it.

Serving may decode a JPEG at a reduced DCT scale first (Pillow's ``draft``, ``size_hint``): the
resize that follows is the same, and docs/benchmarks.md measures what it changes. Only numpy and
Pillow are needed; the operator never imports this module.
"""

from __future__ import annotations

import contextlib
import io
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

Size = tuple[int, int]  # (width, height), as Pillow counts
ORIENTATION = 0x0112  # the EXIF tag; 1 = as stored, 5-8 swap width and height
# What Pillow raises on a malformed EXIF block: the pixels are still good, so they are kept as
# stored rather than refusing the photo.
EXIF_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    struct.error,
)


def decode(
    data: bytes,
    size_hint: Size | None = None,
    formats: tuple[str, ...] | None = None,
    check_size: Callable[[Size], None] | None = None,
) -> Image.Image:
    """Encoded bytes (PNG/JPEG/...) -> a loaded RGB image, upright as its EXIF orientation says.

    ``check_size`` sees the header's (width, height) before any pixel is decoded (the place to
    refuse decompression bombs). ``size_hint`` (upright width, height): a JPEG is decoded at the
    smallest DCT scale (1/2, 1/4, 1/8) that still covers it; other formats ignore it. Pillow's
    exceptions pass through.
    """
    image = Image.open(io.BytesIO(data), formats=formats)
    if check_size is not None:
        check_size(image.size)
    orientation = _orientation(image)
    if size_hint is not None:
        # The hint is for the upright picture; the DCT scale applies to the stored one.
        stored = size_hint[::-1] if orientation in (5, 6, 7, 8) else size_hint
        image.draft("RGB", (stored[0], stored[1]))
    image.load()
    if orientation != 1:
        # Turns the pixels first, then rewrites the EXIF block, which may be malformed.
        with contextlib.suppress(*EXIF_ERRORS):
            ImageOps.exif_transpose(image, in_place=True)
    return to_rgb(image)


def open_file(path: Path, size_hint: Size | None = None) -> Image.Image:
    """A local image file through :func:`decode` (training's folders, the labelling page)."""
    return decode(path.read_bytes(), size_hint)


def exif_orientation(data: bytes) -> int:
    """The EXIF Orientation (1-8) that :func:`decode` applies to these bytes (1: none), read from
    the header alone: the documents answer says whether the decoder turned the page."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return _orientation(image)
    except EXIF_ERRORS:  # not an image: UnidentifiedImageError is an OSError
        return 1


def _orientation(image: Image.Image) -> int:
    """The EXIF Orientation (1-8) of an opened image; 1 when absent or unreadable."""
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except EXIF_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def to_rgb(image: Image.Image) -> Image.Image:
    """The image in RGB (no copy when it already is)."""
    return image if image.mode == "RGB" else image.convert("RGB")


def to_uint8(image: Image.Image, size: Size) -> NDArray[np.uint8]:
    """RGB, bilinear resize to ``size`` = (W, H); CHW uint8 (4x smaller to keep in memory)."""
    resized = to_rgb(image).resize(size, Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(resized, dtype=np.uint8).transpose(2, 0, 1))


def scale(pixels: NDArray[np.uint8]) -> NDArray[np.float32]:
    """uint8 pixels -> float32 in [0, 1], the model input's range."""
    scaled: NDArray[np.float32] = pixels.astype(np.float32) / np.float32(255.0)
    return scaled


def to_tensor(image: Image.Image, size: Size) -> NDArray[np.float32]:
    """The exact model input of one image: CHW float32 RGB in [0, 1], resized to (W, H)."""
    return scale(to_uint8(image, size))
