"""Photos a breed model must not name a breed for: other animals, objects, dogs of other breeds.

Drawn in the dog generator's style and scenes and through the same pose and camera augmentation
(:func:`dogs.finish`), so only the subject differs. Every kind belongs to one of two disjoint
families: :data:`TRAIN_KINDS` (the breed model's outlier exposure and calibration) and
:data:`HELDOUT_KINDS` (shapes the training never saw, for measuring the open-set rejection).
Each kind is also either ``not-a-dog`` or ``unknown-breed`` (:data:`REASON_OF`).
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image, ImageDraw

from .dogs import BLACK, CANVAS, TAN, WHITE, Breed, draw_dog, finish, scene
from .photo import Color, Rng, jitter

Draw = ImageDraw.ImageDraw
Painter = Callable[[Draw, Rng, float, float, float], None]  # (draw, rng, x, y, unit)

STRANGERS: dict[str, Breed] = {  # dogs of breeds outside dogs.BREEDS
    "dalmatian": Breed(
        "dalmatian",
        (WHITE,),
        BLACK,
        "spots",
        "short",
        "floppy",
        (1.0, 0.4),
        0.55,
        0.2,
        "straight",
        0.16,
    ),
    "chihuahua": Breed(
        "chihuahua",
        ((214, 176, 118), BLACK),
        WHITE,
        "solid",
        "short",
        "pointy",
        (0.6, 0.34),
        0.32,
        0.3,
        "straight",
        0.05,
    ),
    "husky": Breed(
        "husky",
        ((128, 128, 134), (70, 70, 76)),
        WHITE,
        "urajiro",
        "fluffy",
        "pointy",
        (1.0, 0.42),
        0.5,
        0.22,
        "curl",
        0.14,
    ),
    "corgi": Breed(
        "corgi",
        ((206, 118, 48),),
        WHITE,
        "urajiro",
        "short",
        "pointy",
        (1.1, 0.38),
        0.14,
        0.24,
        "stub",
        0.12,
    ),
    "dobermann": Breed(
        "dobermann",
        (BLACK,),
        TAN,
        "points",
        "short",
        "pointy",
        (1.0, 0.36),
        0.72,
        0.2,
        "stub",
        0.2,
    ),
    "saint_bernard": Breed(
        "saint_bernard",
        (WHITE,),
        (150, 70, 30),
        "patches",
        "long",
        "floppy",
        (1.2, 0.55),
        0.5,
        0.3,
        "feather",
        0.12,
    ),
}


def _ellipse(draw: Draw, cx: float, cy: float, rx: float, ry: float, fill: tuple[int, ...]) -> None:
    draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=fill)


def _legs(
    draw: Draw, xs: tuple[float, ...], top: float, width: float, length: float, fill: Color
) -> None:
    for lx in xs:
        draw.rectangle([lx, top, lx + width, top + length], fill=fill)


def cat(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """Slim body, thin legs, small round head, big triangular ears, long raised tail, whiskers."""
    coat = jitter(rng, [(214, 130, 60), (120, 120, 124), (30, 30, 32), WHITE][rng.integers(4)], 16)
    length, height = 0.8 * u, 0.3 * u
    _legs(
        draw,
        tuple(x + length * f for f in (0.1, 0.22, 0.72, 0.84)),
        y + height * 0.6,
        u * 0.06,
        u * 0.3,
        coat,
    )
    draw.arc(
        [x - u * 0.3, y - u * 0.5, x + u * 0.1, y + height * 0.6],
        90,
        250,
        fill=coat,
        width=max(2, int(u * 0.05)),
    )
    draw.ellipse([x, y, x + length, y + height], fill=coat)
    if rng.random() < 0.6:  # tabby stripes
        stripe = tuple(int(c * 0.6) for c in coat)
        for k in range(5):
            sx = x + length * (0.2 + 0.13 * k)
            draw.line([(sx, y + 2), (sx - u * 0.05, y + height * 0.7)], fill=stripe, width=2)
    r = 0.17 * u
    hx, hy = x + length + r * 0.3, y - r * 0.3
    for dx in (-0.8, 0.15):
        draw.polygon(
            [
                (hx + dx * r, hy - r * 0.4),
                (hx + (dx + 0.65) * r, hy - r * 0.4),
                (hx + (dx + 0.2) * r, hy - r * 1.6),
            ],
            fill=coat,
        )
    _ellipse(draw, hx, hy, r, r * 0.9, coat)
    eye = jitter(rng, (110, 170, 60), 30)
    for ex in (hx - r * 0.35, hx + r * 0.35):
        _ellipse(draw, ex, hy - r * 0.15, r * 0.18, r * 0.14, eye)
    for k in (-1, 0, 1):
        draw.line(
            [(hx + r * 0.3, hy + r * 0.35), (hx + r * 1.5, hy + r * (0.3 + 0.2 * k))],
            fill=(235, 235, 235),
        )


def bird(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """Oval body, round head with a beak, a darker wing, tail feathers, two stick legs."""
    body = jitter(
        rng, [(200, 60, 40), (60, 90, 180), (230, 200, 50), (90, 80, 70)][rng.integers(4)], 20
    )
    cx, cy = x + u * 0.4, y + u * 0.2
    draw.polygon(
        [(cx - u * 0.3, cy), (cx - u * 0.6, cy - u * 0.08), (cx - u * 0.55, cy + u * 0.12)],
        fill=body,
    )
    _ellipse(draw, cx, cy, u * 0.32, u * 0.2, body)
    _ellipse(
        draw, cx - u * 0.05, cy - u * 0.02, u * 0.2, u * 0.1, tuple(int(c * 0.6) for c in body)
    )
    hx, hy = cx + u * 0.3, cy - u * 0.18
    _ellipse(draw, hx, hy, u * 0.13, u * 0.13, body)
    draw.polygon(
        [
            (hx + u * 0.1, hy - u * 0.03),
            (hx + u * 0.3, hy + u * 0.02),
            (hx + u * 0.1, hy + u * 0.06),
        ],
        fill=(240, 170, 40),
    )
    _ellipse(draw, hx + u * 0.04, hy - u * 0.03, u * 0.025, u * 0.025, (10, 10, 10))
    for lx in (cx - u * 0.06, cx + u * 0.06):
        draw.line([(lx, cy + u * 0.18), (lx, cy + u * 0.4)], fill=(220, 150, 40), width=2)


def sheep(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """A woolly cloud of circles with a black face and black legs."""
    wool = jitter(rng, (236, 232, 220), 12)
    _legs(
        draw,
        (x + u * 0.15, x + u * 0.3, x + u * 0.65, x + u * 0.8),
        y + u * 0.3,
        u * 0.07,
        u * 0.3,
        BLACK,
    )
    for _ in range(int(rng.integers(12, 20))):
        _ellipse(
            draw,
            x + rng.uniform(0.1, 0.9) * u,
            y + rng.uniform(0.05, 0.35) * u,
            u * 0.14,
            u * 0.12,
            jitter(rng, wool, 10),
        )
    _ellipse(draw, x + u * 1.0, y + u * 0.08, u * 0.12, u * 0.16, (34, 30, 30))


def rabbit(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """Round crouching body, tall upright ears, white scut, no visible legs."""
    fur = jitter(
        rng, [(150, 130, 110), (120, 120, 120), (236, 236, 232), (90, 70, 50)][rng.integers(4)], 16
    )
    _ellipse(draw, x + u * 0.35, y + u * 0.3, u * 0.38, u * 0.28, fur)
    _ellipse(draw, x - u * 0.02, y + u * 0.22, u * 0.08, u * 0.08, WHITE)
    hx, hy = x + u * 0.72, y + u * 0.12
    for dx in (-0.06, 0.06):
        _ellipse(draw, hx + dx * u, hy - u * 0.32, u * 0.05, u * 0.22, fur)
    _ellipse(draw, hx, hy, u * 0.17, u * 0.15, fur)
    _ellipse(draw, hx + u * 0.06, hy - u * 0.03, u * 0.03, u * 0.03, (10, 10, 10))


def pig(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """Pink barrel body, short legs, big round head with a snout disc, curly tail."""
    skin = jitter(rng, (236, 170, 170), 18)
    _legs(
        draw,
        tuple(x + u * f for f in (0.12, 0.25, 0.7, 0.83)),
        y + u * 0.3,
        u * 0.09,
        u * 0.15,
        skin,
    )
    draw.ellipse([x, y, x + u, y + u * 0.45], fill=skin)
    draw.arc([x - u * 0.12, y + u * 0.05, x + u * 0.04, y + u * 0.2], 0, 330, fill=skin, width=2)
    hx, hy = x + u * 1.0, y + u * 0.15
    draw.polygon(
        [(hx - u * 0.1, hy - u * 0.1), (hx, hy - u * 0.3), (hx + u * 0.05, hy - u * 0.08)],
        fill=skin,
    )
    _ellipse(draw, hx, hy, u * 0.2, u * 0.18, skin)
    _ellipse(
        draw, hx + u * 0.2, hy + u * 0.04, u * 0.07, u * 0.08, tuple(int(c * 0.85) for c in skin)
    )


def horse(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """Long legs, deep body, long neck and head held high, mane and a hanging tail."""
    coat = jitter(
        rng, [(120, 70, 40), (40, 30, 28), (200, 190, 180), (160, 110, 60)][rng.integers(4)], 16
    )
    dark = tuple(int(c * 0.5) for c in coat)
    _legs(
        draw,
        tuple(x + u * f for f in (0.05, 0.18, 0.7, 0.82)),
        y + u * 0.25,
        u * 0.06,
        u * 0.5,
        coat,
    )
    draw.ellipse([x, y, x + u, y + u * 0.4], fill=coat)
    draw.line(
        [(x + u * 0.02, y + u * 0.1), (x - u * 0.1, y + u * 0.5)],
        fill=dark,
        width=max(3, int(u * 0.06)),
    )
    draw.polygon(
        [
            (x + u * 0.8, y + u * 0.1),
            (x + u * 0.95, y - u * 0.4),
            (x + u * 1.1, y - u * 0.35),
            (x + u * 1.0, y + u * 0.15),
        ],
        fill=coat,
    )
    draw.line([(x + u * 0.82, y), (x + u * 0.95, y - u * 0.42)], fill=dark, width=3)
    draw.polygon(
        [
            (x + u * 0.95, y - u * 0.45),
            (x + u * 1.3, y - u * 0.25),
            (x + u * 1.28, y - u * 0.15),
            (x + u * 1.05, y - u * 0.25),
        ],
        fill=coat,
    )


def ball(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """A beach ball or football: a circle cut into coloured sectors."""
    r = u * rng.uniform(0.25, 0.4)
    box = [x + u * 0.3 - r, y + u * 0.3 - r, x + u * 0.3 + r, y + u * 0.3 + r]
    start = rng.uniform(0, 60)
    for k in range(6):
        draw.pieslice(
            box,
            start + 60 * k,
            start + 60 * (k + 1),
            fill=jitter(rng, (230, 230, 230) if k % 2 else (200, 40, 40), 60),
        )


def chair(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """Side view: seat, backrest, four legs (wood or painted)."""
    wood = jitter(rng, (130, 80, 40), 50)
    draw.rectangle([x, y + u * 0.3, x + u * 0.6, y + u * 0.36], fill=wood)
    draw.rectangle([x + u * 0.54, y - u * 0.3, x + u * 0.6, y + u * 0.36], fill=wood)
    for lx in (x, x + u * 0.54):
        draw.rectangle([lx, y + u * 0.36, lx + u * 0.05, y + u * 0.8], fill=wood)


def mug(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """A cup with a handle, sometimes a printed band."""
    glaze = jitter(rng, [(240, 240, 236), (40, 90, 160), (200, 60, 50)][rng.integers(3)], 30)
    draw.arc(
        [x + u * 0.38, y + u * 0.05, x + u * 0.62, y + u * 0.35],
        270,
        90,
        fill=glaze,
        width=max(3, int(u * 0.05)),
    )
    draw.rectangle([x, y, x + u * 0.5, y + u * 0.45], fill=glaze)
    if rng.random() < 0.5:
        draw.rectangle(
            [x, y + u * 0.15, x + u * 0.5, y + u * 0.25], fill=jitter(rng, (250, 200, 40), 40)
        )


def plant(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """A terracotta pot with a bush of green leaves."""
    pot = jitter(rng, (180, 90, 50), 25)
    draw.polygon(
        [
            (x, y + u * 0.3),
            (x + u * 0.5, y + u * 0.3),
            (x + u * 0.42, y + u * 0.7),
            (x + u * 0.08, y + u * 0.7),
        ],
        fill=pot,
    )
    for _ in range(int(rng.integers(6, 12))):
        lx, ly = x + rng.uniform(0.0, 0.5) * u, y + rng.uniform(-0.3, 0.25) * u
        _ellipse(draw, lx, ly, u * 0.08, u * 0.15, jitter(rng, (50, 130, 50), 30))


def teddy(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """A sitting teddy bear: round body, round head, round ears, stubby arms and feet."""
    fur = jitter(rng, [(150, 100, 60), (200, 160, 110), (236, 230, 220)][rng.integers(3)], 16)
    cx, cy = x + u * 0.35, y + u * 0.35
    for dx in (-0.22, 0.22):
        _ellipse(draw, cx + dx * u, cy + u * 0.25, u * 0.1, u * 0.08, fur)
        _ellipse(draw, cx + dx * 1.2 * u, cy, u * 0.08, u * 0.14, fur)
    _ellipse(draw, cx, cy + u * 0.05, u * 0.24, u * 0.26, fur)
    for dx in (-0.14, 0.14):
        _ellipse(draw, cx + dx * u, cy - u * 0.42, u * 0.07, u * 0.07, fur)
    _ellipse(draw, cx, cy - u * 0.3, u * 0.17, u * 0.16, fur)
    _ellipse(draw, cx, cy - u * 0.25, u * 0.06, u * 0.05, TAN)


def bottle(draw: Draw, rng: Rng, x: float, y: float, u: float) -> None:
    """A glass bottle with a label."""
    glass = jitter(rng, [(40, 110, 60), (120, 70, 30), (180, 200, 210)][rng.integers(3)], 20)
    draw.rectangle([x + u * 0.08, y - u * 0.2, x + u * 0.16, y], fill=glass)
    draw.rounded_rectangle([x, y, x + u * 0.24, y + u * 0.6], radius=u * 0.05, fill=glass)
    draw.rectangle(
        [x, y + u * 0.2, x + u * 0.24, y + u * 0.36], fill=jitter(rng, (236, 228, 200), 20)
    )


PAINTERS: dict[str, Painter] = {
    "cat": cat,
    "bird": bird,
    "sheep": sheep,
    "ball": ball,
    "chair": chair,
    "mug": mug,
    "rabbit": rabbit,
    "pig": pig,
    "horse": horse,
    "plant": plant,
    "teddy": teddy,
    "bottle": bottle,
}
TRAIN_KINDS = ("cat", "bird", "sheep", "ball", "chair", "mug", "dalmatian", "chihuahua", "husky")
HELDOUT_KINDS = (
    "rabbit",
    "pig",
    "horse",
    "plant",
    "teddy",
    "bottle",
    "corgi",
    "dobermann",
    "saint_bernard",
)
REASONS = ("not-a-dog", "unknown-breed")
REASON_OF = {
    kind: "unknown-breed" if kind in STRANGERS else "not-a-dog"
    for kind in (*TRAIN_KINDS, *HELDOUT_KINDS)
}


def photo(rng: Rng, kind: str) -> Image.Image:
    """One augmented photo of ``kind`` in a dog scene, at the dog photos' range of sizes."""
    image = scene(rng)
    unit = rng.uniform(0.38, 0.6) * CANVAS
    x = rng.uniform(0.05, 0.55) * CANVAS
    y = rng.uniform(0.3, 0.55) * CANVAS
    if kind in STRANGERS:
        breed = STRANGERS[kind]
        unit /= max(1.0, breed.body[0])
        x = rng.uniform(0.02, 0.9) * (CANVAS - unit * (breed.body[0] + breed.head))
        draw_dog(image, rng, breed, x, y, unit)
    else:
        PAINTERS[kind](ImageDraw.Draw(image), rng, x, y, unit)
    return finish(image, rng)


def generators(kinds: tuple[str, ...]) -> dict[str, Callable[[Rng], Image.Image]]:
    """Kind -> generator of its photos (for :func:`datasets.synthesize`)."""

    def of(kind: str) -> Callable[[Rng], Image.Image]:
        return lambda rng: photo(rng, kind)

    return {kind: of(kind) for kind in kinds}


def mixed(kinds: tuple[str, ...]) -> Callable[[Rng], Image.Image]:
    """One generator drawing a random kind of ``kinds`` per photo (an outlier class)."""
    return lambda rng: photo(rng, kinds[int(rng.integers(len(kinds)))])
