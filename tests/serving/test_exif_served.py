"""A phone photo stored sideways with its EXIF Orientation tag gets the answer of the upright photo,
through ``modelplane serve`` (the documents and car-claims endpoints), as a person sees it.

The photo is real (tests/data/phone). Each test also sends the same pixels with no tag, to show
the tag is what made the difference: the gate answers them differently, and the documents stage
has to turn them itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from phone import encode, stored_pixels, upright, with_orientation
from serving.calls import call
from serving.servers import Server

pytestmark = pytest.mark.timeout(600)


def _sideways() -> bytes:
    """The stored pixels of the EXIF-6 variant with no tag: what a decoder ignoring EXIF sees."""
    return encode(stored_pixels(with_orientation(6)))


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


def _gap(a: dict[str, Any], b: dict[str, Any]) -> float:
    """How far two gate answers are: the larger relative gap of distance and sharpness."""
    return max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-6) for k in ("distance", "sharpness"))


def test_car_claims_answers_the_tagged_photo_as_the_upright_one(examples_server: Server) -> None:
    plain = call(examples_server, "http", "car-claims", image=encode(upright()))
    tagged = call(examples_server, "http", "car-claims", image=with_orientation(6))
    sideways = call(examples_server, "http", "car-claims", image=_sideways())
    assert tagged["estimable"] == plain["estimable"] and tagged["reasons"] == plain["reasons"]
    assert _gap(tagged, plain) < 0.05, (tagged, plain)
    assert _gap(sideways, plain) > 5 * _gap(tagged, plain), (sideways, tagged, plain)
