"""Things that are not car photos but get sent as one: paperwork, ID cards, blank frames.

Used as the ``not-a-car`` rejects of the quality gate. Text is drawn as glyph-like strokes
(plus Pillow's built-in font) so no font files are needed.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .photo import Rng, jitter, random_color, value_noise

CANVAS = 192
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789 "


def _text_line(
    draw: ImageDraw.ImageDraw,
    rng: Rng,
    x: float,
    y: float,
    width: float,
    height: float,
    ink: tuple[int, int, int],
) -> None:
    """A line of text: real glyphs from Pillow's default font or word-like ink blocks."""
    if rng.random() < 0.5:
        text = "".join(rng.choice(list(_LETTERS), size=int(rng.integers(6, 28))))
        font = ImageFont.load_default(size=max(6, int(height)))
        draw.text((x, y), text, fill=ink, font=font)
        return
    cursor = x
    while cursor < x + width:
        word = rng.uniform(0.5, 3.0) * height
        draw.rectangle([cursor, y + height * 0.2, cursor + word, y + height * 0.8], fill=ink)
        cursor += word + height * 0.6


def page(rng: Rng) -> Image.Image:
    """A form, receipt or letter photographed on a desk, possibly rotated."""
    desk = jitter(rng, (110, 85, 60), 50)
    image = Image.new("RGB", (CANVAS * 2, CANVAS * 2), desk)
    sheet = Image.new(
        "RGB", (int(CANVAS * 1.3), int(CANVAS * 1.7)), jitter(rng, (245, 243, 236), 12)
    )
    draw = ImageDraw.Draw(sheet)
    ink = jitter(rng, (30, 30, 35), 20)
    y = rng.uniform(8, 30)
    line_h = rng.uniform(5, 11)
    while y < sheet.height - 20:
        if rng.random() < 0.12:  # table rule or header bar
            draw.rectangle([10, y, sheet.width - 10, y + rng.uniform(1, 6)], fill=ink)
        else:
            _text_line(
                draw, rng, rng.uniform(8, 30), y, rng.uniform(0.3, 0.85) * sheet.width, line_h, ink
            )
        y += line_h * rng.uniform(1.4, 2.4)
    sheet = sheet.rotate(rng.uniform(-25, 25), expand=True, fillcolor=desk)
    image.paste(sheet, (int(rng.uniform(0, CANVAS * 0.6)), int(rng.uniform(0, CANVAS * 0.3))))
    zoom = rng.uniform(0.5, 1.0) * image.width
    x0, y0 = rng.uniform(0, image.width - zoom, size=2)
    return image.crop((int(x0), int(y0), int(x0 + zoom), int(y0 + zoom))).resize((CANVAS, CANVAS))


def id_card(rng: Rng) -> Image.Image:
    """An ID or registration card: photo box, text lines, coloured band, on a table."""
    image = Image.new("RGB", (CANVAS, CANVAS), jitter(rng, (120, 110, 100), 60))
    card_w = rng.uniform(0.65, 0.98) * CANVAS
    card = Image.new("RGB", (int(card_w), int(card_w * 0.63)), jitter(rng, (225, 230, 235), 25))
    draw = ImageDraw.Draw(card)
    draw.rectangle([0, 0, card.width, card.height * 0.16], fill=random_color(rng))
    px = card.width * 0.06
    draw.rectangle(
        [px, card.height * 0.25, px + card.width * 0.25, card.height * 0.9],
        fill=jitter(rng, (150, 130, 120), 40),
    )
    draw.ellipse(
        [px + card.width * 0.06, card.height * 0.33, px + card.width * 0.19, card.height * 0.55],
        fill=jitter(rng, (210, 170, 140), 30),
    )
    for row in range(int(rng.integers(3, 7))):
        y = card.height * (0.26 + row * 0.11)
        _text_line(
            draw, rng, card.width * 0.38, y, card.width * 0.5, card.height * 0.06, (30, 30, 40)
        )
    card = card.rotate(rng.uniform(-30, 30), expand=True, fillcolor=image.getpixel((0, 0)))
    image.paste(card, (int(rng.uniform(-0.1, 0.3) * CANVAS), int(rng.uniform(0.0, 0.4) * CANVAS)))
    return image


def blank(rng: Rng) -> Image.Image:
    """A covered lens, a pocket shot, an overexposed frame: near-uniform, maybe a gradient."""
    base = np.array(
        jitter(rng, ((8, 8, 10), (128, 128, 128), (250, 250, 250))[rng.integers(3)], 40), np.float32
    )
    ramp = np.linspace(-1, 1, CANVAS, dtype=np.float32)[None, :, None] * rng.uniform(0, 40)
    array = np.broadcast_to(base, (CANVAS, CANVAS, 3)) + ramp
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))


def texture(rng: Rng) -> Image.Image:
    """Carpet, foliage, asphalt, stripes or checks filling the frame."""
    kind = rng.integers(3)
    color_a, color_b = (
        np.array(random_color(rng), np.float32),
        np.array(random_color(rng), np.float32),
    )
    if kind == 0:
        mix = value_noise(rng, CANVAS, int(rng.integers(8, 64)))
    elif kind == 1:
        period = rng.uniform(4, 30)
        xx = np.arange(CANVAS, dtype=np.float32)
        mix = np.broadcast_to(
            (np.sin(xx / period * 2 * np.pi) > 0).astype(np.float32), (CANVAS, CANVAS)
        )
        if rng.random() < 0.5:
            mix = np.logical_xor(mix > 0.5, mix.T > 0.5).astype(np.float32)
    else:
        mix = rng.random((CANVAS, CANVAS)).astype(np.float32)
    array = color_a * mix[..., None] + color_b * (1 - mix[..., None])
    return Image.fromarray(array.astype(np.uint8))
