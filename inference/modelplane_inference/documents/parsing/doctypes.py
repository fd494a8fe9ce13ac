"""Which document a page is (claim form, medical receipt, repair estimate) and its fields.

The title words of each type are in ``synonyms.yaml``. A title word in the top rows counts
most, further down less; fields only one type has (a policy number, parts and labour totals)
are evidence too, so a page with a title nobody listed still gets its type; a page with no
title word but a total is a receipt.

A title word counts only as a whole word (``title_pattern``), in the top rows as below them:
"facture" inside "manufacturer", "estimate" inside "estimated" name no document. Inside the
word, spaces and punctuation are free, as OCR splits and merges them ("TAXINVOICE" is "tax
invoice"). Latin: no letter may touch either end. Hangul has no spaces between the nouns of a
compound, and Korean puts the head noun last (현금영수증, 진료비영수증, 자동차정비): a Hangul
title word may end a longer run of Hangul but not begin one, so 정비함으로써 (reorganising) in a
bill's sentence is no 정비 (repair), nor 보험금청구서 a 보험금 title (its 청구서 is).

Accents are folded on both sides (``folded``): the recognizer's character list has few accented
letters, so a German till receipt's "Rückgeld" is read "Ruckgeld" (softmatic develop scans),
and a title word is found however it was printed or read.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from modelplane_inference.documents.parsing.labels import compact, table

TITLE_TOP, TITLE_ANYWHERE, FIELD_EVIDENCE = 3.0, 1.0, 1.0
OWN_FIELDS = {"claim_form": ("policy_number",), "estimate": ("parts_total", "labour_total")}
_LETTER = r"[^\W\d_]"  # a letter of any script (digits and punctuation are boundaries)
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3"  # jamo and syllables
_GAP = r"[\W_]*"  # what OCR puts between the letters of one title: spaces, punctuation, nothing


def _is_hangul(char: str) -> bool:
    return re.match(f"[{_HANGUL}]", char) is not None


def folded(text: str) -> str:
    """``text`` without accents ("Rückgeld" -> "Ruckgeld"); Hangul is recomposed as it was."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)


@cache
def title_pattern(word: str) -> re.Pattern[str]:
    """``word`` as a whole word of lower-case text (module docstring): its compacted letters
    with any gap between them; no letter touching a Latin end, no Hangul after a Hangul one."""
    key = compact(folded(word))
    before = "" if _is_hangul(key[0]) else f"(?<!{_LETTER})"
    after = f"(?![{_HANGUL}])" if _is_hangul(key[-1]) else f"(?!{_LETTER})"
    return re.compile(before + _GAP.join(map(re.escape, key)) + after)


def _title_score(words: list[str], top: str, page: str) -> float:
    """Longest title word found: in the first rows it counts ``TITLE_TOP`` (+ length bonus),
    further down ``TITLE_ANYWHERE``: a real receipt's "TOTAL(GST INCL) CASH ROUNDING" still says
    cash (SROIE develop)."""
    best = 0.0
    for word in sorted(words, key=len, reverse=True):
        pattern, key = title_pattern(word), compact(folded(word))
        if pattern.search(top):
            best = max(best, TITLE_TOP + len(key) / 100)
        elif pattern.search(page):
            best = max(best, TITLE_ANYWHERE + len(key) / 100)
    return best


def document_type(rows: list[str], found_fields: set[str]) -> str:
    """``claim_form``, ``receipt``, ``estimate`` or ``unknown``."""
    top, page = folded(" ".join(rows[:3]).lower()), folded("\n".join(rows).lower())
    scores = {}
    for kind, spec in table()["types"].items():
        score = _title_score(spec["titles"], top, page)
        score += FIELD_EVIDENCE * sum(f in found_fields for f in OWN_FIELDS.get(kind, ()))
        scores[kind] = score
    kind = max(scores, key=lambda k: scores[k])
    if scores[kind] > 0:
        return str(kind)
    # No title word at all: a page stating a total is a bill someone paid (a shop receipt
    # headed only by the shop's name, real paper); anything else stays unknown.
    return "receipt" if "total_amount" in found_fields else "unknown"


def fields_of(kind: str) -> list[str]:
    """The fields a document of ``kind`` has (unknown: the common ones)."""
    spec = table()["types"].get(kind)
    return list(spec["fields"] if spec else table()["unknown_fields"])


def item_kind(text: str) -> str | None:
    """``parts`` or ``labour`` for an estimate line's kind cell."""
    key = compact(text)
    for kind, words in table()["item_kinds"].items():
        if any(compact(w) == key for w in words):
            return str(kind)
    return None
