"""Document stages: text detection (DBNet) -> text recognition (CTC or Tesseract) -> parsing.

In a pipeline the decoded page (``_bgr``) travels in-process from detection to recognition, so
the image is decoded once. Called alone over the wire, each stage takes what it needs as inputs:
detection ``image``; recognition ``image`` (+ optional ``boxes`` JSON); parse ``lines`` JSON.

A PDF (``image`` bytes starting ``%PDF-``) becomes ``pages``: detection reads each page's text
layer or renders it (``documents/pdf.py``), recognition passes text-layer lines through and
reads rendered pages, parsing answers per page (``{"page_count", "pages": [...]}``).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import numpy as np
from modelplane_api.images import exif_orientation
from modelplane_api.parameters import TextDetectionParameters, TextRecognitionParameters

from modelplane_inference.documents import (
    capture,
    money_reading,
    ocr,
    orientation,
    pdf,
    script_routing,
)
from modelplane_inference.documents.parsing.document import parse_document
from modelplane_inference.documents.tesseract import TesseractRecognizer
from modelplane_inference.runtime.backends import LocalBackend
from modelplane_inference.serving import limits
from modelplane_inference.stages.base import (
    Item,
    Stage,
    StageInputError,
    image_of,
    off_loop,
)
from modelplane_inference.stages.images import to_bgr_array

REC_HEIGHT = 48  # PP-OCRv4 recognizer input height
# Recognition batches are padded to multiples of this width (6 time steps). 48 rather than 160:
# a profile of in-process documents showed ~11% of recognition's CPU on padding (same text).
WIDTH_BUCKET = 48
# What a page's answer says of the page, carried from detection to parsing: a PDF page's
# number, source and frame; for every page read from pixels the turn that made it upright
# (``orientation``, degrees clockwise, from its text) and, for an uploaded image, the EXIF
# Orientation tag the decoder applied (``exif_orientation``, 1-8; 1: none).
PAGE_KEYS = ("page", "source", "width", "height", "scale", "orientation", "exif_orientation")


def page_of(item: Item, max_pixels: int) -> np.ndarray:
    """The page as HWC BGR uint8, decoded once per item."""
    if "_bgr" not in item:
        item["_bgr"] = to_bgr_array(image_of(item, max_pixels))
    page: np.ndarray = item["_bgr"]
    return page


class TextDetection(Stage):
    """DBNet text boxes, in reading order, as four corner points each.

    ``--param capture=auto`` (the default) divides out the page's illumination first where it is
    measured uneven (phone captures with a shadow or gradient; ``documents/capture.py``) to
    find the lines; recognition crops them from the page as sent; ``flatten`` always, ``none``
    detects on the page as sent.
    ``--param orient=auto`` (the default) turns pages sent sideways or upside down
    (``documents/orientation.py``; ``orientation`` says by how many degrees clockwise, and the
    boxes are on the turned page); ``orient=none`` reads the page as sent. A PDF is read page by
    page (``maxPages``, default 10; scans rendered at ``pdfDpi``, default 200).
    """

    stage: ClassVar[str] = "text-detection"
    stage_params: TextDetectionParameters  # typed and checked by the contract

    def setup(self) -> None:
        params, extra = self.stage_params, self.backend.config.extra
        self.settings = ocr.DetectionSettings.from_params(params, extra)
        self.norm = ocr.Normalization.from_extra(extra)
        self.capture = params.capture
        self.direction = orientation.DirectionClassifier() if params.orient == "auto" else None
        self.max_pages = params.max_pages
        self.pdf_dpi = params.pdf_dpi

    async def run(self, item: Item) -> Item:
        if pdf.is_pdf(item.get("image")):
            return await self._pdf(item["image"])
        page = await off_loop(page_of, item, self.max_pixels)
        return {**await self._page(page), "exif_orientation": exif_orientation(item["image"])}

    async def _page(self, page: np.ndarray) -> Item:
        prepared = await off_loop(capture.prepare, page, self.capture)
        found, _, turned = await self._oriented(prepared)
        # Recognition crops from the page as sent (turned upright): the flattened light helps
        # DBNet find lines in a shadow, but its stretch changes the glyphs themselves - on the
        # white-on-green road sign Tesseract read the flattened 서울 as 서을 (develop pile).
        return {
            "boxes": [box.astype(int).tolist() for box, _ in found],
            "scores": [round(score, 4) for _, score in found],
            "orientation": turned,
            "_bgr": await off_loop(orientation.turn, page, turned),
        }

    async def _detect(self, page: np.ndarray) -> list[tuple[np.ndarray, float]]:
        config = self.backend.config
        tensor = await off_loop(ocr.detection_input, page, self.settings, self.norm)
        out = await self.backend.infer({config.inputs[0].name: tensor})
        prob = out[config.outputs[0].name] if config.outputs else next(iter(out.values()))
        return await off_loop(
            ocr.detection_boxes, np.asarray(prob), page.shape[0], page.shape[1], self.settings
        )

    async def _oriented(
        self, page: np.ndarray
    ) -> tuple[list[tuple[np.ndarray, float]], np.ndarray, int]:
        """Boxes, the page they are on, and the clockwise turn that made it upright: sideways
        pages are turned and detected again, then the direction classifier votes on 180."""
        found = await self._detect(page)
        if self.direction is None:
            return found, page, 0
        turned = 0
        if orientation.is_sideways([box for box, _ in found]):
            page, turned = orientation.turn(page, 270), 270
            found = await self._detect(page)
        crops = await off_loop(orientation.longest_crops, page, [box for box, _ in found])
        votes = await off_loop(self.direction.votes, crops)
        if orientation.is_upside_down(*votes):
            page, turned = orientation.turn(page, 180), (turned + 180) % 360
            found = await self._detect(page)
        return found, page, turned

    async def _pdf(self, data: bytes) -> Item:
        """``pages``: text-layer pages with their lines, rendered pages detected like photos."""
        # The pixel ceiling of ``decode_image``: a deployment may lower the process's, not raise it.
        ceiling = min(self.max_pixels, limits.active().max_image_pixels)
        pages = await off_loop(pdf.read_pdf, data, self.max_pages, ceiling, self.pdf_dpi)

        pixels: dict[int, np.ndarray] = {}  # private: never in a page's JSON

        async def one(page: pdf.PdfPage) -> Item:
            head = {"page": page.number, "source": page.source, "scale": round(page.scale, 6)}
            if page.image is None:
                return {**head, "width": page.width, "height": page.height, "lines": page.lines}
            found = await self._page(page.image)
            pixels[page.number] = found.pop("_bgr")
            height, width = pixels[page.number].shape[:2]
            return {**head, "width": width, "height": height, **found}

        pages_out = list(await asyncio.gather(*(one(page) for page in pages)))
        return {"pages": pages_out, "_pixels": pixels}


class TextRecognition(Stage):
    """Text of each box: PP-OCR CTC (Latin, digits, Chinese), Tesseract (Hangul), or routed.

    ``--param recognizer=auto`` reads every line with CTC, then re-reads the Hangul and mixed
    ones with Tesseract (``script_routing``); each line says its ``script`` and ``recognizer``.
    ``--param recognizer=tesseract --param language=kor+eng`` selects Tesseract alone per
    ModelDeployment; ``textScore`` drops lines recognised with lower confidence.
    ``--param moneyReading=ctc+tesseract`` (the default with CTC) reads lines whose CTC text is
    a damaged amount (``287`` for 2.87) again and keeps a clean amount that agrees with it
    (``documents/money_reading.py``; ``recognizer`` then says e.g. ``ctc+tesseract-money``).
    """

    stage: ClassVar[str] = "text-recognition"
    stage_params: TextRecognitionParameters  # typed and checked by the contract
    wire_inputs: ClassVar[tuple[str, ...]] = ("image", "boxes")

    def uses_model(self) -> bool:
        return self.recognizer_kind() in ("ctc", "auto")

    def recognizer_kind(self) -> str:
        return self.stage_params.recognizer

    def setup(self) -> None:
        params = self.stage_params
        self.text_score = params.text_score
        # Lines go to the model one per request by default: on CPU a line costs 1.4-1.7x more
        # in a batch of 6 than alone (widths 384-672 px, docs/benchmarks.md), and the runner
        # (or Triton's dynamic batcher) merges requests of one width where batching pays.
        self.chunk = params.rec_batch
        self.tesseract: TesseractRecognizer | None = None
        self.routed = self.recognizer_kind() == "auto"
        if self.recognizer_kind() in ("tesseract", "auto"):
            gate = script_routing.HANGUL_GATE if self.routed else ""
            self.tesseract = TesseractRecognizer(params.language, params.workers, gate)
        # damaged amounts' second readers (none with Tesseract alone: it reads no CTC lines)
        self.money: dict[str, money_reading.Reader] = {}
        if self.recognizer_kind() == "tesseract":
            return
        if params.money_reading != "none":
            self.money["ctc"] = self._ctc_texts
            self.money["ctc-thick"] = self._ctc_thick_texts
        if params.money_reading == "ctc+tesseract":
            self.money_tesseract = TesseractRecognizer(
                "eng", 1, whitelist=money_reading.MONEY_WHITELIST
            )
            self.money["tesseract"] = money_reading.tesseract_reader(self.money_tesseract)
        self.norm = ocr.Normalization.from_extra(self.backend.config.extra)
        characters = list(self.backend.config.labels)
        backend = self.backend
        if not characters and isinstance(backend, LocalBackend):
            meta = backend.runner.session.get_modelmeta().custom_metadata_map
            characters = meta.get("character", "").splitlines()
        if not characters:
            raise RuntimeError("text-recognition needs labels.txt (the CTC character list)")
        self.decoder = ocr.CTCDecoder(characters)
        self.classes = ["", *characters, " "]  # CTC class i: 0 blank, then the list, then space

    def stop(self) -> None:
        for name in ("tesseract", "money_tesseract"):
            if getattr(self, name, None) is not None:
                getattr(self, name).close()
        super().stop()

    async def run(self, item: Item) -> Item:
        if "pages" in item:
            pages = pages_of(item)
            return {"pages": list(await asyncio.gather(*(self._pdf_page(item, p) for p in pages)))}
        page = await off_loop(page_of, item, self.max_pixels)
        lines = await self._lines(page, self._boxes(item, page))
        return {**page_head(item), "lines": lines, "_bgr": page}

    async def _lines(self, page: np.ndarray, boxes: list[np.ndarray]) -> list[dict[str, Any]]:
        crops = await off_loop(lambda: [ocr.crop_box(page, box) for box in boxes])
        reads = await self._amounts(page, boxes, await self._read(crops))
        return [
            {"text": text, "box": box.astype(int).tolist(), "score": round(score, 4), **how}
            for box, (text, score, how) in zip(boxes, reads, strict=True)
            if text.strip() and score >= self.text_score
        ]

    async def _pdf_page(self, item: Item, page: Item) -> Item:
        """A PDF page: text-layer lines pass through (``recognizer: pdf-text``); a rendered page
        is read from its pixels (rendered again from the PDF when called over the wire)."""
        head = page_head(page)
        if page.get("source") == "text-layer":
            return {**head, "lines": page.get("lines", [])}
        bgr = item.get("_pixels", {}).get(page.get("page"))
        if bgr is None:
            data, number = item.get("image"), page.get("page")
            if not pdf.is_pdf(data) or not isinstance(number, int):
                raise StageInputError("a rendered PDF page needs the PDF as 'image' and its 'page'")
            bgr = await off_loop(pdf.render_page, data, number, float(page.get("scale", 1.0)))
            bgr = orientation.turn(bgr, int(page.get("orientation", 0)))
        return {**head, "lines": await self._lines(bgr, self._boxes(page, bgr))}

    async def _read(self, crops: list[np.ndarray]) -> list[tuple[str, float, dict[str, str]]]:
        """(text, score, {"recognizer", ["script"]}) per crop."""
        if not crops:
            return []
        if self.tesseract is not None and not self.routed:
            done = await self.tesseract.recognise_all(crops)
            return [(t, s, {"recognizer": "tesseract"}) for t, s in done]
        ctc = await self._ctc(crops)
        if not self.routed or self.tesseract is None:
            return [(r.text, r.score, {"recognizer": "ctc"}) for r in ctc]
        return await script_routing.route(crops, ctc, self.tesseract)

    async def _amounts(
        self, page: np.ndarray, boxes: list[np.ndarray], reads: list[script_routing.Read]
    ) -> list[script_routing.Read]:
        """The reads with damaged amounts read again where a second reading agrees
        (``documents/money_reading.py``); only CTC's own lines, never Tesseract's."""
        if not self.money:
            return reads
        texts = [text if how.get("recognizer") == "ctc" else "" for text, _, how in reads]
        lines = money_reading.triggered(texts, boxes)
        if not lines:
            return reads
        crops = await off_loop(money_reading.second_crops, page, boxes, lines)
        kept = await money_reading.repair(texts, lines, crops, self.money)
        out = list(reads)
        for index, repair in kept.items():
            _, score, how = reads[index]
            out[index] = (repair.text, score, {**how, "recognizer": f"ctc+{repair.reader}-money"})
        return out

    async def _ctc_texts(self, crops: list[np.ndarray]) -> list[str]:
        """CTC's text of each crop (a money reader)."""
        return [read.text for read in await self._ctc(crops)]

    async def _ctc_thick_texts(self, crops: list[np.ndarray]) -> list[str]:
        """CTC's text of each crop with its ink thickened (a money reader: faint dot matrix)."""
        return await self._ctc_texts(await off_loop(money_reading.thickened, crops))

    def _boxes(self, item: Item, page: np.ndarray) -> list[np.ndarray]:
        raw = item.get("boxes")
        if raw is None:
            h, w = page.shape[:2]
            return [np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)]
        try:
            boxes = [np.asarray(b, dtype=np.float32).reshape(4, 2) for b in raw]
        except (ValueError, TypeError) as exc:
            raise StageInputError(
                f"input 'boxes' must be a list of 4 [x, y] points: {exc}"
            ) from exc
        return boxes

    async def _ctc(self, crops: list[np.ndarray]) -> list[script_routing.CtcRead]:
        """Batches of similar width (sorted by aspect ratio), sent concurrently to the runner."""
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / crops[i].shape[0])
        # Chunks of similar width pad less than one wide batch (rapidocr sends 6); the runner
        # may still merge chunks of one width bucket, from this page or concurrent ones.
        limit = min(self.backend.config.batching.max_batch_size or len(crops), self.chunk)
        chunks = [order[i : i + limit] for i in range(0, len(order), limit)]
        decoded = await asyncio.gather(*(self._ctc_chunk([crops[i] for i in c]) for c in chunks))
        results = [script_routing.CtcRead("", 0.0)] * len(crops)
        for chunk, texts in zip(chunks, decoded, strict=True):
            for index, text in zip(chunk, texts, strict=True):
                results[index] = text
        return results

    async def _ctc_chunk(self, crops: list[np.ndarray]) -> list[script_routing.CtcRead]:
        """The CTC reading of one batch; with routing on, also where each character sits."""
        width = ocr.recognition_width(crops, REC_HEIGHT, WIDTH_BUCKET)
        batch = await off_loop(ocr.recognition_input, crops, REC_HEIGHT, width, self.norm)
        out = await self.backend.infer({self.backend.config.inputs[0].name: batch})
        decoded = self.decoder(out)
        if not self.routed:
            return [script_routing.CtcRead(t, s) for t, s in decoded]
        indices, _ = ocr.ctc_best_path(out)
        stride = width / indices.shape[1]
        return await off_loop(
            lambda: [
                script_routing.ctc_read(c, t, s, row, stride, self.classes, REC_HEIGHT)
                for c, (t, s), row in zip(crops, decoded, indices, strict=True)
            ]
        )


