"""What a labelling session sorts into: the classes, their folders and keys, and how a served
model's answer becomes a suggestion.

The class lists come from the model repository's ``labels.txt`` (the gate's reject reasons, the
breed names) and the breed model's ``reasons.txt`` (its open-set reasons), never from code, so a
model that gains a reason is labelled for with no change here. The folders are the ones
``modelplane-models train`` reads: ``accept/`` and ``reject/<reason>/`` for the quality gate,
``<breed>/`` and ``<reason>/`` (``not-a-dog/``, ``unknown-breed/``) for the breed model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelplane_inference.errors import TaskError
from modelplane_inference.runtime.repository import (
    RepositoryError,
    load_model_config,
    side_file_lines,
)

# Keys for classes, in order; Enter/Space accept, Backspace/u undo, o switches the order.
CLASS_KEYS = "1234567890abcdefghijklmnpqrstvwxyz"
ACCEPT = "accept"


@dataclass(frozen=True)
class LabelClass:
    """One choice on the page: its name, the folder it is written to, and its key."""

    name: str
    folder: str
    key: str


@dataclass(frozen=True)
class Suggestion:
    """The model's answer for one image: a class (None when it names none), a confidence in
    [0, 1] that orders the queue (least confident first), and the text shown beside the image."""

    label: str | None
    confidence: float
    summary: str
    error: str | None = None


@dataclass(frozen=True)
class Task:
    """A labelling task: which served model to ask and which classes to sort into."""

    kind: str
    endpoint: str
    repository_model: str
    classes: tuple[LabelClass, ...]
    suggest: Callable[[dict[str, Any]], Suggestion]

    def by_name(self, name: str) -> LabelClass:
        for cls in self.classes:
            if cls.name == name:
                return cls
        raise KeyError(name)


def _classes(names: list[tuple[str, str]]) -> tuple[LabelClass, ...]:
    if len(names) > len(CLASS_KEYS):
        raise TaskError(f"{len(names)} classes: at most {len(CLASS_KEYS)} have a key")
    return tuple(LabelClass(n, f, k) for (n, f), k in zip(names, CLASS_KEYS, strict=False))


def _margin(value: float, threshold: float | None) -> float:
    """How far a value is from its decision threshold, relative to it (1 = far)."""
    if not threshold:
        return 1.0
    return min(1.0, abs(value - threshold) / abs(threshold))


def gate_suggester(extra: dict[str, Any]) -> Callable[[dict[str, Any]], Suggestion]:
    """The gate names reasons, not probabilities: its confidence is how far distance and
    sharpness are from the calibrated thresholds (``modelplane.json``) — near one is unsure."""
    thresholds = extra.get("thresholds") or {}
    distance_t, sharpness_t = thresholds.get("distance"), thresholds.get("sharpness_floor")

    def suggest(answer: dict[str, Any]) -> Suggestion:
        reasons = [str(r) for r in answer.get("reasons", [])]
        distance, sharpness = float(answer["distance"]), float(answer["sharpness"])
        confidence = min(_margin(distance, distance_t), _margin(sharpness, sharpness_t))
        label = ACCEPT if answer.get("estimable") else (reasons[0] if reasons else None)
        verdict = (
            "accept"
            if answer.get("estimable")
            else "reject: " + (", ".join(reasons) or "no reason flagged")
        )
        summary = f"{verdict} · distance {distance:.3f} · sharpness {sharpness:.3f}"
        return Suggestion(label, round(confidence, 4), summary)

    return suggest


def breed_suggest(answer: dict[str, Any]) -> Suggestion:
    """The breed model's softmax score is its confidence; the top three are shown. A photo the
    open-set outputs call unknown is suggested as its reason (``not-a-dog``, ``unknown-breed``),
    with the nearest breed's score: such photos come early in least-confident order."""
    top = answer.get("top") or [{"breed": answer["breed"], "score": answer["breed_score"]}]
    summary = " · ".join(f"{t['breed']} {float(t['score']):.2f}" for t in top)
    score = round(float(top[0]["score"]), 4)
    if answer.get("known") is False:
        reason = str(answer.get("reason") or "unknown-breed")
        return Suggestion(reason, score, f"{reason} · nearest: {summary}")
    return Suggestion(str(answer["breed"]), score, summary)


# --model -> (task kind, served model to ask, repository model holding the labels). The breed
# step of pet-premium is asked directly: the premium step needs features a photo folder lacks.
MODELS: dict[str, tuple[str, str, str]] = {
    "car-claims": ("gate", "car-claims", "quality-gate"),
    "pet-premium": ("breed", "pet-breed", "breed"),
    "breed": ("breed", "pet-breed", "breed"),
}


def make_task(model: str, repository: Path, endpoint: str | None = None) -> Task:
    """The task for ``--model``, its classes read from ``<repository>/<model>/labels.txt``."""
    if model not in MODELS:
        raise TaskError(f"--model must be one of {sorted(MODELS)}, got {model!r}")
    kind, default_endpoint, repo_model = MODELS[model]
    try:
        config = load_model_config(repository, repo_model)
    except RepositoryError as exc:
        raise TaskError(f"cannot read the classes of {repo_model}: {exc}") from exc
    if not config.labels:
        raise TaskError(f"{config.path}/labels.txt is missing or empty")
    if kind == "gate":
        pairs = [(ACCEPT, ACCEPT), *((r, f"reject/{r}") for r in config.labels)]
        suggest = gate_suggester(config.extra)
    else:  # breeds, then the open-set reasons the trainer reads as DIR/<reason>/
        reasons = side_file_lines(config, "reasons.txt")
        pairs = [(b, b) for b in (*config.labels, *reasons)]
        suggest = breed_suggest
    return Task(kind, endpoint or default_endpoint, repo_model, _classes(pairs), suggest)
