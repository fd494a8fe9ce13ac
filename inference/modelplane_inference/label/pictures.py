"""What the label page shows of a photo: the image contract's decode, re-encoded as a JPEG.

The page shows what the model sees: the photo goes through :func:`modelplane_api.images.open_file`
(EXIF orientation applied, as serving and training apply it), not the browser's own reading of the
file. Review pages show ~24 photos at once, so thumbnails are small and made once, while the
model is asked (the bytes are already read then), and kept: the next page appears without a
decode on the key press.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

from modelplane_api import images
from PIL import Image

THUMB_PX = 192  # longest side of a review thumbnail (a 6 x 4 grid of them fits a laptop screen)
VIEW_PX = 1600  # longest side of the one-at-a-time view
QUALITY = 85
# What a photo the page cannot show raises (corrupt, truncated, a decompression bomb): its tile
# says so and the rest of the page works.
PICTURE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    Image.DecompressionBombError,
)


def render(path: Path, longest: int) -> bytes:
    """The photo upright, at most ``longest`` px on its longest side, as JPEG bytes."""
    image = images.open_file(path, size_hint=(longest, longest))
    image.thumbnail((longest, longest))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()


class Thumbnails:
    """Thumbnails by image name, made at most once each; safe across the server's threads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> bytes:
        """The thumbnail of ``root/name`` (:data:`PICTURE_ERRORS` pass through)."""
        with self._lock:
            cached = self._made.get(name)
        if cached is not None:
            return cached
        data = render(self.root / name, THUMB_PX)
        with self._lock:
            self._made[name] = data
        return data
