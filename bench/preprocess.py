"""Before/after of the one cost the profiles singled out: decoding a photo for a small model.

Both paths run here, on the same JPEGs, in the same process: *full* decodes every pixel and
resizes (what ``image_tensor`` did before), *draft* lets the JPEG decoder skip to the smallest DCT
scale that keeps twice the model's input size (what it does now). Also reported: how far the
models' outputs move, so the speed-up is never bought with silent quality loss.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import onnxruntime as ort
from modelplane_inference.runtime.repository import load_model_config
from modelplane_inference.stages.images import decode_image, to_tensor
from modelplane_inference.stages.vision import DRAFT_FACTOR

from bench.common import ROOT
from bench.inputs import car_photos, dog_photos

MODELS = {"quality-gate": car_photos, "breed": dog_photos}


def tensor(data: bytes, height: int, width: int, draft: bool) -> np.ndarray:
    hint = (DRAFT_FACTOR * width, DRAFT_FACTOR * height) if draft else None
    return to_tensor(decode_image(data, size_hint=hint), height, width)[np.newaxis]


def per_image_ms(photos: tuple[bytes, ...], h: int, w: int, draft: bool, repeats: int) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        for data in photos:
            tensor(data, h, w, draft)
    return (time.perf_counter() - started) / (repeats * len(photos)) * 1e3


def drift(model: str, photos: tuple[bytes, ...], h: int, w: int) -> dict[str, float]:
    """Largest relative change of each float output, draft vs full decode."""
    config = load_model_config(ROOT / "models" / "repository", model)
    session = ort.InferenceSession(str(config.onnx_path), providers=["CPUExecutionProvider"])
    name, names = config.inputs[0].name, [o.name for o in session.get_outputs()]
    worst: dict[str, float] = {}
    for data in photos:
        full = session.run(None, {name: tensor(data, h, w, False)})
        draft = session.run(None, {name: tensor(data, h, w, True)})
        for out, a, b in zip(names, full, draft, strict=True):
            if a.dtype.kind != "f":
                continue
            scale = max(float(np.abs(a).max()), 1e-6)
            worst[out] = max(worst.get(out, 0.0), float(np.abs(a - b).max()) / scale)
    return {k: round(v, 4) for k, v in worst.items()}


def run(repeats: int) -> dict[str, Any]:
    """Interleaved rounds of both paths per model; ratio = full / draft time."""
    out: dict[str, Any] = {}
    for model, source in MODELS.items():
        photos = source()
        dims = load_model_config(ROOT / "models" / "repository", model).inputs[0].dims
        h, w = dims[1], dims[2]
        full, draft = [], []
        for _ in range(3):
            full.append(per_image_ms(photos, h, w, False, repeats))
            draft.append(per_image_ms(photos, h, w, True, repeats))
        f, d = float(np.median(full)), float(np.median(draft))
        out[model] = {
            "input": [h, w],
            "full_ms": round(f, 2),
            "draft_ms": round(d, 2),
            "speedup": round(f / d, 2),
            "output_drift": drift(model, photos, h, w),
        }
    return out
