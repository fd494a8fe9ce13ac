"""Procedurally drawn dogs whose breed fixes their visible traits.

Each breed in :data:`BREEDS` (the one list the ``breed`` and ``premium`` models share) has a coat
colour set, a coat pattern, a fur texture, an ear shape, body proportions and a tail; pose, size,
position, mirroring, background, light, noise and JPEG vary freely (the augmentation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .photo import Color, Rng, camera, gaussian_blur, jitter, value_noise

CANVAS = 128


@dataclass(frozen=True)
class Breed:
    """Visible traits. Proportions are in units of the body length."""

    name: str
    coats: tuple[Color, ...]
    accent: Color
    pattern: str  # solid | saddle | urajiro | patches | points | spots
    fur: str  # short | long | curly | fluffy
    ear: str  # floppy | long | pointy | small
    body: tuple[float, float]  # (length, height)
    legs: float
    head: float
    tail: str  # straight | curl | feather | pom | stub
    snout: float


WHITE, BLACK, TAN = (240, 238, 232), (28, 26, 26), (190, 120, 60)
BREEDS: tuple[Breed, ...] = (
    Breed(
        "golden_retriever",
        ((212, 160, 62), (226, 182, 96)),
        WHITE,
        "solid",
        "long",
        "floppy",
        (1.0, 0.42),
        0.45,
        0.22,
        "feather",
        0.16,
    ),
    Breed(
        "labrador_retriever",
        (BLACK, (226, 196, 132), (96, 60, 36)),
        WHITE,
        "solid",
        "short",
        "floppy",
        (1.0, 0.42),
        0.45,
        0.22,
        "straight",
        0.16,
    ),
    Breed(
        "poodle",
        (WHITE, (232, 182, 132), BLACK, (140, 140, 145)),
        WHITE,
        "solid",
        "curly",
        "floppy",
        (0.8, 0.38),
        0.65,
        0.2,
        "pom",
        0.17,
    ),
    Breed(
        "shiba_inu",
        ((204, 112, 48), (214, 128, 60)),
        WHITE,
        "urajiro",
        "short",
        "pointy",
        (0.85, 0.4),
        0.42,
        0.22,
        "curl",
        0.12,
    ),
    Breed(
        "jindo",
        (WHITE, (212, 172, 112)),
        WHITE,
        "solid",
        "short",
        "pointy",
        (0.9, 0.36),
        0.52,
        0.2,
        "curl",
        0.14,
    ),
    Breed(
        "maltese",
        (WHITE, (246, 242, 228)),
        WHITE,
        "solid",
        "long",
        "long",
        (0.75, 0.36),
        0.22,
        0.24,
        "feather",
        0.09,
    ),
    Breed(
        "pomeranian",
        ((228, 140, 52), (236, 196, 140)),
        WHITE,
        "solid",
        "fluffy",
        "small",
        (0.65, 0.5),
        0.18,
        0.26,
        "pom",
        0.07,
    ),
    Breed(
        "bulldog",
        (WHITE,),
        (196, 150, 96),
        "patches",
        "short",
        "small",
        (0.9, 0.52),
        0.26,
        0.3,
        "stub",
        0.04,
    ),
    Breed(
        "dachshund",
        ((156, 72, 32), BLACK),
        TAN,
        "points",
        "short",
        "long",
        (1.35, 0.3),
        0.16,
        0.2,
        "straight",
        0.2,
    ),
    Breed(
        "beagle",
        (WHITE,),
        BLACK,
        "saddle",
        "short",
        "floppy",
        (0.9, 0.4),
        0.38,
        0.22,
        "straight",
        0.14,
    ),
)
NAMES = tuple(b.name for b in BREEDS)


def scene(rng: Rng) -> Image.Image:
    """Grass, floor, carpet or sofa with a smooth random texture."""
    base = np.array(
        jitter(
            rng,
            ((90, 140, 70), (170, 140, 110), (120, 120, 140), (200, 200, 195))[rng.integers(4)],
            40,
        ),
        np.float32,
    )
    field = value_noise(rng, CANVAS, int(rng.integers(4, 24)))[..., None] - 0.5
    array = base + field * rng.uniform(20, 80)
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))


def _fur(
    draw: ImageDraw.ImageDraw, rng: Rng, box: list[float], coat: Color, fur: str, unit: float
) -> None:
    """Texture over an ellipse ``box``: fringes, curls or a fluffy halo."""
    x0, y0, x1, y1 = box
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    count = {"long": 40, "curly": 60, "fluffy": 70}.get(fur, 0)
    for angle in rng.uniform(0, 2 * np.pi, count):
        px, py = cx + rx * np.cos(angle), cy + ry * np.sin(angle)
        shade = jitter(rng, coat, 30)
        if fur == "curly":
            r = unit * rng.uniform(0.03, 0.05)
            qx, qy = cx + rx * 0.8 * np.cos(angle), cy + ry * 0.8 * np.sin(angle)
            draw.ellipse([qx - r, qy - r, qx + r, qy + r], outline=shade, width=1)
        elif fur == "fluffy":
            length = unit * rng.uniform(0.08, 0.16)
            draw.line(
                [(px, py), (px + length * np.cos(angle), py + length * np.sin(angle))],
                fill=shade,
                width=2,
            )
        elif np.sin(angle) > -0.2:  # long fur hangs down from the lower half
            length = unit * rng.uniform(0.06, 0.14)
            draw.line([(px, py), (px + rng.normal(0, 1), py + length)], fill=shade, width=2)


def _tail(
    draw: ImageDraw.ImageDraw, breed: Breed, coat: Color, x: float, y: float, unit: float
) -> None:
    width = max(2, int(unit * 0.05))
    if breed.tail == "curl":
        r = unit * 0.13
        draw.arc([x - r, y - 2 * r, x + r, y], 60, 330, fill=coat, width=width * 2)
    elif breed.tail == "pom":
        draw.line([(x, y), (x - unit * 0.1, y - unit * 0.22)], fill=coat, width=width)
        r = unit * 0.09
        draw.ellipse(
            [x - unit * 0.1 - r, y - unit * 0.22 - r, x - unit * 0.1 + r, y - unit * 0.22 + r],
            fill=coat,
        )
    elif breed.tail == "feather":
        draw.polygon(
            [(x, y), (x - unit * 0.3, y - unit * 0.05), (x - unit * 0.25, y + unit * 0.1)],
            fill=coat,
        )
    elif breed.tail == "stub":
        draw.ellipse(
            [x - unit * 0.04, y - unit * 0.03, x + unit * 0.04, y + unit * 0.05], fill=coat
        )
    else:
        end = (x - unit * 0.28, y - unit * 0.18)
        draw.line([(x, y), end], fill=coat, width=width)
        if breed.pattern == "saddle":
            draw.ellipse([end[0] - 3, end[1] - 3, end[0] + 3, end[1] + 3], fill=WHITE)


def _ears(
    draw: ImageDraw.ImageDraw, breed: Breed, color: Color, hx: float, hy: float, r: float
) -> None:
    if breed.ear in ("pointy", "small"):
        size = r * (0.9 if breed.ear == "pointy" else 0.45)
        for dx in (-0.55, 0.15):
            base = hx + dx * r
            draw.polygon(
                [
                    (base, hy - r * 0.6),
                    (base + size * 0.9, hy - r * 0.6),
                    (base + size * 0.3, hy - r * 0.6 - size),
                ],
                fill=color,
            )
    else:
        length = r * (1.7 if breed.ear == "long" else 1.1)
        draw.ellipse(
            [hx - r * 0.75, hy - r * 0.5, hx - r * 0.1, hy - r * 0.5 + length],
            fill=tuple(int(c * 0.85) for c in color),
        )


def draw_dog(image: Image.Image, rng: Rng, breed: Breed, x: float, y: float, unit: float) -> None:
    """A dog facing right whose body's back-left corner is at (x, y); ``unit`` = body length."""
    draw = ImageDraw.Draw(image)
    coat = jitter(rng, breed.coats[rng.integers(len(breed.coats))], 14)
    length, height = breed.body[0] * unit, breed.body[1] * unit
    leg_w, leg_h = unit * (0.13 if breed.name == "bulldog" else 0.09), breed.legs * unit
    leg_color = TAN if breed.pattern == "points" and coat[0] < 60 else coat
    for lx in (x + length * 0.08, x + length * 0.22, x + length * 0.7, x + length * 0.84):
        draw.rectangle(
            [lx, y + height * 0.6, lx + leg_w, y + height * 0.6 + leg_h],
            fill=leg_color if breed.pattern != "saddle" else WHITE,
        )
    _tail(
        draw,
        breed,
        coat if breed.pattern != "saddle" else WHITE,
        x + unit * 0.04,
        y + height * 0.3,
        unit,
    )
    body = [x, y, x + length, y + height]
    draw.ellipse(body, fill=coat)
    if breed.pattern == "saddle":
        draw.ellipse(
            [x + length * 0.1, y - height * 0.05, x + length * 0.75, y + height * 0.5], fill=BLACK
        )
    elif breed.pattern == "urajiro":
        draw.ellipse([x + length * 0.55, y + height * 0.45, x + length, y + height], fill=WHITE)
    elif breed.pattern == "patches":
        for _ in range(int(rng.integers(1, 4))):
            px, py = x + rng.uniform(0, 0.7) * length, y + rng.uniform(0, 0.5) * height
            draw.ellipse([px, py, px + length * 0.35, py + height * 0.5], fill=breed.accent)
    elif breed.pattern == "spots":  # many small dots (breeds outside BREEDS only)
        for _ in range(int(rng.integers(8, 16))):
            px, py = x + rng.uniform(0.05, 0.9) * length, y + rng.uniform(0.1, 0.8) * height
            d = unit * rng.uniform(0.03, 0.06)
            draw.ellipse([px, py, px + d, py + d], fill=breed.accent)
    _fur(draw, rng, body, coat, breed.fur, unit)
    r = breed.head * unit
    hx, hy = x + length + r * 0.2, y - r * 0.4
    head_color = TAN if breed.pattern == "saddle" else coat
    draw.ellipse([hx - r, hy - r, hx + r, hy + r], fill=head_color)
    _ears(draw, breed, head_color if breed.pattern != "saddle" else (120, 70, 35), hx, hy, r)
    muzzle = WHITE if breed.pattern in ("urajiro", "saddle") else head_color
    if breed.pattern == "points" and coat[0] < 60:
        muzzle = TAN
    s = breed.snout * unit
    draw.ellipse([hx + r * 0.4, hy - r * 0.05, hx + r * 0.8 + s, hy + r * 0.55], fill=muzzle)
    draw.ellipse([hx + r * 0.7 + s, hy, hx + r * 0.95 + s, hy + r * 0.22], fill=(15, 15, 15))
    draw.ellipse([hx + r * 0.2, hy - r * 0.35, hx + r * 0.42, hy - r * 0.13], fill=(10, 10, 10))
    if breed.fur in ("curly", "fluffy", "long"):
        _fur(draw, rng, [hx - r, hy - r, hx + r, hy + r], head_color, breed.fur, unit * 0.7)


