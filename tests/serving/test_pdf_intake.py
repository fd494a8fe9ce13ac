"""PDFs through the served ``documents`` endpoint, REST and gRPC: real files (a text-layer PDF,
a scanned one; ``models/data/pdf/PROVENANCE.md``) answered per page, and encrypted, broken and
over-the-limit files refused with a 4xx that says why, the server serving on.

Expected text comes from the files themselves: the text layer as PDFium extracts it, the scan's
published transcript.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from serving.calls import PROTOCOLS, bytes_input, call, call_error
from serving.real_documents import word_recall
from serving.servers import BIN, ROOT, Server
from serving.test_graph_router import b64, v1

pytestmark = pytest.mark.timeout(600)
PDFS = ROOT / "models" / "data" / "pdf"
TEXT_LAYER = PDFS / "text-layer.pdf"
SCANNED = PDFS / "scanned-linn.pdf"
MAX_PAGES = 10  # the text-detection stage's default maxPages
# Measured through `documents` (200 dpi render): 0.955 of the transcript's 731 words.
SCANNED_WORD_RECALL = 0.9


def text_layer_lines(path: Path) -> list[list[str]]:
    """Each page's non-empty text lines as PDFium extracts them (the file's own truth)."""
    document = pdfium.PdfDocument(str(path))
    pages = []
    for page in document:
        text = page.get_textpage().get_text_range()
        pages.append([" ".join(line.split()) for line in text.splitlines() if line.strip()])
    return pages


def saved(document: pdfium.PdfDocument) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def huge_page() -> bytes:
    """One blank 200 x 200 inch page: 100 MP at the 50 dpi floor, over the 40 MP limit."""
    document = pdfium.PdfDocument.new()
    document.new_page(200 * 72, 200 * 72)
    return saved(document)


def many_pages(count: int) -> bytes:
    """The text-layer PDF's first page ``count`` times (a real page, a made-long file)."""
    source = pdfium.PdfDocument(str(TEXT_LAYER))
    target = pdfium.PdfDocument.new()
    target.import_pages(source, [0] * count)
    return saved(target)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_text_layer_pages_pass_through_as_lines(examples_server: Server, protocol: str) -> None:
    answer = call(examples_server, protocol, "documents", image=TEXT_LAYER.read_bytes())
    want = text_layer_lines(TEXT_LAYER)
    assert answer["page_count"] == len(want) == 2
    for page, lines in zip(answer["pages"], want, strict=True):
        assert page["source"] == "text-layer"
        assert [line["text"] for line in page["lines"]] == lines
        assert {line["recognizer"] for line in page["lines"]} == {"pdf-text"}
        tops = [min(y for _, y in line["box"]) for line in page["lines"]]
        assert tops == sorted(tops)  # reading order, top to bottom
        for line in page["lines"]:
            assert all(0 <= x <= page["width"] and 0 <= y <= page["height"] for x, y in line["box"])
        assert {"document_type", "fields", "needs_review"} <= set(page)


def test_scanned_pdf_is_rendered_and_read(examples_server: Server) -> None:
    answer = call(examples_server, "grpc", "documents", image=SCANNED.read_bytes())
    (page,) = answer["pages"]
    assert page["source"] == "rendered"
    assert {line["recognizer"] for line in page["lines"]} == {"ctc"}
    truth = SCANNED.with_suffix(".txt").read_text("utf-8").splitlines()
    found, total = word_recall(truth, [line["text"] for line in page["lines"]])
    assert found / total >= SCANNED_WORD_RECALL, (found, total)


REFUSALS: dict[str, tuple[bytes, str, str, str]] = {
    "encrypted": ((PDFS / "encrypted.pdf").read_bytes(), "415", "INVALID_ARGUMENT", "encrypted"),
    "truncated": (TEXT_LAYER.read_bytes()[:4000], "422", "INVALID_ARGUMENT", "PDF broken"),
    "not-a-pdf-body": (b"%PDF-1.7\n" + bytes(range(256)) * 8, "422", "INVALID_ARGUMENT", "broken"),
    "too-many-pages": (many_pages(MAX_PAGES + 1), "413", "RESOURCE_EXHAUSTED", "the limit is 10"),
    "page-too-large": (huge_page(), "413", "RESOURCE_EXHAUSTED", "PDF page 1 too large"),
}


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_pdfs_are_refused(examples_server: Server, protocol: str, case: str) -> None:
    data, http_status, grpc_code, words = REFUSALS[case]
    inputs = [bytes_input(protocol, "image", data, image=True)]
    status, message = call_error(examples_server, protocol, "documents", inputs)
    assert status == (http_status if protocol == "http" else f"StatusCode.{grpc_code}"), message
    assert words in message, message
    still = call(examples_server, protocol, "documents", image=many_pages(1))
    assert still["page_count"] == 1


def test_pdf_through_the_graph_router(examples_server: Server) -> None:
    """The cluster's path: V1 steps chained as KServe's router chains them. The pages travel as
    JSON (no pixels); recognition renders the scanned page again from the PDF carried forward."""
    source, scan, mixed = (
        pdfium.PdfDocument(str(TEXT_LAYER)),
        pdfium.PdfDocument(str(SCANNED)),
        pdfium.PdfDocument.new(),
    )
    mixed.import_pages(source, [0])
    mixed.import_pages(scan, [0])
    body = {"instances": [{"image": b64(saved(mixed))}]}
    status, detected = v1(examples_server, "doc-text-detection", body)
    assert status == 200, detected
    assert all(not key.startswith("_") for p in detected["predictions"][0]["pages"] for key in p)
    status, recognised = v1(examples_server, "doc-text-recognition", detected)
    assert status == 200, recognised
    status, parsed = v1(examples_server, "doc-parse", recognised)
    assert status == 200, parsed
    first, second = parsed["predictions"][0]["pages"]
    assert first["source"] == "text-layer" and second["source"] == "rendered"
    assert first["lines"][0]["text"] == "Lorem ipsum dolor sit amet,"
    truth = SCANNED.with_suffix(".txt").read_text("utf-8").splitlines()
    found, total = word_recall(truth, [line["text"] for line in second["lines"]])
    assert found / total >= SCANNED_WORD_RECALL, (found, total)


def test_predict_sends_a_pdf(examples_server: Server) -> None:
    done = subprocess.run(
        [
            *(str(BIN / "modelplane"), "predict", "documents", str(TEXT_LAYER)),
            *("--url", examples_server.grpc),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    assert [page["page"] for page in answer["pages"]] == [1, 2]
    assert answer["pages"][0]["lines"][0]["text"] == "Lorem ipsum dolor sit amet,"
