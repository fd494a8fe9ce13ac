"""Camera captures: flatten the light of a photographed page before text detection.

A phone photo of a page has a light gradient and shadows; DB's probability map follows local
contrast, so text in the dark part scores under the box threshold and whole lines vanish.
Dividing the page by an estimate of its background (a grey closing with a kernel wider than a
glyph stroke, smoothed) leaves the ink on an even, white paper; a percentile stretch restores
full contrast. A clean scan is nearly unchanged (its background is already flat and white).

Real photos decide when (``models/data/documents/photos``, models/README.md "Capture"): on the
synthetic camera set (light falling to half across the page) flattening cut CER 0.10 -> 0.02,
but on real phone photos of evenly lit pages it helped one, changed nothing on another and
hurt a third (CER 0.23 -> 0.39: the stretch greys thin strokes). So ``capture=auto`` (the
default) measures the light first and flattens only a page whose paper is uneven: the
darkest paper (5th percentile of the background estimate, page margins left out) under
``UNEVEN_BELOW`` of the brightest (95th). Real photos measure 0.75-0.81, scans 0.83-1.0, the
synthetic shadowed pages 0.51-0.52. ``flatten`` and ``none`` force either way.

The flattened page is only for finding lines: recognition crops them from the page as sent
(``stages/documents.py``). The stretch changes glyphs as well as light - Tesseract read the
flattened white-on-green 서울 of a real road sign as 서을 - and on the synthetic camera tune
pages crops of the page as sent read better too (CER 0.0080 -> 0.0023).
"""

from __future__ import annotations

import cv2
import numpy as np

KERNEL_FRACTION = 1 / 40  # closing kernel: 1/40 of the page's short side (wider than strokes)
MIN_SPREAD = 0.15  # ink at least this much darker than its background, else left as sent
UNEVEN_BELOW = 0.65  # darkest/brightest paper ratio under which a page is flattened (auto)
MEASURE_SIDE = 400  # the light is measured on a copy this long: the background is smooth
MODES = ("auto", "flatten", "none")


def _background(grey: np.ndarray) -> np.ndarray:
    """The paper's brightness: a grey closing wider than a glyph stroke, smoothed."""
    size = max(3, int(min(grey.shape) * KERNEL_FRACTION) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    background = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, kernel)
    return cv2.GaussianBlur(background, (0, 0), size).astype(np.float32)


def light_evenness(bgr: np.ndarray) -> float:
    """Darkest over brightest paper (5th / 95th percentile of the background, inner 80%)."""
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    scale = min(1.0, MEASURE_SIDE / max(grey.shape))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    background = _background(small)
    h, w = background.shape
    core = background[h // 10 : h - h // 10, w // 10 : w - w // 10]
    low, high = np.percentile(core, (5, 95))
    return float(low / max(high, 1.0))


def flatten(bgr: np.ndarray) -> np.ndarray:
    """The page with its illumination divided out and its contrast stretched (uint8 BGR)."""
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    background = _background(grey)
    ratio = grey.astype(np.float32) / np.maximum(background, 1.0)
    low, high = np.percentile(ratio, (0.5, 99.5))
    if high - low < MIN_SPREAD:
        return bgr  # a blank page or frame: stretching would only amplify its noise
    stretched = np.clip((ratio - low) / float(high - low), 0.0, 1.0)
    out = (stretched * 255).astype(np.uint8)
    return np.ascontiguousarray(cv2.cvtColor(out, cv2.COLOR_GRAY2BGR))


def prepare(bgr: np.ndarray, mode: str) -> np.ndarray:
    """``mode`` ``auto`` (flatten uneven light only), ``flatten`` or ``none`` (as sent)."""
    if mode not in MODES:
        raise ValueError(f"--param capture must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "none" or (mode == "auto" and light_evenness(bgr) >= UNEVEN_BELOW):
        return bgr
    return flatten(bgr)
