"""Photos the car generator never draws: other vehicles, scenes, objects, textures, pets.

The quality gate's ``not-a-car`` must hold on what a claimant really sends by mistake, not only on
the document pages and textures of :func:`cars.not_a_car`. Nothing here is drawn by
:mod:`cars`'s car code: a bicycle, a motorbike, a boat, an aeroplane, a tram, a house front, a
room, a landscape, a table top with objects, brick/tile/plaid/wood textures, and pet photos.
:data:`TRAIN_KINDS` may feed the gate's ``not-a-car`` training; :data:`HELDOUT_KINDS` never do,
so the rejection measured on them is the gate's behaviour on shapes it never saw.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from . import animals, dogs
from .photo import Color, Rng, camera, jitter, random_color, value_noise

CANVAS = 192
Draw = ImageDraw.ImageDraw


def _backdrop(rng: Rng, sky: Color, ground: Color) -> tuple[Image.Image, float]:
    """Sky/wall above a horizon, ground below, with a smooth texture; -> (image, horizon y)."""
    horizon = CANVAS * rng.uniform(0.3, 0.65)
    field = value_noise(rng, CANVAS, int(rng.integers(6, 20)))[..., None] - 0.5
    rows = (np.arange(CANVAS) < horizon)[:, None, None]
    array = np.where(rows, np.array(jitter(rng, sky, 30)), np.array(jitter(rng, ground, 30)))
    array = array + field * rng.uniform(10, 50)
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)), horizon


def _wheel(draw: Draw, cx: float, cy: float, r: float, spokes: bool, color: Color) -> None:
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=color, width=max(2, int(r * 0.15)))
    for k in range(8 if spokes else 0):
        a = k * np.pi / 4
        draw.line([(cx, cy), (cx + r * np.cos(a), cy + r * np.sin(a))], fill=color, width=1)


def bicycle(rng: Rng) -> Image.Image:
    image, horizon = _backdrop(rng, (150, 190, 230), (110, 110, 110))
    draw, r = ImageDraw.Draw(image), CANVAS * rng.uniform(0.1, 0.18)
    x, y = rng.uniform(0.15, 0.45) * CANVAS + r, max(horizon + r, rng.uniform(0.6, 0.85) * CANVAS)
    frame = random_color(rng)
    for cx in (x, x + 2.6 * r):
        _wheel(draw, cx, y, r, True, (25, 25, 25))
    pts = [(x, y), (x + 1.1 * r, y), (x + 2.0 * r, y - 1.1 * r), (x + 0.8 * r, y - 1.1 * r)]
    draw.line([*pts, (x, y)], fill=frame, width=3)
    draw.line([(x + 1.1 * r, y), (x + 0.8 * r, y - 1.4 * r)], fill=frame, width=3)
    draw.line([(x + 2.0 * r, y - 1.1 * r), (x + 2.6 * r, y)], fill=frame, width=3)
    draw.line([(x + 2.0 * r, y - 1.1 * r), (x + 2.1 * r, y - 1.6 * r)], fill=frame, width=3)
    return image


def motorbike(rng: Rng) -> Image.Image:
    image, horizon = _backdrop(rng, (200, 200, 205), (80, 80, 85))
    draw, r = ImageDraw.Draw(image), CANVAS * rng.uniform(0.09, 0.14)
    x, y = rng.uniform(0.1, 0.4) * CANVAS + r, max(horizon + r, rng.uniform(0.65, 0.85) * CANVAS)
    paint = random_color(rng)
    for cx in (x, x + 3.2 * r):
        draw.ellipse([cx - r, y - r, cx + r, y + r], fill=(20, 20, 20))
        draw.ellipse([cx - r * 0.4, y - r * 0.4, cx + r * 0.4, y + r * 0.4], fill=(160, 160, 165))
    draw.polygon(
        [
            (x + 0.8 * r, y - 0.5 * r),
            (x + 1.4 * r, y - 1.5 * r),
            (x + 2.6 * r, y - 1.4 * r),
            (x + 2.4 * r, y - 0.3 * r),
        ],
        fill=paint,
    )
    draw.rectangle([x + 0.2 * r, y - 1.6 * r, x + 1.5 * r, y - 1.35 * r], fill=(30, 30, 30))
    draw.line(
        [(x + 2.6 * r, y - 1.4 * r), (x + 3.2 * r, y), (x + 2.8 * r, y - 2.1 * r)],
        fill=(60, 60, 60),
        width=3,
    )
    return image


def boat(rng: Rng) -> Image.Image:
    image, horizon = _backdrop(rng, (160, 200, 235), (40, 90, 150))
    draw, w = ImageDraw.Draw(image), CANVAS * rng.uniform(0.4, 0.8)
    x, y = rng.uniform(0.0, 1.0) * (CANVAS - w), horizon + rng.uniform(0.05, 0.25) * CANVAS
    draw.polygon(
        [(x, y - w * 0.15), (x + w, y - w * 0.15), (x + w * 0.85, y), (x + w * 0.1, y)],
        fill=jitter(rng, (240, 240, 240), 40),
    )
    draw.rectangle([x + w * 0.3, y - w * 0.3, x + w * 0.6, y - w * 0.15], fill=random_color(rng))
    if rng.random() < 0.5:  # a sail
        draw.line(
            [(x + w * 0.45, y - w * 0.3), (x + w * 0.45, y - w * 0.9)], fill=(60, 50, 40), width=2
        )
        draw.polygon(
            [
                (x + w * 0.47, y - w * 0.88),
                (x + w * 0.47, y - w * 0.35),
                (x + w * 0.85, y - w * 0.35),
            ],
            fill=(245, 245, 240),
        )
    return image


def aeroplane(rng: Rng) -> Image.Image:
    image, _ = _backdrop(rng, (140, 185, 235), (150, 185, 230))
    draw, w = ImageDraw.Draw(image), CANVAS * rng.uniform(0.5, 0.9)
    x, y = rng.uniform(0.0, 1.0) * (CANVAS - w), rng.uniform(0.3, 0.7) * CANVAS
    body = jitter(rng, (235, 235, 240), 20)
    draw.polygon(
        [(x + w * 0.35, y), (x + w * 0.6, y), (x + w * 0.3, y + w * 0.35)], fill=(200, 200, 205)
    )
    draw.rounded_rectangle([x, y - w * 0.06, x + w, y + w * 0.06], radius=w * 0.06, fill=body)
    draw.polygon(
        [(x, y - w * 0.05), (x + w * 0.08, y - w * 0.05), (x + w * 0.02, y - w * 0.25)],
        fill=random_color(rng),
    )
    for k in range(10):
        wx = x + w * (0.2 + 0.06 * k)
        draw.ellipse([wx, y - w * 0.02, wx + w * 0.02, y + w * 0.0], fill=(40, 60, 80))
    return image


def tram(rng: Rng) -> Image.Image:
    image, horizon = _backdrop(rng, (200, 200, 205), (100, 100, 100))
    draw, w = ImageDraw.Draw(image), CANVAS * rng.uniform(1.0, 1.6)
    x, bottom = -rng.uniform(0.0, 0.5) * w, max(horizon + 10, rng.uniform(0.65, 0.9) * CANVAS)
    top = bottom - w * 0.22
    draw.line([(0, bottom + 3), (CANVAS, bottom + 3)], fill=(60, 60, 60), width=3)
    draw.rectangle([x, top, x + w, bottom], fill=random_color(rng))
    for k in range(int(w // (w * 0.09))):
        wx = x + w * (0.03 + 0.09 * k)
        draw.rectangle([wx, top + w * 0.03, wx + w * 0.06, top + w * 0.1], fill=(50, 70, 90))
    draw.line([(x + w * 0.4, top), (x + w * 0.5, top - w * 0.12)], fill=(30, 30, 30), width=2)
    return image


def house(rng: Rng) -> Image.Image:
    image, horizon = _backdrop(rng, (150, 190, 230), (80, 130, 60))
    draw, w = ImageDraw.Draw(image), CANVAS * rng.uniform(0.5, 0.9)
    x, bottom = (
        rng.uniform(0.0, 1.0) * (CANVAS - w),
        max(horizon + 5, CANVAS * rng.uniform(0.7, 0.95)),
    )
    top = bottom - w * 0.6
    draw.rectangle([x, top, x + w, bottom], fill=jitter(rng, (220, 200, 170), 40))
    draw.polygon(
        [(x - w * 0.05, top), (x + w * 0.5, top - w * 0.35), (x + w * 1.05, top)],
        fill=jitter(rng, (150, 60, 40), 40),
    )
    for fx in (0.1, 0.65):
        draw.rectangle(
            [x + w * fx, top + w * 0.1, x + w * (fx + 0.22), top + w * 0.3], fill=(90, 120, 150)
        )
    draw.rectangle([x + w * 0.4, bottom - w * 0.3, x + w * 0.58, bottom], fill=(90, 60, 40))
    return image


def room(rng: Rng) -> Image.Image:
    image, horizon = _backdrop(rng, (225, 215, 195), (150, 110, 70))
    draw = ImageDraw.Draw(image)
    sx, sw = rng.uniform(0.0, 0.4) * CANVAS, rng.uniform(0.4, 0.6) * CANVAS
    sofa = random_color(rng)
    draw.rectangle([sx, horizon - 40, sx + sw, horizon + 15], fill=sofa)
    draw.rectangle([sx - 8, horizon - 20, sx + 8, horizon + 15], fill=sofa)
    draw.rectangle([sx + sw - 8, horizon - 20, sx + sw + 8, horizon + 15], fill=sofa)
    px = rng.uniform(0.1, 0.7) * CANVAS
    draw.rectangle([px, 15, px + 45, 50], fill=random_color(rng), outline=(60, 40, 20), width=3)
    tx = rng.uniform(0.2, 0.8) * CANVAS
    draw.rectangle([tx - 30, horizon + 30, tx + 30, horizon + 36], fill=(110, 70, 40))
    return image


def landscape(rng: Rng) -> Image.Image:
    image, horizon = _backdrop(rng, (150, 190, 235), (70, 120, 60))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(2, 5))):
        peak, half = rng.uniform(0, 1) * CANVAS, rng.uniform(0.15, 0.4) * CANVAS
        height = rng.uniform(0.1, 0.3) * CANVAS
        draw.polygon(
            [(peak - half, horizon), (peak, horizon - height), (peak + half, horizon)],
            fill=jitter(rng, (110, 110, 125), 30),
        )
    for _ in range(int(rng.integers(0, 6))):
        tx, ty = rng.uniform(0, 1) * CANVAS, horizon + rng.uniform(0, 0.3) * CANVAS
        draw.rectangle([tx - 2, ty, tx + 2, ty + 14], fill=(90, 60, 40))
        draw.ellipse([tx - 10, ty - 20, tx + 10, ty + 4], fill=jitter(rng, (40, 110, 40), 25))
    return image


def table_top(rng: Rng) -> Image.Image:
    image, horizon = _backdrop(rng, (220, 220, 215), (140, 100, 60))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(2, 6))):
        x, y = rng.uniform(0.05, 0.85) * CANVAS, horizon + rng.uniform(0.0, 0.35) * CANVAS
        w, h = rng.uniform(15, 50), rng.uniform(15, 60)
        shape = int(rng.integers(3))
        if shape == 0:  # a phone or a laptop
            draw.rounded_rectangle([x, y - h, x + w, y], radius=4, fill=(25, 25, 28))
            draw.rectangle([x + 3, y - h + 3, x + w - 3, y - 3], fill=random_color(rng))
        elif shape == 1:  # a cup
            draw.rectangle([x, y - h * 0.6, x + w * 0.6, y], fill=random_color(rng))
        else:  # a fruit bowl
            draw.pieslice([x, y - w * 0.5, x + w, y + w * 0.5], 0, 180, fill=random_color(rng))
    return image


def texture(rng: Rng) -> Image.Image:
    """Brick wall, floor tiles, plaid fabric or wood grain, filling the frame."""
    kind = int(rng.integers(4))
    a, b = jitter(rng, random_color(rng), 0), jitter(rng, random_color(rng), 0)
    image = Image.new("RGB", (CANVAS, CANVAS), a)
    draw = ImageDraw.Draw(image)
    step = int(rng.integers(12, 32))
    for row in range(0, CANVAS, step):
        if kind == 0:  # brick courses, offset every other row
            draw.line([(0, row), (CANVAS, row)], fill=b, width=2)
            for col in range((row // step % 2) * step, CANVAS, step * 2):
                draw.line([(col, row), (col, row + step)], fill=b, width=2)
        elif kind == 1:  # tiles
            for col in range(0, CANVAS, step):
                if (row // step + col // step) % 2:
                    draw.rectangle([col, row, col + step, row + step], fill=b)
        elif kind == 2:  # plaid
            draw.rectangle([0, row, CANVAS, row + step // 3], fill=b)
            draw.rectangle([row, 0, row + step // 3, CANVAS], fill=b)
        else:  # wood grain
            wave = [(x, row + 4 * np.sin(x / rng.uniform(8, 20))) for x in range(0, CANVAS, 4)]
            draw.line(wave, fill=b, width=2)
    return image


def pet(rng: Rng) -> Image.Image:
    """A dog or cat photo sent to the car endpoint (the pet generators' own photos)."""
    if rng.random() < 0.5:
        return dogs.photo(rng, dogs.BREEDS[int(rng.integers(len(dogs.BREEDS)))])
    return animals.photo(rng, "cat")


MAKERS: dict[str, Callable[[Rng], Image.Image]] = {
    "bicycle": bicycle,
    "motorbike": motorbike,
    "boat": boat,
    "aeroplane": aeroplane,
    "tram": tram,
    "house": house,
    "room": room,
    "landscape": landscape,
    "table-top": table_top,
    "texture": texture,
}
TRAIN_KINDS = ("bicycle", "room", "texture")
HELDOUT_KINDS = ("motorbike", "boat", "aeroplane", "tram", "house", "landscape", "table-top", "pet")


def photo(rng: Rng, kind: str) -> Image.Image:
    """One phone photo of ``kind`` (pets come already through the camera)."""
    if kind == "pet":
        return pet(rng)
    image = MAKERS[kind](rng).rotate(
        rng.uniform(-6, 6), resample=Image.Resampling.BILINEAR, fillcolor=(90, 90, 90)
    )
    return camera(image, rng, defocus=rng.uniform(0.0, 0.5))


def generators(kinds: tuple[str, ...]) -> dict[str, Callable[[Rng], Image.Image]]:
    """Kind -> generator of its photos (for :func:`datasets.synthesize`)."""

    def of(kind: str) -> Callable[[Rng], Image.Image]:
        return lambda rng: photo(rng, kind)

    return {kind: of(kind) for kind in kinds}
