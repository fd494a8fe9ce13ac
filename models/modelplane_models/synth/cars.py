"""Synthetic car-claim photos (accepted) and the photos a quality gate must reject.

Accepted: a whole car (side or front view, any paint, sometimes dented or scratched) on a street,
car park or garage background, under varied light, slightly noisy, JPEG-compressed. Rejects are
the ones claim handlers see: ``blurred`` (defocus or shake of an accepted photo), ``not-a-car``
(document pages, ID cards, blank or dark frames, textures, scenes with no car), ``partial``
(a close zoom or a car mostly out of frame) and ``too-damaged`` (a wreck no photo estimate can
price: crushed, burnt out or dismantled). All drawn at :data:`CANVAS` pixels, larger than the
model input, so the contract's bilinear resize happens exactly as at serving time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from . import documents, scenes, wrecks
from .photo import Color, Rng, camera, gaussian_blur, jitter, motion_blur, value_noise

CANVAS = 192
REASONS = ("blurred", "not-a-car", "partial", "too-damaged")  # new reasons go last
PAINTS: tuple[Color, ...] = (
    (235, 235, 235),
    (20, 20, 24),
    (160, 163, 168),
    (90, 92, 98),
    (170, 20, 25),
    (20, 50, 140),
    (30, 110, 60),
    (200, 170, 40),
    (120, 30, 40),
    (70, 120, 190),
    (230, 120, 30),
)


def background(rng: Rng, size: int = CANVAS) -> Image.Image:
    """Street, car park or garage: sky/wall above a horizon, ground below, some clutter."""
    horizon = int(size * rng.uniform(0.25, 0.6))
    sky = jitter(rng, ((150, 190, 230), (200, 200, 205), (120, 120, 125))[rng.integers(3)], 30)
    ground = jitter(rng, ((80, 80, 85), (120, 115, 105), (70, 110, 60))[rng.integers(3)], 25)
    field = value_noise(rng, size, int(rng.integers(6, 24)))[..., None] - 0.5
    top = np.full((size, size, 3), sky, np.float32)
    bottom = np.full((size, size, 3), ground, np.float32)
    rows = (np.arange(size) < horizon)[:, None, None]
    array = np.where(rows, top, bottom) + field * rng.uniform(10, 60)
    image = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(0, 6))):  # buildings, poles, trees on the horizon
        w, h = rng.uniform(0.05, 0.3) * size, rng.uniform(0.05, 0.4) * size
        x = rng.uniform(-0.1, 1.0) * size
        shape = [x, horizon - h, x + w, horizon]
        if rng.random() < 0.5:
            draw.rectangle(shape, fill=jitter(rng, (120, 110, 100), 60))
        else:
            draw.ellipse(shape, fill=jitter(rng, (50, 100, 50), 40))
    return image


def draw_car(image: Image.Image, rng: Rng, box: tuple[float, float, float], damage: bool) -> None:
    """Draw a side- or front-view car whose body spans ``box`` = (x0, y_bottom, width)."""
    x0, bottom, width = box
    paint = jitter(rng, PAINTS[rng.integers(len(PAINTS))], 20)
    dark = tuple(int(c * 0.55) for c in paint)
    glass = jitter(rng, (60, 80, 100), 25)
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        [x0 - width * 0.02, bottom - width * 0.05, x0 + width * 1.02, bottom + width * 0.05],
        fill=(30, 30, 30),
    )  # shadow
    if rng.random() < 0.6:
        _side(draw, rng, x0, bottom, width, paint, dark, glass)
    else:
        _front(draw, rng, x0, bottom, width, paint, dark, glass)
    if damage:
        for _ in range(int(rng.integers(1, 5))):
            cx = x0 + rng.uniform(0.15, 0.85) * width
            cy = bottom - rng.uniform(0.1, 0.3) * width
            pts = [
                (cx + rng.normal(0, width * 0.04), cy + rng.normal(0, width * 0.03))
                for _ in range(4)
            ]
            draw.line(pts, fill=jitter(rng, (60, 55, 50), 30), width=max(1, int(width * 0.01)))


def _side(
    draw: ImageDraw.ImageDraw,
    rng: Rng,
    x0: float,
    bottom: float,
    w: float,
    paint: Color,
    dark: tuple[int, ...],
    glass: Color,
) -> None:
    body_h, wheel_r = w * rng.uniform(0.2, 0.27), w * rng.uniform(0.085, 0.11)
    top = bottom - wheel_r * 0.6 - body_h
    draw.rounded_rectangle(
        [x0, top, x0 + w, bottom - wheel_r * 0.6],
        radius=body_h * 0.35,
        fill=paint,
        outline=tuple(dark),
        width=max(1, int(w * 0.008)),
    )
    c0, c1 = x0 + w * rng.uniform(0.18, 0.3), x0 + w * rng.uniform(0.68, 0.8)
    roof = top - w * rng.uniform(0.14, 0.2)
    draw.polygon([(c0, top), (c0 + w * 0.1, roof), (c1 - w * 0.06, roof), (c1, top)], fill=paint)
    inset = w * 0.02
    mid = (c0 + c1) / 2
    draw.polygon(
        [
            (c0 + inset * 2, top - inset),
            (c0 + w * 0.1 + inset, roof + inset),
            (mid - inset, roof + inset),
            (mid - inset, top - inset),
        ],
        fill=glass,
    )
    draw.polygon(
        [
            (mid + inset, top - inset),
            (mid + inset, roof + inset),
            (c1 - w * 0.06 - inset, roof + inset),
            (c1 - inset * 2, top - inset),
        ],
        fill=glass,
    )
    draw.line([(mid, top), (mid, bottom - wheel_r)], fill=tuple(dark), width=max(1, int(w * 0.006)))
    for cx in (x0 + w * 0.2, x0 + w * 0.8):
        cy = bottom - wheel_r
        draw.ellipse([cx - wheel_r, cy - wheel_r, cx + wheel_r, cy + wheel_r], fill=(18, 18, 18))
        hub = wheel_r * 0.5
        draw.ellipse(
            [cx - hub, cy - hub, cx + hub, cy + hub], fill=jitter(rng, (170, 170, 175), 30)
        )
    light_y = top + body_h * 0.25
    draw.rectangle([x0, light_y, x0 + w * 0.04, light_y + body_h * 0.2], fill=(250, 240, 200))
    draw.rectangle([x0 + w * 0.96, light_y, x0 + w, light_y + body_h * 0.2], fill=(200, 30, 30))


def _front(
    draw: ImageDraw.ImageDraw,
    rng: Rng,
    x0: float,
    bottom: float,
    w: float,
    paint: Color,
    dark: tuple[int, ...],
    glass: Color,
) -> None:
    w = w * 0.7
    x0 = x0 + w * 0.2
    body_h = w * rng.uniform(0.32, 0.42)
    top = bottom - body_h
    tyre = w * 0.12
    for cx in (x0 + w * 0.05, x0 + w * 0.95 - tyre):
        draw.rectangle([cx, bottom - tyre * 0.6, cx + tyre, bottom + tyre * 0.4], fill=(18, 18, 18))
    draw.rounded_rectangle(
        [x0, top, x0 + w, bottom],
        radius=w * 0.06,
        fill=paint,
        outline=tuple(dark),
        width=max(1, int(w * 0.01)),
    )
    roof = top - w * rng.uniform(0.25, 0.33)
    draw.polygon(
        [(x0 + w * 0.1, top), (x0 + w * 0.22, roof), (x0 + w * 0.78, roof), (x0 + w * 0.9, top)],
        fill=paint,
    )
    draw.polygon(
        [
            (x0 + w * 0.15, top - w * 0.02),
            (x0 + w * 0.25, roof + w * 0.03),
            (x0 + w * 0.75, roof + w * 0.03),
            (x0 + w * 0.85, top - w * 0.02),
        ],
        fill=glass,
    )
    lamp_y = top + body_h * 0.2
    for lx in (x0 + w * 0.06, x0 + w * 0.76):
        draw.ellipse([lx, lamp_y, lx + w * 0.18, lamp_y + body_h * 0.22], fill=(250, 245, 215))
    draw.rectangle(
        [x0 + w * 0.3, lamp_y + body_h * 0.05, x0 + w * 0.7, lamp_y + body_h * 0.3],
        fill=tuple(dark),
    )
    plate_y = top + body_h * 0.6
    draw.rectangle(
        [x0 + w * 0.37, plate_y, x0 + w * 0.63, plate_y + body_h * 0.18],
        fill=(240, 240, 240),
        outline=(20, 20, 20),
    )


def _scene(rng: Rng, scale: tuple[float, float], partial: bool) -> Image.Image:
    """Background plus one car at ``scale`` x canvas width, whole or cut by the frame."""
    image = background(rng)
    width = rng.uniform(*scale) * CANVAS
    if partial and width < CANVAS * 1.2:  # car driven out of the frame: 30-50% visible
        x0 = rng.choice([-width * rng.uniform(0.5, 0.7), CANVAS - width * rng.uniform(0.3, 0.5)])
        bottom = rng.uniform(0.7, 0.95) * CANVAS
    elif partial:  # close zoom: the frame centre lies on the car
        x0 = CANVAS / 2 - width * rng.uniform(0.1, 0.9)
        bottom = CANVAS / 2 + width * rng.uniform(0.05, 0.35)
    else:
        x0 = rng.uniform(0.03, 0.97) * (CANVAS - width)
        bottom = rng.uniform(0.6, 0.92) * CANVAS
    draw_car(image, rng, (x0, bottom, width), damage=rng.random() < 0.4)
    return image.rotate(
        rng.uniform(-6, 6), resample=Image.Resampling.BILINEAR, fillcolor=(90, 90, 90)
    )


def accepted(rng: Rng) -> Image.Image:
    """A whole car, in focus (at most a slight defocus), as a phone would shoot it."""
    return camera(_scene(rng, (0.55, 0.92), partial=False), rng, defocus=rng.uniform(0.0, 0.5))


def blurred(rng: Rng) -> Image.Image:
    """An otherwise acceptable photo, out of focus or shaken."""
    scene = _scene(rng, (0.55, 0.92), partial=False)
    if rng.random() < 0.5:
        scene = gaussian_blur(scene, rng.uniform(2.2, 6.0))
    else:
        scene = motion_blur(scene, int(rng.integers(9, 22)), rng.uniform(0, np.pi))
    return camera(scene, rng)


def partial(rng: Rng) -> Image.Image:
    """A close-up of part of a car, or a car mostly outside the frame."""
    return camera(_scene(rng, (1.0, 3.5), partial=True), rng, defocus=rng.uniform(0.0, 0.5))


def not_a_car(rng: Rng) -> Image.Image:
    """Sent by mistake: paperwork, an ID card, a blank frame, a texture, a scene with no car,
    and the training kinds of :mod:`scenes` (a bicycle, a room, a patterned surface); the other
    kinds of :mod:`scenes` are kept out of training to measure the gate on shapes it never saw."""
    makers: tuple[Callable[[Rng], Image.Image], ...] = (
        documents.page,
        documents.id_card,
        documents.blank,
        documents.texture,
        background,
        *(scenes.MAKERS[kind] for kind in scenes.TRAIN_KINDS),
    )
    return camera(makers[rng.integers(len(makers))](rng), rng)


def too_damaged(rng: Rng) -> Image.Image:
    """A whole car, in focus, but a wreck: crushed, burnt out or stripped of wheels and panels."""
    image = background(rng)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    width = rng.uniform(0.55, 0.92) * CANVAS
    box = (rng.uniform(0.03, 0.97) * (CANVAS - width), rng.uniform(0.6, 0.92) * CANVAS, width)
    draw_car(layer, rng, box, damage=True)
    layer = wrecks.wreck(layer, rng, box)
    image.paste(layer, mask=layer)
    wrecks.debris(image, rng, box)
    image = image.rotate(
        rng.uniform(-6, 6), resample=Image.Resampling.BILINEAR, fillcolor=(90, 90, 90)
    )
    return camera(image, rng, defocus=rng.uniform(0.0, 0.5))


GENERATORS: dict[str, Callable[[Rng], Image.Image]] = {
    "accept": accepted,
    "blurred": blurred,
    "not-a-car": not_a_car,
    "partial": partial,
    "too-damaged": too_damaged,
}
