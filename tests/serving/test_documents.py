"""Document pipelines on synthetic receipts and claim forms rendered by the test.

Every expected value comes from the generator (``documents.render_document``), never from an
earlier run of the OCR. English documents go through ``documents`` (PP-OCRv4 detection + CTC
recognition); Korean ones through ``documents-korean`` (same detection, Tesseract kor+eng).
"""

from __future__ import annotations

import pytest
from serving.calls import call
from serving.documents import SyntheticDocument, render_document
from serving.servers import Server

FIELDS = ("name", "date", "total_amount", "document_number", "institution")
PIPELINES = {"en": "documents", "ko": "documents-korean"}
MIN_FIELD_ACCURACY = 0.9  # measured 118/120 fields over 24 documents while building this


def documents(language: str) -> list[SyntheticDocument]:
    """Six documents per language: both kinds, every font of that language, varied seeds."""
    return [
        render_document(
            seed=200 + i, language=language, document_type="receipt" if i % 2 else "claim_form"
        )
        for i in range(6)
    ]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_fields_match_what_was_printed(examples_server: Server, language: str) -> None:
    wrong: list[str] = []
    total = 0
    for index, doc in enumerate(documents(language)):
        protocol = "grpc" if index % 2 else "http"
        result = call(examples_server, protocol, PIPELINES[language], image=doc.png)
        assert result["document_type"] == doc.document_type
        for field in FIELDS:
            total += 1
            if result["fields"][field] != getattr(doc, field):
                wrong.append(
                    f"{doc.document_type} {field}: read {result['fields'][field]!r}, "
                    f"printed {getattr(doc, field)!r}"
                )
    accuracy = 1 - len(wrong) / total
    assert accuracy >= MIN_FIELD_ACCURACY, wrong


def test_korean_labels_need_the_hangul_recognizer(examples_server: Server) -> None:
    """The PP-OCR path cannot read Hangul labels: the Korean pipeline is what makes them
    parseable, not the parser guessing."""
    doc = render_document(seed=300, language="ko", document_type="receipt")
    latin = call(examples_server, "grpc", "documents", image=doc.png)
    hangul = call(examples_server, "grpc", "documents-korean", image=doc.png)
    assert latin["fields"]["name"] != doc.name
    assert hangul["fields"]["name"] == doc.name
    assert any("영수증" in line["text"] for line in hangul["lines"])
