"""Camera captures: flatten the light of a photographed page before text detection.

A phone photo of a page has a light gradient and shadows; DB's probability map follows local
contrast, so text in the dark part scores under the box threshold and whole lines vanish.
Dividing the page by an estimate of its background (a grey closing with a kernel wider than a
glyph stroke, smoothed) leaves the ink on an even, white paper; a percentile stretch restores
full contrast. A clean scan is nearly unchanged (its background is already flat and white).

Selected with ``--param capture=flatten`` on the text-detection stage; the flattened page is
also what recognition crops from. Chosen on the camera-capture set (models/README.md).
"""

from __future__ import annotations

import cv2
import numpy as np

KERNEL_FRACTION = 1 / 40  # closing kernel: 1/40 of the page's short side (wider than strokes)
MIN_SPREAD = 0.15  # ink at least this much darker than its background, else left as sent


def flatten(bgr: np.ndarray) -> np.ndarray:
    """The page with its illumination divided out and its contrast stretched (uint8 BGR)."""
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    size = max(3, int(min(grey.shape) * KERNEL_FRACTION) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    background = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, kernel)
    background = cv2.GaussianBlur(background, (0, 0), size).astype(np.float32)
    ratio = grey.astype(np.float32) / np.maximum(background, 1.0)
    low, high = np.percentile(ratio, (0.5, 99.5))
    if high - low < MIN_SPREAD:
        return bgr  # a blank page or frame: stretching would only amplify its noise
    stretched = np.clip((ratio - low) / float(high - low), 0.0, 1.0)
    out = (stretched * 255).astype(np.uint8)
    return np.ascontiguousarray(cv2.cvtColor(out, cv2.COLOR_GRAY2BGR))


def prepare(bgr: np.ndarray, mode: str) -> np.ndarray:
    """``mode`` ``none`` (as sent) or ``flatten``."""
    if mode == "none":
        return bgr
    if mode == "flatten":
        return flatten(bgr)
    raise ValueError(f"--param capture must be none or flatten, got {mode!r}")