def photo(rng: Rng, breed: Breed) -> Image.Image:
    """One augmented photo of a dog of ``breed``."""
    image = scene(rng)
    unit = rng.uniform(0.38, 0.6) * CANVAS / max(1.0, breed.body[0])
    x = rng.uniform(0.02, 0.9) * (CANVAS - unit * (breed.body[0] + breed.head))
    y = rng.uniform(0.3, 0.55) * CANVAS
    draw_dog(image, rng, breed, x, y, unit)
    return finish(image, rng)


def finish(image: Image.Image, rng: Rng) -> Image.Image:
    """The pose and camera augmentation every pet photo gets (dogs and the non-dogs alike, so
    an open-set score cannot tell them apart by their processing)."""
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = image.rotate(
        rng.uniform(-10, 10), resample=Image.Resampling.BILINEAR, fillcolor=image.getpixel((0, 0))
    )
    if rng.random() < 0.2:
        image = gaussian_blur(image, rng.uniform(0.3, 1.0))
    return camera(image, rng)


def generators() -> dict[str, Callable[[Rng], Image.Image]]:
    """Breed name -> generator of its photos (for :func:`datasets.synthesize`)."""

    def of(breed: Breed) -> Callable[[Rng], Image.Image]:
        return lambda rng: photo(rng, breed)

    return {b.name: of(b) for b in BREEDS}
