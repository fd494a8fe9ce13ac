"""Pages photographed sideways or upside down, with no EXIF to say so, turned before reading.

A phone held sideways over a receipt, or a page fed upside down into a scanner, reaches the
server with no orientation tag (scanners write none; messengers strip EXIF). DBNet still finds
the text lines, but the recognizer reads them as garbage. Two signals turn the page:

- **Sideways**: text lines are wide. When most of the detected boxes' ink (weighted by each
  box's long side) is in boxes at least ``TALL`` times taller than wide, the lines run up or
  down the page: it is turned 90 degrees counter-clockwise and detected again.
- **Upside down**: PP-OCR's 0/180 text-direction classifier (``ch_ppocr_mobile_v2.0_cls``,
  shipped in the ``rapidocr-onnxruntime`` wheel with the detector and recognizer, and run with
  rapidocr's own ``TextClassifier`` as the other OCR steps run rapidocr's post-processing) reads
  the ``VOTES`` longest line crops, cut into pieces about 8 times as wide as high, which its
  48 x 192 input squeezes by half (a whole 1400 px line squeezed into 192 px is a smear it
  answers near chance; a 4:1 piece of a small-print receipt line holds too few letters). A
  piece votes 180 when it says 180 with at least rapidocr's ``cls_thresh`` confidence and 0
  once turned (on Hangul it says 180 either way up), and 0 the other way round. When the 180
  votes hold more than ``MIN_UPSIDE_DOWN_SHARE`` of the pieces' width and outweigh the 0
  votes, the page is turned 180 degrees.

The classifier is a 0.6 MB CPU model: it runs in the detection stage's process (transformer or
local stage), not on the predictor, so no second model hop is added to a page.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import cv2
import numpy as np
import yaml
from rapidocr_onnxruntime.ch_ppocr_cls import TextClassifier

from modelplane_inference.documents import ocr

TALL = 1.5  # the ratio at which ``ocr.crop_box`` also treats a crop as vertical text
VOTES = 12  # longest lines read by the direction classifier (enough for a page; bounds cost)
PIECE_RATIO = 8.0  # width/height of a voting piece (the classifier's input is 4:1, 48 x 192)
MIN_SIDEWAYS_SHARE = 0.5
# Flip-checked "180" votes, share of the pieces' width (develop: korean-text, the 5 phone
# photos, 4 SROIE receipts): upright pages 0-0.20 (the two-column minutes page, whose whole
# lines voted 0.50: 0.20); pages turned 180: 0.45-1.0 (whole lines: 0.08-1.0, the photos
# 0.55-0.76 - three of five stayed upside down under the former 0.6 on whole lines), except a
# one-line headline (0.33 each way) and a faint receipt (0.22; whole lines 0.24).
MIN_UPSIDE_DOWN_SHARE = 0.35


def _wheel_dir() -> Path:
    import rapidocr_onnxruntime

    return Path(rapidocr_onnxruntime.__file__).resolve().parent


class DirectionClassifier:
    """rapidocr's 0/180 classifier on the wheel's model, one ORT thread (it is tiny)."""

    def __init__(self) -> None:
        wheel = _wheel_dir()
        config = yaml.safe_load((wheel / "config.yaml").read_text())["Cls"]
        config = {**config, "model_path": str(wheel / config["model_path"])}
        config["intra_op_num_threads"] = config["inter_op_num_threads"] = 1
        self.threshold = float(config["cls_thresh"])
        # ORT sessions run concurrently; rapidocr's wrapper copies the crops it is given.
        self._classifier = TextClassifier(config)

    def upside_down_share(self, crops: list[np.ndarray]) -> float:
        """Share of the crops' pieces' width voting 180 (see ``votes``)."""
        return self.votes(crops)[0]

    def votes(self, crops: list[np.ndarray]) -> tuple[float, float]:
        """(180, 0): shares of the pieces' width read as 180 degrees with confidence and as 0
        when the piece itself is turned 180 (the flip check), and the other way round.

        The classifier was trained on Chinese and Latin lines. On printed Hangul it answers 180
        for most lines whichever way up they are (real National Assembly bill pages, korean-text
        develop: 0.34-0.50 of the width of upright pages), so an answer counts only where
        turning the piece turns the answer too."""
        parts = [piece for crop in crops for piece in pieces(crop)]
        if not parts:
            return 0.0, 0.0
        _, results, _ = self._classifier(parts)
        _, turned, _ = self._classifier([np.ascontiguousarray(np.rot90(p, 2)) for p in parts])
        widths = np.array([part.shape[1] for part in parts], np.float64)
        sure = [
            (label, back) if score >= self.threshold and certain >= self.threshold else ("", "")
            for (label, score), (back, certain) in zip(results, turned, strict=True)
        ]
        down = np.array([pair == ("180", "0") for pair in sure], bool)
        up = np.array([pair == ("0", "180") for pair in sure], bool)
        total = widths.sum()
        return float(widths[down].sum() / total), float(widths[up].sum() / total)


def is_upside_down(down: float, up: float) -> bool:
    """The page reads upside down: enough 180 votes, and more of them than 0 votes."""
    return down > MIN_UPSIDE_DOWN_SHARE and down > up


def pieces(crop: np.ndarray, ratio: float = PIECE_RATIO) -> list[np.ndarray]:
    """``crop`` cut across into pieces about ``ratio`` times as wide as high; a crop under 1.5
    pieces long stays whole."""
    height, width = crop.shape[:2]
    step = max(1, round(height * ratio))
    if width <= 1.5 * step:
        return [crop]
    edges = np.linspace(0, width, math.ceil(width / step) + 1).astype(int)
    return [np.ascontiguousarray(crop[:, a:b]) for a, b in itertools.pairwise(edges)]


def sideways_share(boxes: list[np.ndarray]) -> float:
    """Share of the boxes' long sides in boxes that are ``TALL`` times taller than wide."""
    if not boxes:
        return 0.0
    widths = np.array([np.linalg.norm(b[0] - b[1]) for b in boxes])
    heights = np.array([np.linalg.norm(b[0] - b[3]) for b in boxes])
    long_sides = np.maximum(widths, heights)
    tall = heights >= TALL * np.maximum(widths, 1.0)
    return float(long_sides[tall].sum() / max(long_sides.sum(), 1e-9))


def is_sideways(boxes: list[np.ndarray]) -> bool:
    return sideways_share(boxes) > MIN_SIDEWAYS_SHARE


def longest_crops(
    page: np.ndarray, boxes: list[np.ndarray], count: int = VOTES
) -> list[np.ndarray]:
    """Crops of the ``count`` widest boxes: long lines carry the surest direction."""
    widest = sorted(boxes, key=lambda b: -float(np.linalg.norm(b[0] - b[1])))[:count]
    return [ocr.crop_box(page, box) for box in widest]


def turn(page: np.ndarray, degrees: int) -> np.ndarray:
    """``page`` turned clockwise by 90, 180 or 270 degrees (0: as is)."""
    codes = {
        90: cv2.ROTATE_90_CLOCKWISE,
        180: cv2.ROTATE_180,
        270: cv2.ROTATE_90_COUNTERCLOCKWISE,
    }
    return (
        page if degrees % 360 == 0 else np.ascontiguousarray(cv2.rotate(page, codes[degrees % 360]))
    )
