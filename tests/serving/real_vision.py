"""Real held-out photos through the served car-claims pipeline, and their scores.

Shared by ``tests/models/test_vision_served.py`` (a small sample, regression floors) and
``bench/vision_quality.py`` (every held-out photo, the figures of ``docs/benchmarks.md``), so
both send the same bytes and score them the same way. A photo goes over gRPC as a stock
tritonclient sends it (JPEG quality 90 of what the model-building code derives: the committed
held-out file, or its blurred / cropped derivative, or a drawn document).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import tritonclient.grpc as grpcclient
from modelplane_models import quality_gate_train, real_photos, severity
from modelplane_models.synth import documents
from PIL import Image
from serving.servers import Server

GATE_CLASSES = ("accept", "blurred", "not-a-car", "partial", "too-damaged")
# Held-out photos of a class needed before a figure on it is called met or not.
MIN_N = 100


@dataclass(frozen=True)
class Sample:
    """One held-out photo: JPEG bytes, the gate class and (VDS photos) the severity."""

    name: str
    image: bytes
    gate: str
    severity: str = ""


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def gate_samples(per_class: int | None = None, drawn: int = 60) -> list[Sample]:
    """The gate's held-out photos (every one, or the first ``per_class`` of each class in file
    order) plus ``drawn`` documents of the build's held-out seed."""
    taken: dict[str, int] = {}
    out: list[Sample] = []
    for photo in real_photos.gate_photos("heldout"):
        if per_class is not None and taken.get(photo.label, 0) >= per_class:
            continue
        taken[photo.label] = taken.get(photo.label, 0) + 1
        source = severity_of(photo)
        tag = f"{photo.path.name}:{photo.derive or 'as-is'}"
        out.append(Sample(tag, jpeg(photo.image(evaluating=True)), photo.label, source))
    rng = np.random.default_rng(quality_gate_train.GateParams().seed + 1000)
    for index in range(drawn):
        page = documents.page(rng) if index % 2 == 0 else documents.id_card(rng)
        out.append(Sample(f"drawn-{index}", jpeg(page), "not-a-car"))
    return out


def severity_of(photo: real_photos.Photo) -> str:
    """The VDS severity of an undisturbed vehicle photo (derivatives and others: none)."""
    if photo.derive or photo.path.parent.name not in real_photos.SEVERITIES:
        return ""
    return photo.path.parent.name


def severity_samples() -> Iterator[Sample]:
    """Every held-out VDS photo with its severity (for the stage scored on its own)."""
    for photo in real_photos.vehicles("heldout"):
        yield Sample(photo.path.name, jpeg(photo.image(evaluating=True)), "", photo.label)


def served(server: Server, model: str, image: bytes, **json_inputs: Any) -> dict[str, Any]:
    """One photo through a served pipeline or stage over gRPC; the parsed ``result``."""
    client = grpcclient.InferenceServerClient(server.grpc)
    try:
        tensors = [grpcclient.InferInput("image", [1], "BYTES")]
        tensors[0].set_data_from_numpy(np.array([image], dtype=np.object_))
        for name, value in json_inputs.items():
            tensor = grpcclient.InferInput(name, [1], "BYTES")
            tensor.set_data_from_numpy(np.array([json.dumps(value).encode()], dtype=np.object_))
            tensors.append(tensor)
        raw = client.infer(model, tensors).as_numpy("result").reshape(-1)[0]
    finally:
        client.close()
    parsed: dict[str, Any] = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    return parsed


def gate_class(answer: dict[str, Any]) -> str:
    """The class a car-claims answer names (``not-a-car`` first, as the gate's rules)."""
    if answer.get("estimable"):
        return "accept"
    reasons = list(answer.get("reasons", []))
    return "not-a-car" if "not-a-car" in reasons else (reasons[0] if reasons else "accept")


def gate_scores(truth: list[str], named: list[str]) -> dict[str, Any]:
    """Class accuracy, accuracy of ``estimable``, per-class recall with n, confusion matrix."""
    t = np.array([GATE_CLASSES.index(c) for c in truth])
    p = np.array([GATE_CLASSES.index(c) for c in named])
    n = {c: int((t == i).sum()) for i, c in enumerate(GATE_CLASSES)}
    return {
        "n": n,
        "class_accuracy": float((t == p).mean()),
        "estimable_accuracy": float(((t == 0) == (p == 0)).mean()),
        "recall": {
            c: float((p[t == i] == i).mean()) if n[c] else None for i, c in enumerate(GATE_CLASSES)
        },
        "classes": list(GATE_CLASSES),
        "confusion": [[int(((t == a) & (p == b)).sum()) for b in range(5)] for a in range(5)],
        "measurable": len(t) >= 500 and min(n.values()) >= MIN_N,
    }


def severity_scores(truth: list[str], named: list[str]) -> dict[str, Any]:
    """Per-class F1 (minor, moderate, severe) with the confusion matrix and n."""
    classes = real_photos.SEVERITIES
    t = np.array([classes.index(c) for c in truth])
    p = np.array([classes.index(c) for c in named])
    return {"classes": list(classes), **severity.f1_scores(t, p, len(classes))}
