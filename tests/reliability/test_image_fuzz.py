"""Image decoding under hostile bytes: only ``ImageError`` may escape ``decode_image``.

Every upload passes through ``decode_image`` first, in a worker thread of the server; any other
exception there would be a 500 instead of a 400 naming the problem. Inputs: random bytes, valid
images of every accepted format with bytes flipped, cut or inserted, and headers that declare
huge sizes over a few bytes of data (decompression bombs), which must be refused before decoding.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from modelplane_inference.serving import limits
from modelplane_inference.stages.images import FORMATS, ImageError, decode_image
from PIL import Image

LIMIT = 1_000_000  # a small pixel limit keeps the fuzzing cheap; the check is the same
# Pillow warns between one and two times the limit; decode_image refuses those sizes itself.
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


@pytest.fixture(autouse=True, scope="module")
def pixel_ceiling() -> Iterator[None]:
    """The process-wide ``--max-image-pixels`` as a server installs it, restored afterwards."""
    before = limits.active()
    limits.install_limits(limits.Limits(max_image_pixels=LIMIT))
    yield
    limits.install_limits(before)


def _encode(fmt: str, mode: str = "RGB") -> bytes:
    pixels = np.random.default_rng(7).integers(0, 256, (13, 17, 3), dtype=np.uint8)
    image = Image.fromarray(pixels).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


SEEDS = [_encode(fmt) for fmt in FORMATS] + [_encode("PNG", "P"), _encode("PNG", "LA")]


def _decodes_or_refuses(data: bytes) -> None:
    """The property: a usable RGB image within the limit, or ``ImageError`` (nothing else)."""
    try:
        image = decode_image(data)
    except ImageError as exc:
        assert str(exc), "an ImageError must say what is wrong"
        return
    assert image.mode == "RGB"
    assert 0 < image.width * image.height <= LIMIT


@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _decodes_or_refuses(data)


@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    st.integers(0, 10_000),
)
def test_flipped_bytes_and_cuts(seed: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(seed)
    for position, value in flips:
        data[position % len(data)] = value
    _decodes_or_refuses(bytes(data[: max(1, len(data) - cut % len(data))]))


@given(st.sampled_from(SEEDS), st.integers(0, 10_000), st.binary(min_size=1, max_size=64))
def test_inserted_bytes(seed: bytes, position: int, extra: bytes) -> None:
    at = position % len(seed)
    _decodes_or_refuses(seed[:at] + extra + seed[at:])


def _png_header(width: int, height: int, color_type: int = 2) -> bytes:
    """A PNG whose IHDR (with a valid CRC) declares ``width`` x ``height`` over one tiny IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _gif_header(width: int, height: int) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0, 0, 0)
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return b"GIF89a" + screen + descriptor + b"\x02\x02\x44\x01\x00;"


def _bmp_header(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54 + 16, 0, 0, 54) + info + b"\0" * 16


@given(
    st.sampled_from([_png_header, _gif_header, _bmp_header]),
    st.integers(1, 65_535),
    st.integers(1, 65_535),
)
def test_declared_sizes(header: object, width: int, height: int) -> None:
    """Declared sizes from 1 to 65,535 a side over ~1 KB of data: refused above the limit before
    decoding (a 65,535^2 RGB image would need 12 GiB), otherwise decoded or refused as corrupt."""
    data = header(width, height)  # type: ignore[operator]
    if width * height > LIMIT:
        with pytest.raises(ImageError, match="too large"):
            decode_image(data)
    else:
        _decodes_or_refuses(data)


@pytest.mark.parametrize("side", [2**16 - 1, 2**24, 2**31 - 1])
def test_png_bomb_refused_before_decoding(side: int) -> None:
    """IHDR sizes up to PNG's maximum: the refusal names the size and the limit."""
    with pytest.raises(ImageError, match=r"too large") as info:
        decode_image(_png_header(side, side))
    assert str(LIMIT) in str(info.value) or "pixels" in str(info.value)


def test_every_seed_decodes() -> None:
    """The seeds themselves are valid, so mutations start from images Pillow accepts."""
    for seed in SEEDS:
        assert decode_image(seed).size == (17, 13)


def test_manifest_may_lower_the_ceiling_never_raise_it() -> None:
    """A deployment's ``maxPixels`` applies below ``--max-image-pixels``, not above it."""
    data = _encode("PNG")  # 17 x 13 = 221 pixels
    with pytest.raises(ImageError, match="limit 100"):
        decode_image(data, max_pixels=100)
    big = _png_header(1001, 1000)
    with pytest.raises(ImageError, match=f"limit {LIMIT}"):
        decode_image(big, max_pixels=LIMIT * 100)
