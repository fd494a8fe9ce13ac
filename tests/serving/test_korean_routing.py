"""Script routing on real text through the served ``documents`` endpoint: printed Hangul lines of
real images (``models/data/korean-text``, both piles) reach Tesseract, real Latin lines (SROIE
receipts with ``MR D.I.Y. (M) SDN BHD``) stay with CTC, and the Hangul words are read.

Floors sit under what ``bench.korean_routing`` measured (docs/benchmarks.md): they catch a
routing rule or a Tesseract input change that sends Hangul back to CTC or Latin to Tesseract.
"""

from __future__ import annotations

from typing import Any

import pytest
from serving.calls import call
from serving.korean_text import Routing, hangul_tokens, has_hangul, images, routed
from serving.real_documents import DOCUMENTS
from serving.servers import Server

pytestmark = pytest.mark.timeout(600)
# Measured: develop 9/10 Hangul words, held-out 15/27 (handwriting-style lettering), the same as
# Tesseract alone on both; every printed Hangul line routed, no Latin line routed.
MIN_TOKENS = {"develop": 0.8, "heldout": 0.5}
DIY_RECEIPTS = ("sroie-377", "sroie-379", "sroie-447")  # develop receipts of MR D.I.Y.


@pytest.fixture(scope="module")
def korean_answers(examples_server: Server) -> dict[str, list[tuple[Any, list[dict[str, Any]]]]]:
    """pile -> (image, served lines) for every real Korean image, each read once."""
    return {
        pile: [
            (
                image,
                call(examples_server, "grpc", "documents", image=image.image.read_bytes())["lines"],
            )
            for image in images(pile)
        ]
        for pile in ("develop", "heldout")
    }


@pytest.mark.parametrize("pile", ["develop", "heldout"])
def test_every_printed_hangul_line_reaches_tesseract(
    korean_answers: dict[str, Any], pile: str
) -> None:
    routing = Routing()
    for image, served in korean_answers[pile]:
        routing.add_korean_image(image.label["lines"], served)
    assert routing.unmatched == 0
    assert routing.hangul_missed == 0 and routing.hangul_routed > 0
    assert routing.latin_routed == 0, vars(routing)  # Seoul, Pyeongyang, 56Km, 205Km stay CTC


def test_road_sign_seoul_is_read_as_hangul(korean_answers: dict[str, Any]) -> None:
    """The issue's sign: CTC reads 서울 as Latin gibberish or nothing; Tesseract answers Hangul."""
    (image, served) = next(a for a in korean_answers["develop"] if a[0].name == "easyocr-road-sign")
    seoul = next(line for line in image.label["lines"] if line["text"] == "서울")
    routing = Routing()
    routing.add_korean_image([seoul], served)
    assert routing.hangul_routed == 1
    texts = [line["text"] for line in served if routed(line)]
    assert any(has_hangul(text) and text.startswith("서") for text in texts), texts


@pytest.mark.parametrize("pile", ["develop", "heldout"])
def test_hangul_words_read(korean_answers: dict[str, Any], pile: str) -> None:
    found = total = 0
    for image, served in korean_answers[pile]:
        hit, n = hangul_tokens(image.label["lines"], served)
        found, total = found + hit, total + n
    assert total > 0 and found / total >= MIN_TOKENS[pile], (found, total)


@pytest.mark.parametrize("name", DIY_RECEIPTS)
def test_latin_receipt_lines_stay_with_ctc(examples_server: Server, name: str) -> None:
    image = DOCUMENTS / "sroie" / "develop" / f"{name}.jpg"
    lines = call(examples_server, "grpc", "documents", image=image.read_bytes())["lines"]
    diy = [line for line in lines if "D.I.Y" in line["text"].upper()]
    assert diy, [line["text"] for line in lines]
    assert not [line for line in lines if routed(line)], [
        (line["text"], line["recognizer"]) for line in lines if routed(line)
    ]
