"""Turning a drawn car into a wreck too badly damaged to estimate from a photo.

The quality gate's ``too-damaged`` reason: an adjuster cannot price a crushed, burnt-out or
dismantled car from a phone photo (it goes to an on-site inspection instead). A wreck starts as
a normal car drawn on a transparent layer (so every paint, view and size of the accepted photos
occurs), then one of three treatments changes the body itself, not a few scratches on it:

- ``crushed``: the body is squashed and crumpled by a smooth random displacement field, with
  creases and shattered glass;
- ``burnt``: paint replaced by soot, ash and rust in blotches, glass gone black;
- ``dismantled``: wheels gone (the body on blocks), panels cut out showing a dark interior, parts
  lying on the ground (see :func:`debris`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from .photo import Rng, jitter, value_noise

KINDS = ("crushed", "burnt", "dismantled")
Box = tuple[float, float, float]  # (x0, bottom, width) of the car body


def _crush(array: NDArray[np.uint8], rng: Rng, box: Box) -> NDArray[np.uint8]:
    """Squash towards the ground and crumple with a smooth displacement field."""
    size = array.shape[0]
    _, bottom, width = box
    amp = width * rng.uniform(0.05, 0.1)
    cells = int(rng.integers(4, 9))
    dx = (value_noise(rng, size, cells) - 0.5) * 2 * amp
    dy = (value_noise(rng, size, cells) - 0.5) * 2 * amp
    squash = rng.uniform(1.3, 2.0)  # the body is 1/squash of its height
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    src_y = np.clip(bottom - (bottom - yy) * squash + dy, 0, size - 1).astype(np.intp)
    src_x = np.clip(xx + dx, 0, size - 1).astype(np.intp)
    out: NDArray[np.uint8] = array[src_y, src_x].copy()
    alpha = out[..., 3] > 0
    for _ in range(int(rng.integers(6, 14))):  # creases: dark folds with a light edge
        y0 = int(rng.uniform(bottom - width * 0.3, bottom))
        x0 = int(rng.uniform(box[0], box[0] + width))
        length = int(width * rng.uniform(0.1, 0.3))
        slope = rng.uniform(-0.6, 0.6)
        for t in range(length):
            y, x = int(y0 + slope * t), x0 + t
            if 0 <= y < size - 1 and 0 <= x < size and alpha[y, x]:
                out[y, x, :3] = (30, 30, 32)
                out[y + 1, x, :3] = np.minimum(out[y + 1, x, :3].astype(np.int32) + 70, 255)
    glass = (out[..., 2] > out[..., 0] + 15) & alpha  # the bluish glass: shattered to white bits
    shards = rng.random(glass.shape) < 0.45
    out[glass & shards, :3] = 225
    return out


def _burn(array: NDArray[np.uint8], rng: Rng, box: Box) -> NDArray[np.uint8]:
    """Replace the paint by soot/ash/rust blotches; keep a faint trace of the shapes."""
    del box
    size = array.shape[0]
    out = array.copy()
    alpha = out[..., 3] > 0
    field = value_noise(rng, size, int(rng.integers(8, 20)))[..., None]
    soot = np.array(jitter(rng, (28, 25, 22), 8), np.float32)
    rust = np.array(jitter(rng, (120, 62, 34), 20), np.float32)
    ash = np.array(jitter(rng, (135, 130, 122), 15), np.float32)
    mix = np.where(
        field < 0.5, soot + (rust - soot) * field * 2, rust + (ash - rust) * (field - 0.5) * 2
    )
    trace = out[..., :3].astype(np.float32).mean(axis=2, keepdims=True) * 0.15
    grain = rng.normal(0, 12, size=mix.shape).astype(np.float32)
    burnt = np.clip(mix * 0.85 + trace + grain, 0, 255).astype(np.uint8)
    out[..., :3] = np.where(alpha[..., None], burnt, out[..., :3])
    return out


def _dismantle(array: NDArray[np.uint8], rng: Rng, box: Box) -> NDArray[np.uint8]:
    """No wheels (the body sits on blocks) and panels cut out to a dark, rusty interior."""
    x0, bottom, width = box
    image = Image.fromarray(array, "RGBA")
    draw = ImageDraw.Draw(image)
    wheel_top = bottom - width * 0.2
    draw.rectangle(
        [x0 - width * 0.05, wheel_top, x0 + width * 1.05, bottom + width * 0.06], fill=(0, 0, 0, 0)
    )
    out = np.asarray(image).copy()
    for bx in (x0 + width * 0.15, x0 + width * 0.75):  # blocks where the wheels were
        out[int(wheel_top) : int(bottom), int(bx) : int(bx + width * 0.1)] = (
            *jitter(rng, (150, 140, 130), 20),
            255,
        )
    body = np.argwhere(out[..., 3] > 0)
    if len(body):
        for _ in range(int(rng.integers(2, 5))):
            y, x = body[rng.integers(len(body))]
            h, w = int(width * rng.uniform(0.08, 0.18)), int(width * rng.uniform(0.12, 0.3))
            hole = out[y : y + h, x : x + w]
            inside = hole[..., 3] > 0
            dark = np.array(jitter(rng, (40, 36, 34), 10), np.uint8)
            hole[inside, :3] = dark
            rust = inside & (rng.random(inside.shape) < 0.2)
            hole[rust, :3] = (110, 60, 35)
    return out


def wreck(layer: Image.Image, rng: Rng, box: Box) -> Image.Image:
    """One of :data:`KINDS` applied to the RGBA ``layer`` holding a car drawn at ``box``."""
    treat = (_crush, _burn, _dismantle)[int(rng.integers(len(KINDS)))]
    return Image.fromarray(treat(np.asarray(layer).copy(), rng, box), "RGBA")


def debris(image: Image.Image, rng: Rng, box: Box) -> None:
    """Loose parts on the ground beside the wreck: a wheel, a bumper, a door panel, glass."""
    x0, bottom, width = box
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 4))):
        cx = x0 + rng.uniform(-0.2, 1.2) * width
        cy = bottom + rng.uniform(0.0, 0.08) * width
        r = width * rng.uniform(0.05, 0.1)
        if rng.random() < 0.5:
            draw.ellipse([cx - r, cy - r * 0.5, cx + r, cy + r * 0.5], fill=(20, 20, 20))
        else:
            draw.polygon(
                [(cx - r * 2, cy), (cx + r * 1.5, cy - r * 0.4), (cx + r * 2, cy + r * 0.4)],
                fill=jitter(rng, (90, 90, 95), 50),
            )