class DocumentParse(Stage):
    """Lines -> ``{"document_type", "fields", "confidence", "currency", "needs_review",
    "line_items", "lines"}`` (``documents/parsing/document.py``); pure Python, no model."""

    stage: ClassVar[str] = "document-parse"
    wire_inputs: ClassVar[tuple[str, ...]] = ("lines",)
    needs_model: ClassVar[bool] = False

    async def run(self, item: Item) -> Item:
        if "pages" in item:
            pages = pages_of(item)
            return {
                "page_count": len(pages),
                "pages": [{**page_head(p), **parse_document(lines_of(p))} for p in pages],
            }
        return {**page_head(item), **parse_document(lines_of(item))}


def page_head(item: Item) -> Item:
    """What the item says of its page (``PAGE_KEYS``), carried forward into the answer."""
    return {key: item[key] for key in PAGE_KEYS if key in item}


def lines_of(item: Item) -> list[dict[str, Any]]:
    """The item's OCR lines, checked: the parser's input contract."""
    lines: Any = item.get("lines")
    if not isinstance(lines, list) or not all(
        isinstance(line, dict) and isinstance(line.get("text"), str) for line in lines
    ):
        raise StageInputError('input \'lines\' must be a list of {"text", "box", "score"}')
    return lines


def pages_of(item: Item) -> list[Item]:
    """The item's PDF pages (what detection answers for a PDF), checked."""
    pages: Any = item.get("pages")
    if not isinstance(pages, list) or not all(isinstance(page, dict) for page in pages):
        raise StageInputError("input 'pages' must be a list of page objects")
    return pages
