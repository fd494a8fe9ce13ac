"""PDF intake: the text layer where a page has one, the page rendered to pixels where it has not.

Claims arrive as PDFs as often as photos: an insurer's own forms exported from Word (a text layer:
exact characters with their positions, nothing to recognise) and scanner output (one image per
page, nothing but pixels). A page is read from its text layer when it holds at least
``MIN_TEXT_CHARS`` printable characters and is not turned by ``/Rotate``; otherwise it is
rendered with PDFium (``pypdfium2``) at ``dpi`` and goes through detection and recognition like a
photo. Text-layer lines carry ``recognizer: pdf-text`` and boxes in the pixels the page would
have if rendered at the same scale, so the parser sees them as it sees OCR lines.

Bad files are the client's fault and say why (``errors.py``): encrypted with a user password
(``UnsupportedMediaType``, 415), broken (``DocumentRefused``, 422: PDFium cannot parse it), more
than ``max_pages`` pages or a page so large that even ``MIN_DPI`` would exceed the pixel limit
(``PayloadTooLarge``, 413); gRPC answers INVALID_ARGUMENT / RESOURCE_EXHAUSTED.

PDFium is not thread-safe, and the stages run their pre-processing in a thread pool: every PDFium
call holds ``_PDFIUM``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pypdfium2 as pdfium

from modelplane_inference.documents import ocr
from modelplane_inference.documents.script_routing import script_of_text
from modelplane_inference.errors import DocumentRefused, PayloadTooLarge, UnsupportedMediaType

MAGIC = b"%PDF-"
MIN_TEXT_CHARS = 8  # fewer printable characters: a scan with a stray header, rendered instead
MIN_DPI = 50  # below this print is unreadable; a page that does not fit at 50 dpi is refused
POINTS_PER_INCH = 72.0
_PDFIUM = threading.Lock()
GLYPH_CHARS = 2  # a PDFium rectangle this short is one placed glyph (or two), not a run
GLYPH_GAP = 0.9  # glyphs of one run are closer than this (x their height); a word space is less
GLYPH_KERN = 0.3  # ... and may start this far (x their height) inside the glyph before
BASELINE_SHARE = 0.5  # glyphs on one baseline overlap at least this share of their height
Rect = tuple[float, float, float, float]  # PDF points: left, bottom, right, top


@dataclass
class PdfPage:
    """One page: its lines from the text layer, or its pixels (BGR) for OCR."""

    number: int  # 1-based, as a reader counts pages
    source: str  # "text-layer" or "rendered"
    width: int  # pixels at ``scale`` (the frame of every box)
    height: int
    scale: float  # pixels per PDF point
    lines: list[dict[str, Any]] = field(default_factory=list)
    image: np.ndarray | None = None


def is_pdf(data: Any) -> bool:
    """Whether the upload is a PDF: its header may follow up to 1 KiB of junk (PDF 1.7, 7.5.2)."""
    return isinstance(data, bytes | bytearray) and MAGIC in bytes(data[:1024])


def read_pdf(data: bytes, max_pages: int, max_pixels: int, dpi: float) -> list[PdfPage]:
    """Every page of ``data``, read from its text layer or rendered (rules in the module doc)."""
    with _PDFIUM:
        document = _open(data)
        try:
            count = len(document)
            if count == 0:
                raise DocumentRefused("PDF has no pages")
            if count > max_pages:
                raise PayloadTooLarge(f"PDF has {count} pages, the limit is {max_pages} (maxPages)")
            return [_page(document, index, max_pixels, dpi) for index in range(count)]
        except pdfium.PdfiumError as exc:
            raise DocumentRefused(f"PDF broken: {exc}") from exc
        finally:
            document.close()


def render_page(data: bytes, number: int, scale: float) -> np.ndarray:
    """Page ``number`` (1-based) rendered at ``scale`` as BGR: what a recognition stage called
    over the wire, which gets the PDF bytes and the page's boxes but not the pixels, crops from."""
    with _PDFIUM:
        document = _open(data)
        try:
            if not 1 <= number <= len(document):
                raise DocumentRefused(f"PDF has no page {number}")
            return _render(document[number - 1], scale)
        finally:
            document.close()


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(bytes(data))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise UnsupportedMediaType("PDF is encrypted: send it without a password") from exc
        raise DocumentRefused(f"PDF broken: {exc}") from exc


