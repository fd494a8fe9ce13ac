"""A real phone photo in every EXIF orientation a phone writes (3, 6, 8), for the image contract's
tests (tests/data/phone/PROVENANCE.md says where the photo comes from).

The upright truth is computed from the stored pixels with numpy's own rotation, never with the
decoder under test; each variant stores the upright picture turned the other way and writes the
Orientation tag that tells a viewer how to turn it back.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

PHOTO = Path(__file__).resolve().parent / "data" / "phone" / "page-exif6.jpg"
ORIENTATION = 0x0112
# Orientation -> quarter turns counter-clockwise (np.rot90's k) that a viewer applies to show the
# stored pixels upright: 3 = 180°, 6 = 90° clockwise, 8 = 90° counter-clockwise.
VIEWER_TURNS = {3: 2, 6: -1, 8: 1}
# Mean absolute difference per channel a JPEG re-encode at quality 95 leaves on this photo (the
# measured figure is about 1; a sideways or mirrored decode differs by more than 20).
JPEG_TOLERANCE = 3.0


def stored_pixels(data: bytes) -> NDArray[np.uint8]:
    """HWC RGB of the pixels as stored, with no orientation applied (Pillow's plain load)."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def upright() -> NDArray[np.uint8]:
    """What a viewer shows for the real photo: its stored pixels turned as its tag (6) says."""
    return np.ascontiguousarray(np.rot90(stored_pixels(PHOTO.read_bytes()), VIEWER_TURNS[6]))


def encode(pixels: NDArray[np.uint8], orientation: int | None = None) -> bytes:
    """JPEG (quality 95) of HWC pixels, with an EXIF Orientation tag when given."""
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


def with_orientation(orientation: int, pixels: NDArray[np.uint8] | None = None) -> bytes:
    """Upright pixels (default: the phone photo's) stored turned so that a viewer honouring
    ``orientation`` shows them upright again."""
    shown = upright() if pixels is None else pixels
    return encode(np.ascontiguousarray(np.rot90(shown, -VIEWER_TURNS[orientation])), orientation)


def mean_difference(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """Mean absolute difference of two same-shaped uint8 arrays (inf when the shapes differ)."""
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())
