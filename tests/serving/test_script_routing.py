"""Per-line routing rules on drawn lines (no model): which script a CTC answer means, where the
Hangul spans of a mixed line are, how the parts are put back together, word spaces restored.

Emissions are placed where the generator drew each character (Pillow's glyph boxes), the way
the CTC model emits near a glyph's centre."""

from __future__ import annotations

import numpy as np
import pytest
from modelplane_inference.documents import script_routing
from modelplane_inference.documents.parsing.values import parse_date
from modelplane_inference.documents.script_routing import CtcRead
from modelplane_inference.documents.tesseract import dark_on_light
from PIL import Image, ImageDraw, ImageFont
from serving.servers import ROOT

FONT = ImageFont.truetype("/usr/share/fonts/truetype/nanum/NanumGothic.ttf", 28)


def drawn(text: str) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """A BGR line crop of ``text`` and (centre x, character) of every non-space character."""
    # As tall as a detection box around 28 px text (29-31 px measured on rendered pages).
    image = Image.new("RGB", (int(FONT.getlength(text)) + 20, 32), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 1), text, font=FONT, fill="black")
    centres = []
    for index, char in enumerate(text):
        if char != " ":
            left = 10 + FONT.getlength(text[:index])
            centres.append((left + FONT.getlength(char) / 2, char))
    return np.asarray(image)[:, :, ::-1].copy(), centres


@pytest.mark.parametrize(
    ("text", "score", "unread", "script"),
    [
        ("Date: 2019-05-11", 0.99, 0.0, "latin"),
        ("", 0.0, 1.0, "hangul"),
        ("召", 0.55, 0.7, "hangul"),  # a Chinese look-alike, no Latin at all
        (": 2019.05.11", 0.99, 0.43, "mixed"),  # the label's Hangul was silently dropped
        ("24,500 是", 0.89, 0.0, "mixed"),  # 원 read as a look-alike
        ("Total: 1,000", 0.5, 0.0, "mixed"),  # unsure: Tesseract reads it
        ("\uff08GST Reg.No \uff1a000416321536)", 0.917, 0.0, "latin"),  # full-width (): SROIE
    ],
)
def test_script_of(text: str, score: float, unread: float, script: str) -> None:
    assert script_routing.script_of(text, score, unread) == script


def test_hangul_span_of_a_mixed_line_and_splice() -> None:
    crop, chars = drawn("진료일자: 2019.05.11")
    latin = [(x, c) for x, c in chars if not ("\uac00" <= c <= "\ud7a3")]
    spans = script_routing.hangul_spans(crop, latin)
    assert len(spans) == 1
    start, end = spans[0]
    hangul_x = [x for x, c in chars if "\uac00" <= c <= "\ud7a3"]
    assert start <= min(hangul_x) and max(hangul_x) <= end
    assert end < min(x for x, c in latin if c.isdigit())
    assert script_routing.splice(latin, [(start, end, "진료일자")]) == "진료일자 :2019.05.11"
    # A digit's sliver inside the padded span, read as a closing mark, is dropped.
    assert script_routing.splice(latin, [(start, end, ")진료일자")]) == "진료일자 :2019.05.11"


def test_full_width_marks_of_a_mixed_line_are_kept_as_ascii() -> None:
    """PP-OCR emitted the real bill page's ``발의연월일 : 2023. 11. 9.`` as ``:2023.11.9.`` with a
    full-width colon and stops (U+FF1A, U+FF0E) beside the Hangul label; dropped as CJK, the
    date read ``2023119.``."""
    crop, chars = drawn("발의연월일 : 2023. 11. 9.")
    full_width = {":": "\uff1a", ".": "\uff0e"}
    emitted = [(x, full_width.get(c, c)) for x, c in chars if not ("\uac00" <= c <= "\ud7a3")]
    emitted[-1] = (emitted[-1][0], ".")  # the last dot came back as ASCII, as on the page
    (span,) = script_routing.hangul_spans(crop, emitted)  # the label, with its colon
    spliced = script_routing.splice(emitted, [(*span, "발의연월일 :")])
    assert spliced == "발의연월일 : 2023.11.9."
    assert parse_date(spliced) == "2023-11-09"


def test_unread_ink_counts_what_no_emission_explains() -> None:
    crop, chars = drawn("환자성명: JOHN")
    stride = 8.0
    steps = np.zeros(int(crop.shape[1] * 48 / crop.shape[0] / stride) + 1, np.int64)
    for x, char in chars:
        if char.isascii():
            steps[int(x * 48 / crop.shape[0] / stride)] = 1  # any non-blank class
    unread = script_routing.unread_ink(crop, steps, stride)
    assert 0.3 < unread < 0.9
    steps[:] = 1
    assert script_routing.unread_ink(crop, steps, stride) == 0.0


def test_respace_adds_word_spaces_but_not_inside_numbers() -> None:
    crop, chars = drawn("EMMA WILSON 11,100")
    read = CtcRead("EMMAWILSON11,100", 0.99, 0.0, tuple(chars))
    assert script_routing.respace(crop, read) == "EMMA WILSON11,100"


def test_light_ink_on_a_dark_ground_is_inverted_for_tesseract() -> None:
    """The real road sign's 서울 (white on green) reaches Tesseract dark on light; a crop that
    already is dark on light (drawn text) is passed unchanged."""
    sign = Image.open(ROOT / "models/data/korean-text/develop/easyocr-road-sign.png")
    crop = np.asarray(sign.convert("RGB").crop((133, 82, 289, 179)))[:, :, ::-1]
    turned = dark_on_light(crop)
    assert turned.mean() > 128 > crop.mean()
    drawn_crop, _ = drawn("진료일자: 2019.05.11")
    assert np.array_equal(dark_on_light(drawn_crop), drawn_crop)
