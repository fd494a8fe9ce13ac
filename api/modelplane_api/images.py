"""The image contract of every image model: decode -> RGB -> bilinear resize -> FP32 CHW in [0, 1].

A model only works if it is fed what it was trained on. Training (``modelplane_models``) runs every
synthetic or user image through these functions, and serving (``modelplane_inference``) feeds
uploads through the same ones, so there is no train/serve skew: Pillow decodes, ``convert("RGB")``,
``resize((W, H), BILINEAR)``, divide by 255 into float32 CHW. Normalisation (mean/std) lives inside
each ONNX graph, never here.

Serving may decode a JPEG at a reduced DCT scale first (Pillow's ``draft``, ``size_hint``): the
resize that follows is the same, and docs/benchmarks.md measures what it changes. Only numpy and
Pillow are needed; the operator never imports this module.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from PIL import Image

Size = tuple[int, int]  # (width, height), as Pillow counts


def decode(
    data: bytes,
    size_hint: Size | None = None,
    formats: tuple[str, ...] | None = None,
    check_size: Callable[[Size], None] | None = None,
) -> Image.Image:
    """Encoded bytes (PNG/JPEG/...) -> a loaded RGB image.

    ``check_size`` sees the header's (width, height) before any pixel is decoded (the place to
    refuse decompression bombs). ``size_hint``: a JPEG is decoded at the smallest DCT scale
    (1/2, 1/4, 1/8) that still covers it; other formats ignore it. Pillow's exceptions pass through.
    """
    image = Image.open(io.BytesIO(data), formats=formats)
    if check_size is not None:
        check_size(image.size)
    if size_hint is not None:
        image.draft("RGB", size_hint)
    image.load()
    return to_rgb(image)


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
