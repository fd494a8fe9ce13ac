"""Decoding untrusted image bytes into model tensors.

Phones send JPEG/PNG of any size; a bad upload must become a 400 that names the problem, never a
crash or an out-of-memory. The declared size is checked against the pixel limit before any pixel
is decoded (decompression bombs); ``load`` finds truncation. ``ImageError`` is the only exception
that leaves ``decode_image``. The pre-processing itself (RGB, resize, [0, 1]) is the contract
shared with training, :mod:`modelplane_api.images`; this module adds what untrusted input needs.
"""

from __future__ import annotations

import numpy as np
from modelplane_api import images as contract
from PIL import Image, UnidentifiedImageError

from modelplane_inference.errors import ImageError
from modelplane_inference.serving import limits

DEFAULT_MAX_PIXELS = limits.Limits().max_image_pixels
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
# What Pillow's decoders raise on corrupt or truncated input (found by fuzzing them, see
# tests/reliability/test_image_fuzz.py): each means "this upload is broken", a 400.
DECODER_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    SyntaxError,
    ValueError,
)


def decode_image(
    data: bytes, max_pixels: int | None = None, size_hint: tuple[int, int] | None = None
) -> Image.Image:
    """Decode encoded bytes to an RGB image, rejecting empty, non-image, truncated, huge input.

    The pixel limit is the smaller of ``max_pixels`` (a deployment's ``maxPixels``) and the
    process's ``--max-image-pixels``: a manifest may lower the ceiling, never raise it. The size
    is read from the header by ``Image.open`` and checked before ``load`` decodes any pixel.

    ``size_hint`` (width, height): a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8)
    that still covers it (Pillow's ``draft``); other formats ignore it. Decoding and resizing a
    phone photo for a 128x128 model was the gate's largest cost (docs/benchmarks.md).
    """
    if not data:
        raise ImageError("image is empty (0 bytes)")
    ceiling = limits.active().max_image_pixels
    limit = min(max_pixels, ceiling) if max_pixels else ceiling
    try:
        rgb = contract.decode(data, size_hint, FORMATS, lambda size: _check_size(size, limit))
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError(f"not an image: cannot identify image format ({len(data)} bytes)") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image too large: {exc}") from exc
    except DECODER_ERRORS as exc:
        raise ImageError(f"image truncated or corrupt: {type(exc).__name__}: {exc}") from exc
    return rgb


def _check_size(size: tuple[int, int], limit: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageError(f"image has no pixels ({width}x{height})")
    if width * height > limit:
        raise ImageError(
            f"image too large: {width}x{height} = {width * height} pixels, limit {limit}"
        )


def to_tensor(image: Image.Image, height: int, width: int) -> np.ndarray:
    """The contract of every image model (:func:`modelplane_api.images.to_tensor`): FP32 CHW RGB
    in [0, 1], bilinear resize to (H, W)."""
    return contract.to_tensor(image, (width, height))


def to_bgr_array(image: Image.Image) -> np.ndarray:
    """HWC uint8 BGR, the layout the PP-OCR models (trained through OpenCV) were trained on."""
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[:, :, ::-1])
