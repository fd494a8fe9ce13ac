"""A phone photo stored sideways with its EXIF Orientation tag gets the answer of the upright photo,
through ``modelplane serve`` (the documents and car-claims endpoints), as a person sees it.

The photo is real (tests/data/phone). Each test also sends the same pixels with no tag, to show
the tag is what made the difference: the gate answers them differently, and the documents stage
has to turn them itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from phone import PHOTO, encode, stored_pixels, upright, with_orientation
from serving.calls import call
from serving.servers import ROOT, Server

pytestmark = pytest.mark.timeout(600)
# A real held-out photo (models/data/vehicle-damage/PROVENANCE.md): a test may send it, never train.
CAR = ROOT / "models/data/vehicle-damage/heldout/moderate/val_moderate_050.jpg"


def _sideways(pixels: NDArray[np.uint8] | None = None) -> bytes:
    """The stored pixels of the EXIF-6 variant with no tag: what a decoder ignoring EXIF sees."""
    return encode(stored_pixels(with_orientation(6, pixels)))


def _text(answer: dict[str, Any]) -> str:
    return " ".join(line["text"] for line in answer["lines"])


def test_documents_reads_the_tagged_photo_as_the_upright_one(examples_server: Server) -> None:
    """The tagged photo is read as the upright one, and its detection stage finds no turn left to
    make (``orientation`` 0): the decoder turned it. The same pixels with no tag are turned by
    the detection stage's own text-direction check instead (``documents/orientation.py``)."""
    plain = call(examples_server, "grpc", "documents", image=encode(upright()))
    words = set(_text(plain).split())
    assert len(words) > 40 and "indicatif" in _text(plain), _text(plain)
    for orientation in (3, 6, 8):
        data = with_orientation(orientation)
        tagged = call(examples_server, "grpc", "documents", image=data)
        same = set(_text(tagged).split()) & words
        assert len(same) >= 0.9 * len(words), (orientation, _text(tagged))
        detected = call(examples_server, "grpc", "doc-text-detection", image=data)
        assert detected["orientation"] == 0, (orientation, detected["orientation"])
    sideways = call(examples_server, "grpc", "doc-text-detection", image=_sideways())
    assert sideways["orientation"] != 0


def _scores(answer: dict[str, Any]) -> dict[str, float]:
    """The answer's orientation-sensitive scores: the gate's embedding distance and, for an
    estimable photo, the severity probabilities (sharpness, a Laplacian variance, is not)."""
    return {"distance": answer["distance"], **answer.get("probabilities", {})}


def _gap(a: dict[str, Any], b: dict[str, Any]) -> float:
    """How far two car-claims answers are: the largest absolute gap of their scores."""
    sa, sb = _scores(a), _scores(b)
    assert sa.keys() == sb.keys(), (a, b)
    return max(abs(sa[k] - sb[k]) for k in sa)


@pytest.mark.parametrize("photo", [CAR, PHOTO], ids=["real-car", "phone-page"])
def test_car_claims_answers_the_tagged_photo_as_the_upright_one(
    examples_server: Server, photo: Path
) -> None:
    """A real damaged-car photo (VDS-2.5k held-out, upright) and the phone's page photo, each
    stored sideways with Orientation 6: the gate's answer is the upright photo's."""
    pixels = upright() if photo == PHOTO else stored_pixels(photo.read_bytes())
    plain = call(examples_server, "http", "car-claims", image=encode(pixels))
    tagged = call(examples_server, "http", "car-claims", image=with_orientation(6, pixels))
    sideways = call(examples_server, "http", "car-claims", image=_sideways(pixels))
    assert tagged["estimable"] == plain["estimable"] and tagged["reasons"] == plain["reasons"]
    # The tagged photo's pixels went through JPEG turned (other 8x8 blocks), so its scores move
    # by that noise only (measured 0.014 car, 0.062 page); the sideways photo's move 3.6-36x more.
    tagged_gap, sideways_gap = _gap(tagged, plain), _gap(sideways, plain)
    assert tagged_gap < 0.1, (tagged, plain)
    assert sideways_gap > 3 * tagged_gap, (sideways_gap, tagged_gap, sideways, tagged, plain)
