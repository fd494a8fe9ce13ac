"""A printed page as a phone photographs it: the camera-capture evaluation set of the OCR.

Scaled down (a whole page in the frame), off-white paper, an illumination gradient with a soft
shadow over part of the page, a slight perspective tilt, a little defocus, low contrast and a
JPEG at quality 60-85. The page's text boxes go through the same scaling and perspective
transform, so the ground truth stays aligned.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

Quad = tuple[tuple[float, float], ...]


def _lighting(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Multiplicative light: a linear gradient and a soft shadow (a hand or the phone)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / width + np.sin(angle) * yy / height + 1) / 2
    light = 1.0 - rng.uniform(0.15, 0.35) * ramp
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.6, 1.1) * height
    radius = rng.uniform(0.3, 0.5) * max(height, width)
    shadow = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2)))
    lit: np.ndarray = light * (1.0 - rng.uniform(0.45, 0.7) * shadow)
    return lit


def _tilt(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A homography moving each corner by up to 4% of the page: the phone held not quite flat."""
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    jitter = rng.uniform(-0.04, 0.04, size=(4, 2)) * np.array([width, height], dtype=np.float32)
    matrix: np.ndarray = cv2.getPerspectiveTransform(src, (src + jitter).astype(np.float32))
    return matrix


def phone_capture(
    image: Image.Image, boxes: list[Quad], seed: int
) -> tuple[Image.Image, list[Quad]]:
    """The photographed page and the text boxes moved with it."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.6, 0.75)  # a whole page in a phone frame: smaller text than a scan
    size = (int(image.width * scale), int(image.height * scale))
    image = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    boxes = [tuple((x * scale, y * scale) for x, y in box) for box in boxes]
    page = np.asarray(image, dtype=np.float32)
    height, width = page.shape[:2]
    paper = np.array(
        [rng.uniform(225, 245), rng.uniform(220, 240), rng.uniform(200, 225)], dtype=np.float32
    )
    page = page / 255.0 * paper  # off-white paper, ink stays dark
    contrast = rng.uniform(0.3, 0.55)  # low contrast: ink greyer, paper duller
    page = page.mean() + (page - page.mean()) * contrast
    page *= _lighting(rng, height, width)[..., None]
    matrix = _tilt(rng, height, width)
    page = np.asarray(
        cv2.warpPerspective(page, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE),
        dtype=np.float32,
    )
    page = np.asarray(cv2.GaussianBlur(page, (0, 0), rng.uniform(0.6, 1.2)), dtype=np.float32)
    page += rng.normal(0, 3.0, page.shape).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).save(
        buffer, format="JPEG", quality=int(rng.integers(60, 86))
    )
    moved = [
        tuple(
            (float(x), float(y))
            for x, y in cv2.perspectiveTransform(np.array([box], dtype=np.float32), matrix)[0]
        )
        for box in boxes
    ]
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), moved
