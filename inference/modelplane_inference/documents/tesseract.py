"""Hangul-capable line recognition with Tesseract (``tesseract-ocr-kor``,
``tesseract-ocr-script-hang``) through tesserocr.

The PP-OCRv4 recognizer reads Latin, digits and Chinese but not Hangul, and Korean receipts
(진료비 영수증, 환자성명, 합계) matter to the users. Tesseract's LSTM models read Hangul, and
tesserocr calls the library in-process (no subprocess per line), releasing the GIL while it
recognises. One API object per worker thread: a ``PyTessBaseAPI`` is not thread-safe.

A recogniser may have a ``gate`` language: each crop is read with it first, and only where
that reading holds Hangul is the crop read again with ``language`` (routing's use: the gate
says whether a line CTC was unsure of is Hangul at all, the second reading is the text).
"""

from __future__ import annotations

import asyncio
import os
import queue
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import tesserocr
from PIL import Image

from modelplane_inference.documents.script_routing import holds_hangul

TESSDATA_CANDIDATES = (
    os.environ.get("TESSDATA_PREFIX", ""),
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
)


def tessdata_path() -> str:
    """The first tessdata folder that exists (Debian puts it under /usr/share/tesseract-ocr)."""
    for candidate in TESSDATA_CANDIDATES:
        if candidate and Path(candidate).is_dir():
            return candidate
    raise RuntimeError("no tessdata folder found: install tesseract-ocr and tesseract-ocr-kor")


def dark_on_light(crop: np.ndarray) -> np.ndarray:
    """The crop with dark ink on a light ground, inverted if it was the other way round.

    Tesseract's LSTM models are trained on dark print on paper; on white-on-green road-sign
    Hangul (after the capture step's flattening) it read 서울 as "Nz", inverted as 서을. The
    ground is the larger of Otsu's two classes: when it is the darker one, the crop is inverted.
    """
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    threshold, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    light_ground = (grey > threshold).mean() >= 0.5
    return np.ascontiguousarray(crop if light_ground else 255 - crop)


MARGIN = 0.25  # of the crop's height: blank ground added on every side before Tesseract reads


def with_margin(crop: np.ndarray) -> np.ndarray:
    """The crop inside a margin of its own ground colour (``MARGIN`` x its height).

    The detector's boxes sit tight on the ink, and Tesseract reads text that touches the image
    edge badly: on real Korean pages (develop pile, 3 National Assembly bill pages, 388 Hangul
    words) kor+eng read 0.72 of the words from the bare crops and 0.92 with this margin; on
    real Latin receipts (SROIE develop, 829 lines) it answered Hangul junk on fewer lines with
    it (17 vs 20). The ground is the crop's light end (90th percentile per channel), not the
    replicated edge, which would smear a clipped stroke into a bar.
    """
    pad = max(1, round(MARGIN * crop.shape[0]))
    ground = np.percentile(crop.reshape(-1, crop.shape[2] if crop.ndim == 3 else 1), 90, axis=0)
    value = [int(v) for v in np.atleast_1d(ground)]
    return cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=value)


Engines = tuple[tesserocr.PyTessBaseAPI, tesserocr.PyTessBaseAPI | None]


class TesseractRecognizer:
    """Recognises line crops (BGR uint8) with a small pool of Tesseract engines (one reading
    engine per worker, plus one for the ``gate`` language where there is one)."""

    def __init__(
        self, language: str = "kor+eng", workers: int = 2, gate: str = "", whitelist: str = ""
    ) -> None:
        path = tessdata_path()
        available = set(tesserocr.get_languages(path)[1])
        wanted = language.split("+") + (gate.split("+") if gate else [])
        missing = sorted({lang for lang in wanted if lang not in available})
        if missing:
            raise RuntimeError(f"Tesseract languages {missing} not installed in {path}")
        self.language, self.gate = language, gate
        self._apis: queue.Queue[Engines] = queue.Queue()
        for _ in range(workers):
            reader = _engine(path, language, whitelist)
            self._apis.put((reader, _engine(path, gate) if gate else None))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tesseract")

    def recognise(self, crop: np.ndarray) -> tuple[str, float]:
        """(text, confidence in [0, 1]) of one line crop: the gate's reading where it holds no
        Hangul, else the reading with ``language``."""
        image = Image.fromarray(with_margin(dark_on_light(crop))[:, :, ::-1])
        engines = self._apis.get()
        try:
            reader, gate = engines
            if gate is not None:
                text, confidence = _read(gate, image)
                if not holds_hangul(text):
                    return text, confidence
            return _read(reader, image)
        finally:
            self._apis.put(engines)

    async def recognise_all(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        return list(
            await asyncio.gather(
                *(loop.run_in_executor(self._pool, self.recognise, crop) for crop in crops)
            )
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        while not self._apis.empty():
            for api in self._apis.get():
                if api is not None:
                    api.End()


def _engine(path: str, language: str, whitelist: str = "") -> tesserocr.PyTessBaseAPI:
    """One single-line engine; ``whitelist`` limits what it may read (a money crop's digits)."""
    api = tesserocr.PyTessBaseAPI(path=path, lang=language, psm=tesserocr.PSM.SINGLE_LINE)
    if whitelist:
        api.SetVariable("tessedit_char_whitelist", whitelist)
    return api


def _read(api: tesserocr.PyTessBaseAPI, image: Image.Image) -> tuple[str, float]:
    """(text on one line, mean confidence in [0, 1]) of one prepared crop."""
    api.SetImage(image)
    text = api.GetUTF8Text().strip()
    return " ".join(text.split()), max(api.MeanTextConf(), 0) / 100.0
