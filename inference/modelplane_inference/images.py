"""Decoding untrusted image bytes into model tensors.

Phones send JPEG/PNG of any size; a bad upload must become a 400 that names the problem, never a
crash or an out-of-memory. Pillow's own decompression-bomb check is used for the pixel limit,
and its ``verify``/``load`` for truncation.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 40_000_000  # a 48 MP phone photo fits after its 4:3 crop; a bomb does not
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")


class ImageError(ValueError):
    """The bytes are not a usable image; the message names the problem for the client."""


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode encoded bytes to an RGB image, rejecting empty, non-image, truncated, huge input."""
    if not data:
        raise ImageError("image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(
                    f"image too large: {width}x{height} = {width * height} pixels, "
                    f"limit {max_pixels}"
                )
            image.load()
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError(f"not an image: cannot identify image format ({len(data)} bytes)") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"image too large: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"image truncated or corrupt: {exc}") from exc
    if image.width < 1 or image.height < 1:
        raise ImageError("image has no pixels")
    return image.convert("RGB")


def to_tensor(image: Image.Image, height: int, width: int) -> np.ndarray:
    """The contract of every image model: FP32 CHW RGB in [0, 1], bilinear resize to (H, W)."""
    resized = image.resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(resized, dtype=np.float32) / 255.0
    return np.ascontiguousarray(array.transpose(2, 0, 1))


def to_bgr_array(image: Image.Image) -> np.ndarray:
    """HWC uint8 BGR, the layout the PP-OCR models (trained through OpenCV) were trained on."""
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[:, :, ::-1])
