"""Real Korean text images (``models/data/korean-text``) and how routing and reading are scored.

Each image's JSON lists its printed lines with a box. A served line is matched to the printed
line its box overlaps most (intersection over the smaller of the two boxes, at least
``MIN_OVERLAP``). Routing is judged per printed line: a line with Hangul must reach Tesseract
(``recognizer`` ``tesseract`` or ``ctc+tesseract``), a line without must stay with CTC. Every
line of a Latin-only real page (receipts, the scanned brochure) is a Latin line. Tokens: the
printed Hangul words (whitespace-split, edge punctuation off) found in the words read, as
multisets (``real_documents.word_recall``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from serving.real_documents import DATA, RealDocument, heldout_files, word_recall

KOREAN = DATA / "korean-text"
MIN_OVERLAP = 0.5
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def images(pile: str) -> list[RealDocument]:
    """The images of one pile (``label["lines"]``: the printed lines); the develop pile never
    yields a held-out file."""
    found = [
        RealDocument(path.stem, "korean-text", pile, path)
        for path in sorted((KOREAN / pile).iterdir())
        if path.suffix in (".jpg", ".png")
    ]
    if pile == "develop" and any(i.image.resolve() in heldout_files() for i in found):
        raise RuntimeError("a held-out Korean image is in the develop pile")
    return found


def has_hangul(text: str) -> bool:
    return bool(_HANGUL.search(text))


def routed(line: dict[str, Any]) -> bool:
    """Whether script routing sent (part of) the served line to Tesseract (``tesseract``,
    ``ctc+tesseract``). A CTC amount read again for its cents (``ctc+tesseract-money``,
    ``documents/money_reading.py``) is a Latin line that stayed with CTC, not a route."""
    recognizer = str(line.get("recognizer", ""))
    return "tesseract" in recognizer and not recognizer.endswith("-money")


def _rect(box: Any) -> tuple[float, float, float, float]:
    if len(box) == 4 and all(isinstance(v, int | float) for v in box):
        return tuple(float(v) for v in box)  # type: ignore[return-value]
    xs, ys = [float(p[0]) for p in box], [float(p[1]) for p in box]
    return min(xs), min(ys), max(xs), max(ys)


def overlap(a: Any, b: Any) -> float:
    """Intersection over the smaller box's area."""
    ax0, ay0, ax1, ay1 = _rect(a)
    bx0, by0, bx1, by1 = _rect(b)
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
    return inter / smaller if smaller > 0 else 0.0


@dataclass
class Routing:
    """Counts over printed lines: Hangul lines routed / not, Latin lines routed / not."""

    hangul_routed: int = 0
    hangul_missed: int = 0
    latin_routed: int = 0
    latin_kept: int = 0
    unmatched: int = 0

    def add_korean_image(self, printed: list[dict[str, Any]], served: list[dict[str, Any]]) -> None:
        for line in printed:
            best = max(served, key=lambda s: overlap(line["box"], s["box"]), default=None)
            if best is None or overlap(line["box"], best["box"]) < MIN_OVERLAP:
                self.unmatched += 1
                continue
            self._count(has_hangul(line["text"]), routed(best))

    def add_latin_page(self, served: list[dict[str, Any]]) -> None:
        for line in served:
            self._count(False, routed(line))

    def _count(self, hangul: bool, went: bool) -> None:
        if hangul:
            self.hangul_routed += went
            self.hangul_missed += not went
        else:
            self.latin_routed += went
            self.latin_kept += not went

    @property
    def recall(self) -> float | None:
        total = self.hangul_routed + self.hangul_missed
        return self.hangul_routed / total if total else None

    @property
    def precision(self) -> float | None:
        total = self.hangul_routed + self.latin_routed
        return self.hangul_routed / total if total else None


def hangul_tokens(printed: list[dict[str, Any]], served: list[dict[str, Any]]) -> tuple[int, int]:
    """(printed Hangul words found in what was read, printed Hangul words)."""
    truth = [word for line in printed for word in line["text"].split() if has_hangul(word)]
    return word_recall(truth, [line["text"] for line in served])
