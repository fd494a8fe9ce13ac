"""Real held-out pet photos through the served pet-premium pipeline, and their scores.

Shared by ``tests/models/test_pet_open_set.py`` (a sample, regression floors) and
``bench/pet_quality.py`` (every held-out photo, the figures of ``docs/benchmarks.md`` and the
breed model card), so both send the same bytes and score them the same way. The photos are
the breed model's held-out pile (:func:`modelplane_models.pet_photos.breed_photos`): listed
breeds, real dogs of other breeds, cats, other animals / a person / empty scenes, and objects
(real car photos and scanned receipts), sent as JPEG quality 90 over gRPC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelplane_models import pet_photos, real_photos
from serving.real_vision import jpeg

# What a no-quote figure is broken down by (a listed breed is its own kind)
KINDS = ("unlisted-dog", "cat", "animal-person-scene", "object")


@dataclass(frozen=True)
class PetSample:
    """One held-out photo: JPEG bytes, its label (a listed breed or a reason) and its kind."""

    name: str
    image: bytes
    label: str
    kind: str


def kind_of(photo: real_photos.Photo) -> str:
    """A listed breed's name, or which kind of photo of no listed breed it is."""
    if photo.label in pet_photos.LISTED:
        return photo.label
    if photo.label == "unknown-breed":
        return "unlisted-dog"
    if photo.path.parent.parent.name in ("pets", "not-a-car"):
        breed = photo.path.stem.split("-", 1)[-1].lower().rstrip("0123456789_")
        return "cat" if breed in pet_photos.CATS else "animal-person-scene"
    return "object"


def pet_samples(stride: int = 1) -> list[PetSample]:
    """Every ``stride``-th held-out photo of the breed model (file order, per kind)."""
    photos = pet_photos.breed_photos("heldout")
    by_kind: dict[str, list[real_photos.Photo]] = {}
    for photo in photos:
        by_kind.setdefault(kind_of(photo), []).append(photo)
    return [
        PetSample(p.path.name, jpeg(p.image(evaluating=True)), p.label, kind)
        for kind, members in by_kind.items()
        for p in members[::stride]
    ]


def pet_scores(samples: list[PetSample], answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Listed breeds: the share named right (the served answer's ``breed``: an open-set
    "unknown" is wrong) and the share quoted with the right breed, per breed with n; every
    other kind: the share with no quote.
    A breed's figure is "measurable" only with ``MIN_HELDOUT_PER_BREED`` photos."""
    out: dict[str, Any] = {"listed": {}, "no_quote": {}}
    for breed in pet_photos.LISTED:
        pairs = [(s, a) for s, a in zip(samples, answers, strict=True) if s.kind == breed]
        named = [a.get("breed") == breed for _, a in pairs]
        right = [a.get("premium") is not None and a.get("breed") == breed for _, a in pairs]
        out["listed"][breed] = {
            "n": len(pairs),
            "named_right": sum(named) / len(pairs) if pairs else None,
            "quoted_right": sum(right) / len(pairs) if pairs else None,
            "measurable": len(pairs) >= pet_photos.MIN_HELDOUT_PER_BREED,
        }
    listed = [(s, a) for s, a in zip(samples, answers, strict=True) if s.label in out["listed"]]
    out["named_right"] = _share([a.get("breed") == s.label for s, a in listed])
    out["quoted_right"] = _share(
        [a.get("premium") is not None and a.get("breed") == s.label for s, a in listed]
    )
    no_quote = [a.get("premium") is None for a in answers]
    for kind in KINDS:
        members = [q for q, s in zip(no_quote, samples, strict=True) if s.kind == kind]
        out["no_quote"][kind] = {"n": len(members), "share": _share(members)}
    others = [q for q, s in zip(no_quote, samples, strict=True) if s.kind in KINDS]
    out["no_quote_all"] = {"n": len(others), "share": _share(others)}
    return out


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None
