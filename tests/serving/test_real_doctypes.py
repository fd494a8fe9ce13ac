"""Document types on real paper, without OCR: what the parser makes of real pages' own lines.

No real claim form, medical receipt or repair estimate could be found with a licence to
redistribute (docs/benchmarks.md, "Document types"), so these hold the other side of the rule:
real pages that are none of them. The National Assembly bill pages (korean-text develop pile,
their text layer: positions and characters as printed) say "관련 규정을 정비함으로써" (reorganise
the rules) inside a sentence; a title word inside running text made the page a repair estimate.
The served lines of real SROIE develop receipts (tests/serving/data) stay receipts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from modelplane_inference.documents.parsing.doctypes import document_type
from modelplane_inference.documents.parsing.document import parse_document
from serving.korean_text import images

READ_LINES = Path(__file__).with_name("data") / "sroie_develop_lines.json"
BILL_PAGES = ("assembly-bill-2125318-p1", "assembly-bill-2125318-p2", "assembly-bill-2125318-p3")


def ocr_shaped(label_lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A text-layer label as the OCR stage answers: four corner points, a score."""
    out = []
    for line in label_lines:
        x0, y0, x1, y1 = line["box"]
        box = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
        out.append({"text": line["text"], "box": box, "score": 1.0})
    return out


@pytest.mark.parametrize("name", BILL_PAGES)
def test_real_bill_page_is_no_claim_document(name: str) -> None:
    (page,) = [i for i in images("develop") if i.name == name]
    answer = parse_document(ocr_shaped(page.label["lines"]))
    assert answer["document_type"] == "unknown", answer["fields"]


def test_title_word_inside_a_sentence_is_not_a_title() -> None:
    sentence = "실질적인 대표성이 반영되도록 관련 규정을 정비함으로써 탄소중립"
    rows = ["- 2 -", "제안이유", "하여야 함을 규정하고 있음.", sentence]  # lines of bill p2
    assert document_type(rows, set()) == "unknown"
    # ... but the same word as a word of its own further down still counts (a label).
    assert document_type([*rows, "정비 내역"], set()) == "estimate"


def test_real_receipts_stay_receipts() -> None:
    read = json.loads(READ_LINES.read_text("utf-8"))
    receipts = {name: lines for name, lines in read.items() if not name.startswith("_")}
    assert len(receipts) >= 7
    kinds = {name: parse_document(lines)["document_type"] for name, lines in receipts.items()}
    assert set(kinds.values()) == {"receipt"}, kinds
