"""The image pre-processing contract shared by training and serving.

A model only works if it is fed what it was trained on. Serving decodes with Pillow,
``convert("RGB")``, ``resize((W, H), BILINEAR)`` and divides by 255 into FP32 NCHW; training runs
every synthetic or user image through exactly these functions, so there is no train/serve skew.
Normalisation (mean/std) lives inside each ONNX graph, never here.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def to_uint8(image: Image.Image, size: tuple[int, int]) -> NDArray[np.uint8]:
    """RGB, bilinear resize to ``size`` = (W, H); CHW uint8 (4x smaller to keep in memory)."""
    resized = image.convert("RGB").resize(size, Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(resized, dtype=np.uint8).transpose(2, 0, 1))


def to_tensor(image: Image.Image, size: tuple[int, int]) -> NDArray[np.float32]:
    """:func:`to_uint8` scaled to [0, 1]: the exact model input; CHW float32."""
    return to_uint8(image, size).astype(np.float32) / 255.0


def decode(data: bytes, size: tuple[int, int]) -> NDArray[np.float32]:
    """Encoded image bytes (PNG/JPEG/...) -> CHW float32, as the serving side does it."""
    with Image.open(io.BytesIO(data)) as image:
        return to_tensor(image, size)


def load(path: Path, size: tuple[int, int]) -> NDArray[np.float32]:
    """An image file -> CHW float32."""
    return decode(path.read_bytes(), size)


def batch(images: Iterable[Image.Image], size: tuple[int, int]) -> NDArray[np.float32]:
    """Many images -> NCHW float32."""
    return np.stack([to_tensor(image, size) for image in images])


def image_files(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted so training is reproducible."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
