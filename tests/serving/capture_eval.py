"""Character error rate of the OCR on phone-captured pages: ours versus plain ``RapidOCR()``.

Both sides use the same PP-OCRv4 detector and recogniser files from the rapidocr-onnxruntime
wheel, in this process (ONNX Runtime on CPU). Ground truth is the generator's text lines with
their boxes moved by the capture's perspective; a predicted line belongs to the truth line its
centre falls in, and CER = edit distance / truth characters, summed over the page (a line the
detector missed counts in full). English pages only: plain RapidOCR has no Hangul to compare.

``python tests/serving/capture_eval.py`` runs the threshold sweep on the tune seeds and
reports the chosen setting on the held-out seeds (the figures in models/README.md).
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
import rapidocr_onnxruntime
from modelplane_inference.documents import capture, ocr
from modelplane_models.synth.camera import phone_capture
from modelplane_models.synth.intake import TYPES, render
from serving.servers import ROOT

WHEEL = Path(rapidocr_onnxruntime.__file__).parent / "models"
TUNE_SEEDS, HELD_OUT_SEEDS = (500, 501, 502), (600, 601, 602)
SWEEP = {"capture": ("none", "flatten", "auto"), "thresh": (0.3,), "box_thresh": (0.5, 0.3)}
CHOSEN = {"capture": "auto", "thresh": 0.3, "box_thresh": 0.5}  # the sweep, then real photos


@dataclass
class Page:
    bgr: np.ndarray
    truth: list[tuple[str, np.ndarray]]  # text, 4x2 box


def pages(seeds: tuple[int, ...], camera: bool = True) -> list[Page]:
    """English pages of each document type, phone-captured (or clean)."""
    out = []
    for seed, kind in itertools.product(seeds, TYPES):
        doc = render(seed, kind, "en", "tune")
        boxes = [line.box for line in doc.lines]
        image = doc.image
        if camera:
            image, boxes = phone_capture(image, boxes, seed)
        bgr = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
        truth = [(line.text, np.float32(box)) for line, box in zip(doc.lines, boxes, strict=True)]
        out.append(Page(bgr, truth))
    return out


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def cer(page: Page, read: list[tuple[np.ndarray, str]]) -> tuple[int, int]:
    """(errors, truth characters) of one page; spaces ignored."""
    errors = chars = 0
    for text, box in page.truth:
        inside = [
            (float(b[:, 0].min()), t)
            for b, t in read
            if cv2.pointPolygonTest(box, tuple(float(v) for v in b.mean(axis=0)), False) >= 0
        ]
        got = "".join(t for _, t in sorted(inside)).replace(" ", "")
        want = text.replace(" ", "")
        errors, chars = errors + edit_distance(want, got), chars + len(want)
    return errors, chars


class Ours:
    """Our detection settings and capture step around the wheel's two models."""

    def __init__(self) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.det = ort.InferenceSession(str(WHEEL / "ch_PP-OCRv4_det_infer.onnx"), options)
        self.rec = ort.InferenceSession(str(WHEEL / "ch_PP-OCRv4_rec_infer.onnx"), options)
        meta = self.rec.get_modelmeta().custom_metadata_map
        self.decoder = ocr.CTCDecoder(meta["character"].splitlines())
        self.norm = ocr.Normalization(mean=(0.5,) * 3, std=(0.5,) * 3, bgr=True)

    def prob_map(self, bgr: np.ndarray, settings: ocr.DetectionSettings) -> np.ndarray:
        tensor = ocr.detection_input(bgr, settings, self.norm)
        return np.asarray(self.det.run(None, {"x": tensor})[0])

    def read(self, bgr: np.ndarray, setting: dict[str, Any]) -> list[tuple[np.ndarray, str]]:
        page = capture.prepare(bgr, setting["capture"])
        settings = ocr.DetectionSettings(thresh=setting["thresh"], box_thresh=setting["box_thresh"])
        prob = self.prob_map(page, settings)
        boxes = ocr.detection_boxes(prob, page.shape[0], page.shape[1], settings)
        out = []
        for box, _ in boxes:
            # As served: lines found on the flattened page, read from the page as sent.
            crop = ocr.crop_box(bgr, box)
            width = ocr.recognition_width([crop], 48, 160)
            batch = ocr.recognition_input([crop], 48, width, self.norm)
            ((text, score),) = self.decoder({"x": np.asarray(self.rec.run(None, {"x": batch})[0])})
            if score >= 0.5 and text.strip():
                out.append((box, text))
        return out


def plain_rapidocr() -> Any:
    """``RapidOCR()`` with its defaults (detector, angle classifier, recogniser)."""
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def read_plain(engine: Any, bgr: np.ndarray) -> list[tuple[np.ndarray, str]]:
    result, _ = engine(bgr)
    return [(np.float32(box), str(text)) for box, text, _ in result or []]


def real_photo(name: str) -> np.ndarray:
    """A develop-pile phone photo of a printed page (models/data/documents/photos/develop)."""
    path = ROOT / "models" / "data" / "documents" / "photos" / "develop" / f"{name}.jpg"
    return cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)


def real_photo_cer(name: str, capture_mode: str) -> float:
    """CER of our reading of a real photo against its transcript, page in reading order."""
    from serving.real_documents import RealDocument, cer, reading_order

    path = ROOT / "models" / "data" / "documents" / "photos" / "develop" / f"{name}.jpg"
    doc = RealDocument(name, "photos", "develop", path)
    read = Ours().read(real_photo(name), {**CHOSEN, "capture": capture_mode})
    lines = [{"text": text, "box": box.tolist()} for box, text in read]
    errors, chars = cer(doc.label["lines"], reading_order(lines))
    return errors / chars


def total_cer(results: list[tuple[int, int]]) -> float:
    return sum(e for e, _ in results) / max(1, sum(c for _, c in results))


def main() -> None:
    ours = Ours()
    tune = pages(TUNE_SEEDS)
    for values in itertools.product(*SWEEP.values()):
        setting = dict(zip(SWEEP, values, strict=True))
        rate = total_cer([cer(p, ours.read(p.bgr, setting)) for p in tune])
        print(f"tune {setting}: CER {rate:.4f}", flush=True)
    engine = plain_rapidocr()
    before = {"capture": "none", "thresh": 0.3, "box_thresh": 0.5}
    for name, camera in (("held-out camera", True), ("held-out clean", False)):
        held = pages(HELD_OUT_SEEDS, camera)
        plain = total_cer([cer(p, read_plain(engine, p.bgr)) for p in held])
        ours_before = total_cer([cer(p, ours.read(p.bgr, before)) for p in held])
        chosen = total_cer([cer(p, ours.read(p.bgr, CHOSEN)) for p in held])
        print(f"{name}: RapidOCR() {plain:.4f}  before {ours_before:.4f}  chosen {chosen:.4f}")


if __name__ == "__main__":
    sys.exit(main())
