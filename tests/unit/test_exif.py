"""EXIF orientation in the image contract: a real phone photo decodes upright, in serving's decoder
and training's folder reader alike (both are ``modelplane_api.images.decode``)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from modelplane_api import images
from modelplane_inference.stages.images import decode_image
from modelplane_models import datasets, imaging
from phone import (
    JPEG_TOLERANCE,
    PHOTO,
    encode,
    mean_difference,
    stored_pixels,
    upright,
    with_orientation,
)
from PIL import Image


def test_the_real_phone_photo_is_stored_sideways_and_decodes_upright() -> None:
    data = PHOTO.read_bytes()
    assert stored_pixels(data).shape == (768, 1024, 3)  # landscape pixels, tag 6
    decoded = np.asarray(images.decode(data))
    assert decoded.shape == (1024, 768, 3)
    assert np.array_equal(decoded, upright())  # the same pixels, turned: no re-encode


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_every_phone_orientation_decodes_to_the_upright_photo(orientation: int) -> None:
    data = with_orientation(orientation)
    truth = upright()
    assert mean_difference(stored_pixels(data), truth) > 5 * JPEG_TOLERANCE  # not upright as stored
    for decoded in (images.decode(data), decode_image(data)):
        assert mean_difference(np.asarray(decoded), truth) < JPEG_TOLERANCE


@pytest.mark.parametrize("orientation", [6, 8])
def test_the_draft_hint_is_for_the_upright_picture(orientation: int) -> None:
    """A 90° tag swaps width and height: the DCT scale must still cover the upright hint."""
    decoded = images.decode(with_orientation(orientation), size_hint=(150, 200))
    assert decoded.size == (
        192,
        256,
    )  # 1/4 of 768x1024; an unswapped hint (150 wide on 768) would give 1/2
    small = images.to_uint8(decoded, (96, 128))
    full = images.to_uint8(Image.fromarray(upright()), (96, 128))
    assert mean_difference(small, full) < JPEG_TOLERANCE


def test_training_reads_a_folder_photo_as_serving_does(tmp_path: Path) -> None:
    """``datasets.from_folder`` (what ``modelplane-models train --data`` reads) sees the tagged
    photo upright: the same tensor as the upright photo with no tag."""
    for name, data in (("tagged", with_orientation(6)), ("plain", encode(upright()))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "photo.jpg").write_bytes(data)
    folders = {"tagged": "tagged", "plain": "plain"}
    read = datasets.from_folder(tmp_path, folders, (96, 128))
    assert read.images.shape == (2, 3, 128, 96)
    assert mean_difference(read.images[0], read.images[1]) < JPEG_TOLERANCE
    assert np.array_equal(
        imaging.to_uint8(imaging.open_file(tmp_path / "tagged" / "photo.jpg"), (96, 128)),
        read.images[0],
    )


def test_a_broken_exif_block_keeps_the_photo() -> None:
    """An Orientation outside 1-8, or EXIF bytes that do not parse, leave the pixels as stored:
    the photo is still a photo."""
    pixels = stored_pixels(PHOTO.read_bytes())[:64, :96]
    odd = encode(pixels, orientation=9)
    assert np.asarray(images.decode(odd)).shape == (64, 96, 3)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", exif=b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff")
    assert np.asarray(images.decode(buffer.getvalue())).shape == (64, 96, 3)


def test_the_tag_the_decoder_applies_is_read_from_the_header() -> None:
    """What the documents answer reports as ``exif_orientation``: the tag, 1 when none."""
    assert [images.exif_orientation(with_orientation(o)) for o in (3, 6, 8)] == [3, 6, 8]
    assert images.exif_orientation(PHOTO.read_bytes()) == 6
    assert images.exif_orientation(encode(upright())) == 1
    assert images.exif_orientation(b"not an image") == 1
