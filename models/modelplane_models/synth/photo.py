"""Camera effects shared by the generators: lighting, blur, sensor noise, JPEG.

Real claim photos come from phones: exposure and white balance vary, pixels are noisy and the
file is a JPEG. Every synthetic image passes through :func:`camera` so the models never see the
clean vector drawing they were made from.
"""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

Rng = np.random.Generator
Color = tuple[int, int, int]


def jitter(rng: Rng, color: Color, amount: int = 18) -> Color:
    """A colour near ``color``: the same paint under slightly different light."""
    r, g, b = (int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in color)
    return (r, g, b)


def random_color(rng: Rng) -> Color:
    r, g, b = (int(v) for v in rng.integers(0, 256, size=3))
    return (r, g, b)


def gaussian_blur(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def motion_blur(image: Image.Image, length: int, angle: float) -> Image.Image:
    """Average of ``length`` copies shifted along ``angle``: a shaken phone."""
    array = np.asarray(image, dtype=np.float32)
    out = np.zeros_like(array)
    dx, dy = np.cos(angle), np.sin(angle)
    for step in range(length):
        offset = step - (length - 1) / 2
        out += np.roll(array, (round(offset * dy), round(offset * dx)), axis=(0, 1))
    return Image.fromarray(np.clip(out / length, 0, 255).astype(np.uint8))


def lighting(image: Image.Image, rng: Rng, strength: float = 1.0) -> Image.Image:
    """Exposure, contrast, colour cast and a soft vignette/gradient."""
    array = np.asarray(image, dtype=np.float32)
    gain = 1.0 + strength * rng.uniform(-0.35, 0.3)
    contrast = 1.0 + strength * rng.uniform(-0.3, 0.25)
    cast = 1.0 + strength * rng.uniform(-0.08, 0.08, size=3)
    mean = array.mean()
    array = ((array - mean) * contrast + mean) * gain * cast
    h, w = array.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    falloff = 1.0 - strength * rng.uniform(0.0, 0.3) * (((xx - cx) / w) ** 2 + ((yy - cy) / h) ** 2)
    array *= falloff[..., None]
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))


def noise(image: Image.Image, rng: Rng, sigma: float) -> Image.Image:
    array = np.asarray(image, dtype=np.float32)
    array = array + rng.normal(0.0, sigma, size=array.shape).astype(np.float32)
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def camera(image: Image.Image, rng: Rng, defocus: float = 0.0) -> Image.Image:
    """Lighting, optional slight defocus, sensor noise and JPEG: what a phone does."""
    image = lighting(image, rng)
    if defocus > 0:
        image = gaussian_blur(image, defocus)
    image = noise(image, rng, float(rng.uniform(0.5, 5.0)))
    return jpeg(image, int(rng.integers(55, 96)))


def value_noise(rng: Rng, size: int, cells: int) -> NDArray[np.float32]:
    """Smooth random field in [0, 1]: clouds, foliage, asphalt and textures."""
    coarse = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
    return (
        np.asarray(coarse.resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32) / 255.0
    )
