"""A phone photo stored sideways with its EXIF Orientation tag gets the answer of the upright photo,
through ``modelplane serve`` (the documents and car-claims endpoints), as a person sees it.

The photo is real (tests/data/phone); without the tag honoured the same pixels read sideways,
so each test also shows the sideways bytes without a tag give a different answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
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
    plain = call(examples_server, "grpc", "documents", image=encode(upright()))
    words = _text(plain).split()
    assert len(words) > 40 and "indicatif" in _text(plain), _text(plain)
    for orientation in (3, 6, 8):
        tagged = call(examples_server, "grpc", "documents", image=with_orientation(orientation))
        same = set(_text(tagged).split()) & set(words)
        assert len(same) >= 0.9 * len(set(words)), (orientation, _text(tagged))
    sideways = set(_text(call(examples_server, "grpc", "documents", image=_sideways())).split())
    assert len(sideways & set(words)) < 0.5 * len(set(words))


def test_car_claims_answers_the_tagged_photo_as_the_upright_one(examples_server: Server) -> None:
    plain = call(examples_server, "http", "car-claims", image=encode(upright()))
    tagged = call(examples_server, "http", "car-claims", image=with_orientation(6))
    sideways = call(examples_server, "http", "car-claims", image=_sideways())
    assert tagged["estimable"] == plain["estimable"] and tagged["reasons"] == plain["reasons"]
    near = np.isclose(tagged["distance"], plain["distance"], rtol=0.02, atol=1e-3)
    assert near, (tagged, plain)
    gap = abs(sideways["distance"] - plain["distance"])
    assert gap > 5 * abs(tagged["distance"] - plain["distance"]), (sideways, tagged, plain)