def _page(document: pdfium.PdfDocument, index: int, max_pixels: int, dpi: float) -> PdfPage:
    page = document[index]
    width_pt, height_pt = page.get_size()
    scale = page_scale(width_pt, height_pt, max_pixels, dpi, index + 1)
    width, height = math.ceil(width_pt * scale), math.ceil(height_pt * scale)
    lines = _text_lines(page, scale) if page.get_rotation() == 0 else []
    if sum(len(line["text"].replace(" ", "")) for line in lines) >= MIN_TEXT_CHARS:
        return PdfPage(index + 1, "text-layer", width, height, scale, lines=lines)
    return PdfPage(index + 1, "rendered", width, height, scale, image=_render(page, scale))


def page_scale(
    width_pt: float, height_pt: float, max_pixels: int, dpi: float, number: int
) -> float:
    """Pixels per point: ``dpi``, lowered until the page fits ``max_pixels``, never under
    ``MIN_DPI`` (a poster-sized page is refused rather than rendered unreadably small)."""
    if width_pt <= 0 or height_pt <= 0:
        raise DocumentRefused(
            f"PDF page {number} has no area ({width_pt:.0f} x {height_pt:.0f} pt)"
        )
    scale = min(dpi / POINTS_PER_INCH, math.sqrt(max_pixels / (width_pt * height_pt)))
    if scale < MIN_DPI / POINTS_PER_INCH:
        inches = f"{width_pt / POINTS_PER_INCH:.0f} x {height_pt / POINTS_PER_INCH:.0f} in"
        raise PayloadTooLarge(
            f"PDF page {number} too large ({inches}): over {max_pixels} pixels at {MIN_DPI} dpi"
        )
    return scale


def _text_lines(page: pdfium.PdfPage, scale: float) -> list[dict[str, Any]]:
    """The text layer's runs (PDFium's text rectangles: one per run of text on one baseline),
    as OCR-shaped lines in reading order."""
    text_page = page.get_textpage()
    left, _, _, top = page.get_cropbox()
    found: list[tuple[np.ndarray, float]] = []
    texts: dict[int, str] = {}
    rects = [text_page.get_rect(index) for index in range(text_page.count_rects())]
    pieces = [text_page.get_text_bounded(*rect).strip() for rect in rects]
    for x0, y0, x1, y1 in glyph_runs(rects, pieces):
        text = " ".join(text_page.get_text_bounded(x0, y0, x1, y1).split())
        if not text:
            continue
        xs, ys = (
            ((x0 - left) * scale, (x1 - left) * scale),
            ((top - y1) * scale, (top - y0) * scale),
        )
        box = np.array([[xs[0], ys[0]], [xs[1], ys[0]], [xs[1], ys[1]], [xs[0], ys[1]]], np.float32)
        texts[id(box)] = text
        found.append((box, 1.0))
    text_page.close()
    return [
        {
            "text": texts[id(box)],
            "box": np.round(box).astype(int).tolist(),
            "score": 1.0,
            "recognizer": "pdf-text",
            "script": script_of_text(texts[id(box)]),
        }
        for box, _ in ocr.reading_order(found)
    ]


def glyph_runs(rects: list[Rect], pieces: list[str]) -> list[Rect]:
    """PDFium's rectangles, those of single glyphs joined into the run they print. Some PDF
    writers place every glyph on its own (a real hotel receipt of the typed/ develop pile: "P",
    "A", "Y", ... for "PAYMENT RECEIPT"), and a label read letter by letter is no label. Two
    rectangles in a row join when one holds at most ``GLYPH_CHARS`` characters, they share a
    baseline and the gap between them is under ``GLYPH_GAP`` of their height; runs of text a
    writer kept whole are left as they are."""
    runs: list[tuple[Rect, bool]] = []  # (rectangle, ends in a lone glyph)
    for rect, piece in zip(rects, pieces, strict=True):
        lone = 0 < len(piece.replace(" ", "")) <= GLYPH_CHARS
        if runs and (lone or runs[-1][1]) and _same_run(runs[-1][0], rect):
            last = runs[-1][0]
            merged = (min(last[0], rect[0]), min(last[1], rect[1]), rect[2], max(last[3], rect[3]))
            runs[-1] = (merged, lone)
        else:
            runs.append((rect, lone))
    return [rect for rect, _ in runs]


def _same_run(last: Rect, rect: Rect) -> bool:
    """``rect`` continues ``last`` on its baseline (PDF points, y up)."""
    height = min(last[3] - last[1], rect[3] - rect[1])
    overlap = min(last[3], rect[3]) - max(last[1], rect[1])
    gap = rect[0] - last[2]
    return (
        height > 0
        and overlap >= BASELINE_SHARE * height
        and -GLYPH_KERN * height <= gap <= GLYPH_GAP * height
    )


def _render(page: pdfium.PdfPage, scale: float) -> np.ndarray:
    image = page.render(scale=scale).to_pil().convert("RGB")
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[:, :, ::-1])
