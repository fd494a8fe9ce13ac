"""Which recogniser reads a line: PP-OCR CTC for Latin and digits, Tesseract kor+eng for Hangul.

The PP-OCRv4 recogniser has no Hangul in its dictionary. On a Korean line it answers one of
three ways, all seen on rendered receipts: nothing; Chinese look-alikes ("合計" style glyphs
for 합계, "是" for 원); or - the dangerous one - only the Latin part with a high score
(": 2019.05.11" at 0.99 for "진료일자: 2019.05.11"). So the decision uses the CTC answer *and*
the crop: ink that no emitted character sits near (``unread_ink``) is script the recogniser
did not read. A line is

- ``latin``: the CTC text has no CJK glyph, its score is at least ``MIN_CTC_SCORE`` and at
  most ``MAX_UNREAD`` of its ink columns are unread -> the CTC text is kept;
- ``hangul``: the CTC text has no Latin letter or digit (empty or only look-alikes);
- ``mixed``: some Latin/digits were read, the rest was not -> Tesseract kor+eng reads the
  whole line (it reads both scripts; the CTC part alone would drop the label).

Thresholds were chosen on the tune split of the intake generator (models/README.md).
"""

from __future__ import annotations

import re

import cv2
import numpy as np

MIN_CTC_SCORE = 0.7
MAX_UNREAD = 0.15
NEAR_PX = 20  # an ink column within this many pixels (at height 48) of an emission is read
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7a3\uf900-\ufaff\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z0-9]")


def ink_columns(crop: np.ndarray, height: int) -> np.ndarray:
    """Columns (at the recogniser's input height) holding dark ink, as indices."""
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    width = max(1, int(np.ceil(height * grey.shape[1] / max(grey.shape[0], 1))))
    grey = cv2.resize(grey, (width, height))
    _, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    margin = height // 8  # box edges often clip the neighbouring line
    has_ink: np.ndarray = ink[margin : height - margin].sum(axis=0) > 0
    return np.flatnonzero(has_ink)


def unread_ink(crop: np.ndarray, indices: np.ndarray, stride: float, height: int = 48) -> float:
    """Fraction of the crop's ink columns with no non-blank CTC emission near them.

    ``indices`` is the best class per time step of this crop (0 = blank), ``stride`` the
    input pixels per time step (the padded width / the number of steps).
    """
    columns = ink_columns(crop, height)
    if len(columns) == 0:
        return 0.0
    emitted = np.flatnonzero(np.asarray(indices) != 0)
    if len(emitted) == 0:
        return 1.0
    centres = emitted * stride + stride / 2
    distance = np.abs(columns[:, None] - centres[None, :]).min(axis=1)
    return float((distance > NEAR_PX).mean())


def script_of(ctc_text: str, ctc_score: float, unread: float) -> str:
    """``latin``, ``hangul`` or ``mixed`` for one line (rules in the module docstring)."""
    has_latin = bool(_LATIN.search(ctc_text))
    if not has_latin:
        return "hangul"
    if _CJK.search(ctc_text) or ctc_score < MIN_CTC_SCORE or unread > MAX_UNREAD:
        return "mixed"
    return "latin"


def recogniser_for(script: str) -> str:
    """``ctc`` for Latin lines, ``tesseract`` (kor+eng) for Hangul and mixed ones."""
    return "ctc" if script == "latin" else "tesseract"
