"""Every model of the repository, in build order (cheap copies first, then trained models)."""

from __future__ import annotations

from . import breed, ocr, premium, quality_gate_train, severity
from .repository import Builder

BUILDERS: tuple[Builder, ...] = (
    *ocr.BUILDERS,
    quality_gate_train.BUILDER,
    severity.BUILDER,
    breed.BUILDER,
    premium.BUILDER,
)
TRAINABLE_FROM_FOLDER = ("quality-gate", "breed")


def by_name(name: str) -> Builder:
    for builder in BUILDERS:
        if builder.name == name:
            return builder
    raise KeyError(f"unknown model {name!r}; known: {', '.join(b.name for b in BUILDERS)}")
