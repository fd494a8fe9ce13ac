"""Which document a page is (claim form, medical receipt, repair estimate) and its fields.

The title words of each type are in ``synonyms.yaml``. A title word in the top rows counts
most, as a whole word further down less; fields only one type has (a policy number,
parts and labour totals) are evidence too, so a page with a title nobody listed still gets its
type; a page with no title word but a total is a receipt.
"""

from __future__ import annotations

import re

from modelplane_inference.documents.parsing.labels import compact, table

TITLE_TOP, TITLE_ANYWHERE, FIELD_EVIDENCE = 3.0, 1.0, 1.0
_NOT_WORD = re.compile(r"[^\w]+")
OWN_FIELDS = {"claim_form": ("policy_number",), "estimate": ("parts_total", "labour_total")}


def _words(text: str) -> str:
    """Lower-case words between single spaces (punctuation splits words): for whole-word tests."""
    return " " + " ".join(_NOT_WORD.split(text.lower())).strip() + " "


def _title_score(words: list[str], top: str, page: str) -> float:
    """Longest title word found: in the first rows it counts ``TITLE_TOP`` (+ length bonus);
    further down ``TITLE_ANYWHERE``, and there only as whole words, not as the start of a longer
    one: a real National Assembly bill page (korean-text develop) says "관련 규정을
    정비함으로써" (by reorganising the rules), and that 정비 made it a repair estimate; a real
    receipt's "TOTAL(GST INCL) CASH ROUNDING" still says cash (SROIE develop)."""
    best = 0.0
    for word in sorted(words, key=len, reverse=True):
        key = compact(word)
        if key in top:
            best = max(best, TITLE_TOP + len(key) / 100)
        elif _words(word) in page:
            best = max(best, TITLE_ANYWHERE + len(key) / 100)
    return best


def document_type(rows: list[str], found_fields: set[str]) -> str:
    """``claim_form``, ``receipt``, ``estimate`` or ``unknown``."""
    top, page = compact(" ".join(rows[:3])), _words(" ".join(rows))
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
