"""OCR'd labels -> fields, by fuzzy match against the synonym table (``synonyms.yaml``).

Labels are compared compacted (no spaces, case or punctuation), since OCR splits and merges
words and drops colons. A whole-label match scores its difflib ratio (1.0 exact; "Pat1ent Nane"
still ~0.85); a short label that only contains one of the field's keywords scores 0.8 to 0.95
(higher when the keyword is most of the label), so an exactly listed wording outranks a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TABLE = Path(__file__).with_name("synonyms.yaml")
MIN_LABEL_SCORE = 0.78  # below this a text is not taken as a label (tuned on the tune split)
MIN_PREFIX_SCORE = 0.9  # the same for a label followed by its value in one cell
KEYWORD_SLACK = 8  # a keyword hit counts when the label has at most this many other characters
_PUNCT = re.compile(r"[\s:\uff1a.,;\u00b7\-_=|()'\u2019\"/\[\]]+")


def compact(text: str) -> str:
    """Lower case, no spaces or punctuation: how labels are compared."""
    return _PUNCT.sub("", text).lower()


@cache
def table() -> dict[str, Any]:
    """The synonym table, loaded once."""
    with TABLE.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


@cache
def _synonyms() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {
        name: (
            tuple(compact(s) for s in spec["labels"]),
            tuple(compact(k) for k in spec.get("keywords", [])),
        )
        for name, spec in table()["fields"].items()
    }


@cache
def _hints() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per field, the compacted ``prefer`` and ``avoid`` words of the synonym table."""
    return {
        name: (
            tuple(compact(w) for w in spec.get("prefer", [])),
            tuple(compact(w) for w in spec.get("avoid", [])),
        )
        for name, spec in table()["fields"].items()
    }


def has_hints(field: str) -> bool:
    """The field lists ``prefer`` words: one of several printed values is the one wanted."""
    return bool(_hints()[field][0])


def preferred(text: str, field: str) -> bool:
    """The label names the one value of several of its kind (the paid total, not a subtotal)."""
    key = compact(text)
    return any(word in key for word in _hints()[field][0])


def avoided(text: str, field: str) -> bool:
    """The label names a neighbour of the field ("TOTAL QTY", "TOTAL GST"), not the field."""
    key = compact(text)
    return any(word in key for word in _hints()[field][1]) and not preferred(text, field)


@cache
def _item_headers() -> frozenset[str]:
    return frozenset(compact(h) for h in table()["item_headers"])


def is_item_header(text: str) -> bool:
    """A column header of the line-item table ("Item", "금액"): neither label nor value."""
    return compact(text) in _item_headers()


def field_type(field: str) -> str:
    return str(table()["fields"][field]["type"])


@dataclass(frozen=True)
class LabelMatch:
    field: str
    score: float


def label_score(text: str, field: str) -> float:
    """How much ``text`` (a whole label) looks like a label of ``field``, in [0, 1]."""
    key = compact(text)
    if not key or avoided(text, field):
        return 0.0
    labels, keywords = _synonyms()[field]
    best = max(SequenceMatcher(None, key, label).ratio() for label in labels)
    for word in keywords:
        # A keyword names a short label ("사고 일자", "Date of Loss"); in a long text it is
        # more likely part of a value ("CITY GENERAL HOSPITAL").
        if word and word in key and len(key) - len(word) <= KEYWORD_SLACK:
            best = max(best, 0.8 + 0.15 * len(word) / len(key))
    return best


def match_label(text: str) -> LabelMatch | None:
    """The field ``text`` labels, if any scores at least ``MIN_LABEL_SCORE``."""
    key = compact(text)
    if len(key) < 2 or sum(c.isdigit() for c in text) > 2 or key in _item_headers():
        return None
    scored = [LabelMatch(field, label_score(text, field)) for field in _synonyms()]
    best = max(scored, key=lambda m: m.score)
    return best if best.score >= MIN_LABEL_SCORE else None


def split_label(text: str) -> tuple[LabelMatch, str] | None:
    """A label at the start of ``text`` and the rest (``"Total: 72,300"`` -> total, "72,300").

    Tries the part before a colon first, then the first one to four words.
    """
    if ":" in text or "\uff1a" in text:
        head, _, rest = text.replace("\uff1a", ":").partition(":")
        found = match_label(head)
        if found is not None:
            return found, rest.strip()
    words = text.split()
    candidates = []
    for count in range(min(4, len(words)), 0, -1):
        found = match_label(" ".join(words[:count]))
        # A label that is only the first words of a cell must match closely: "Paint work" is
        # not "Patient" + "work", "Laboratory test" not "Labor" + "test".
        if found is not None and (count == len(words) or found.score >= MIN_PREFIX_SCORE):
            candidates.append((found.score, count, found))
    if not candidates:
        return None
    _, count, found = max(candidates, key=lambda c: (round(c[0], 3), c[1]))
    return found, " ".join(words[count:]).strip(" :-")
