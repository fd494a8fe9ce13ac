"""The one ``documents`` endpoint on intake pages: English, Korean and mixed claim forms,
medical receipts and repair estimates (intake generator, tune wordings, unseen seeds).

Every expected value comes from the generator, never from an earlier run of the OCR. Each page
is read once (module-scoped cache); the tests assert on those answers.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from modelplane_models.synth.intake import TYPES, IntakeDocument, render
from serving.calls import call
from serving.documents import render_document
from serving.servers import Server

# The first test reads the 9 pages (about 15 s on an idle 2-core machine, minutes under load).
pytestmark = pytest.mark.timeout(600)
SEED = 120
# Measured through `documents` on seeds 130-131 (6 pages per language): English 32/32 fields,
# Korean 32/32, mixed 31/32 (models/README.md); asserted at the targets, below that.
MIN_FIELDS = {"en": 0.95, "ko": 0.9, "mixed": 0.9}


@pytest.fixture(scope="module")
def answers(examples_server: Server) -> dict[tuple[str, str], tuple[IntakeDocument, Any]]:
    """(type, language) -> (page, answer of `documents`): 9 pages, each read once."""
    out = {}
    for index, (kind, language) in enumerate(itertools.product(TYPES, MIN_FIELDS)):
        doc = render(SEED, kind, language, "tune")
        protocol = "grpc" if index % 2 else "http"
        out[(kind, language)] = (doc, call(examples_server, protocol, "documents", image=doc.png()))
    return out


@pytest.mark.parametrize("language", list(MIN_FIELDS))
def test_one_endpoint_reads_every_language(answers: dict[Any, Any], language: str) -> None:
    wrong, total = [], 0
    for kind in TYPES:
        doc, result = answers[(kind, language)]
        assert result["document_type"] == kind
        assert set(result["fields"]) == set(doc.fields)
        for name, value in doc.fields.items():
            total += 1
            if result["fields"][name] != value:
                wrong.append(f"{kind} {name}: read {result['fields'][name]!r}, printed {value!r}")
    assert 1 - len(wrong) / total >= MIN_FIELDS[language], wrong


def test_lines_say_which_recogniser_read_them(answers: dict[Any, Any]) -> None:
    """Hangul lines went to Tesseract (whole, or their Hangul spans: ``ctc+tesseract``),
    English pages stayed with CTC."""
    for language in ("en", "ko"):
        _, result = answers[("receipt", language)]
        for line in result["lines"]:
            hangul = any("\uac00" <= c <= "\ud7a3" for c in line["text"])
            if hangul:
                assert "tesseract" in line["recognizer"], line
            assert line["script"] in ("latin", "hangul", "mixed")
        recognisers = {line["recognizer"] for line in result["lines"]}
        if language == "en":
            assert recognisers == {"ctc"}
        else:
            assert any("tesseract" in r for r in recognisers), recognisers


def test_estimate_line_items(answers: dict[Any, Any]) -> None:
    doc, result = answers[("estimate", "en")]
    assert result["line_items"] == doc.line_items
    assert 0 < min(result["confidence"].values()) <= 1


def test_korean_labels_need_the_hangul_recognizer(examples_server: Server) -> None:
    """`documents-korean` stays as an explicit choice; PP-OCR alone cannot read Hangul."""
    doc = render_document(seed=300, language="ko", document_type="receipt")
    hangul = call(examples_server, "grpc", "documents-korean", image=doc.png)
    assert hangul["fields"]["name"] == doc.name
    assert any("영수증" in line["text"] for line in hangul["lines"])
    assert {line["recognizer"] for line in hangul["lines"]} == {"tesseract"}
