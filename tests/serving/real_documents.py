"""Real documents (``models/data/documents``): loading the two piles and scoring what was read.

Two sources, each split into ``develop`` (inspect and tune freely) and ``heldout`` (never tuned
on; every file is listed in ``models/data/HELDOUT.sha256``): ICDAR-2019 SROIE scanned receipts
with labelled date, total and company, and phone photos of printed pages with transcripts
(see each source's PROVENANCE.md). ``bench/documents_quality.py`` scores the served endpoint and
plain ``RapidOCR()`` with these functions; ``test_documents_heldout.py`` asserts floors.

Scores:
- word recall: truth words (upper case, edge punctuation stripped) found in the page's text
  read, each occurrence used once; spaces do not count (PP-OCR often drops the space between
  words: "JALAN SAGU18"), order and line breaks do not matter;
- CER: edit distance / truth characters over the page in reading order (rows top to bottom,
  left to right), spaces ignored, accents folded on both sides (the PP-OCR character list has
  few accented letters, and both engines share it);
- fields: the date exactly (ISO), the total as a number equal to the label's (a null is a miss;
  a wrong non-null total is counted on its own), the institution as the labelled company
  (compared compacted, difflib ratio >= 0.9), the document type.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from typing import Any

from modelplane_inference.documents.parsing.document import parse_document, visual_rows
from modelplane_inference.documents.parsing.labels import compact
from modelplane_inference.documents.parsing.layout import boxes_of
from serving.capture_eval import edit_distance
from serving.servers import ROOT

DATA = ROOT / "models" / "data"
DOCUMENTS = DATA / "documents"
HELDOUT_LIST = DATA / "HELDOUT.sha256"
PILES = ("develop", "heldout")
SOURCES = ("sroie", "photos")
# Real claim forms and invoices kept for their document type (PDFs, labelled type and printed
# fields, no transcript): not among the default sources, whose text is scored.
TYPED = "typed"
PAGE_SUFFIXES = (".jpg", ".pdf")
INSTITUTION_MATCH = 0.9
# The fields a receipt pile is scored on; *_audited: the same answer against the SROIE total
# label as a blind audit against the paper corrected it (LABEL-AUDIT.md), beside SROIE's own
SCORED_FIELDS = (
    "date",
    "total",
    "total_wrong",
    "total_audited",
    "total_wrong_audited",
    "institution",
    "type",
)
_EDGE = re.compile(r"^[^\w]+|[^\w]+$")


@dataclass(frozen=True)
class RealDocument:
    """One real page: its image file and its label (transcript, fields, type)."""

    name: str
    source: str
    pile: str
    image: Path

    @property
    def label(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.image.with_suffix(".json").read_text("utf-8"))
        if self.source == "sroie":  # every SROIE receipt was audited: {} where SROIE's stands
            audit = DOCUMENTS / self.source / f"audit-{self.pile}.json"
            data["audit"] = audit_corrections(audit).get(self.name, {})
        return data


def audit_corrections(path: Path) -> dict[str, dict[str, Any]]:
    """The total labels a blind audit against the paper corrected (``LABEL-AUDIT.md``): per
    receipt the audited ``total_amount``, SROIE's ``label``, the ``reason`` and ``evidence``."""
    return _audit(path.resolve())


@cache
def _audit(path: Path) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))["corrections"]
    return data


@cache
def heldout_files() -> frozenset[Path]:
    """Every held-out file, from the shared sha256 list (paths relative to models/data)."""
    lines = HELDOUT_LIST.read_text("utf-8").splitlines()
    return frozenset((DATA / line.split(maxsplit=1)[1].strip()).resolve() for line in lines if line)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def documents(pile: str, sources: tuple[str, ...] = SOURCES) -> list[RealDocument]:
    """The documents of one pile, by name. The develop pile never yields a listed file."""
    if pile not in PILES:
        raise ValueError(f"pile must be one of {PILES}, got {pile!r}")
    out = [
        RealDocument(path.stem, source, pile, path)
        for source in sources
        for path in sorted((DOCUMENTS / source / pile).iterdir())
        if path.suffix in PAGE_SUFFIXES
    ]
    if pile == "develop":
        leaked = [d.image for d in out if d.image.resolve() in heldout_files()]
        if leaked:
            raise RuntimeError(f"held-out files in the develop pile: {leaked}")
    return out


def fold(text: str) -> str:
    """Accents off, typographic quotes plain: both engines and the truth compared alike."""
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


def words(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for token in fold(line).upper().split():
            token = _EDGE.sub("", token)
            if token:
                out.append(token)
    return out


def word_recall(truth: list[str], read: list[str]) -> tuple[int, int]:
    """(truth words found, truth words): longest words first, each found text used once."""
    page = "\n".join(fold(line).upper().replace(" ", "") for line in read)
    want = sorted(words(truth), key=len, reverse=True)
    found = 0
    for word in want:
        if word in page:
            page = page.replace(word, "\n", 1)
            found += 1
    return found, len(want)


def reading_order(lines: list[dict[str, Any]]) -> list[str]:
    """Texts of recognised lines (``text`` + ``box``) row by row, left to right."""
    return [cell.text for row in visual_rows(boxes_of(lines)) for cell in row]


def cer(truth: list[str], read: list[str]) -> tuple[int, int]:
    """(edit distance, truth characters) of the page, spaces ignored, accents folded."""
    want = fold("".join(truth)).replace(" ", "")
    got = fold("".join(read)).replace(" ", "")
    return edit_distance(want, got), len(want)


def as_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def field_scores(label: dict[str, Any], answer: dict[str, Any]) -> dict[str, bool]:
    """Per labelled field: right or not; ``total_wrong``: a non-null total that is wrong."""
    want, got = label.get("fields", {}), answer.get("fields", {})
    out: dict[str, bool] = {}
    if "date" in want:
        out["date"] = got.get("date") == want["date"]
    if "total_amount" in want:
        value = as_decimal(got.get("total_amount"))
        out["total"], out["total_wrong"] = total_scores(value, want["total_amount"])
        if "audit" in label:  # the same answer against the audited label (LABEL-AUDIT.md)
            audited = label["audit"].get("total_amount", want["total_amount"])
            out["total_audited"], out["total_wrong_audited"] = total_scores(value, audited)
    if "institution" in want:
        found = compact(str(got.get("institution") or ""))
        ratio = SequenceMatcher(None, found, compact(want["institution"])).ratio()
        out["institution"] = bool(found) and ratio >= INSTITUTION_MATCH
    for name in ("name", "policy_number", "document_number"):  # printed as they are
        if name in want:
            out[name] = compact(str(got.get(name) or "")) == compact(want[name])
    if label.get("document_type") not in (None, "page"):
        out["type"] = answer.get("document_type") == label["document_type"]
    return out


def total_scores(value: Decimal | None, label: str) -> tuple[bool, bool]:
    """(right, wrong) of an answered total against a label: a null is neither."""
    right = value is not None and value == Decimal(label)
    return right, value is not None and not right


def first_page(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer for page 1: a PDF is answered per page, and page 1 carries the title."""
    pages = answer.get("pages")
    return dict(pages[0]) if isinstance(pages, list) and pages else answer


def item_amounts_right(label: dict[str, Any], answer: dict[str, Any]) -> bool | None:
    """The line items' amounts as labelled (as a multiset), or ``None`` where none are."""
    want = label.get("line_item_amounts")
    if want is None:
        return None
    got = [as_decimal(item.get("amount")) for item in answer.get("line_items", [])]
    return sorted(Decimal(w) for w in want) == sorted(g for g in got if g is not None)


def typed_scores(label: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """Type, fields and (where labelled) line items of one document's first page; on a blank
    form, ``blank_fields``: how many fields were answered all the same (each one is wrong)."""
    out: dict[str, Any] = field_scores(label, answer)
    items = item_amounts_right(label, answer)
    if items is not None:
        out["line_items"] = items
    if label.get("blank"):
        out["blank_fields"] = sum(v is not None for v in answer.get("fields", {}).values())
    return out


def group_of(label: dict[str, Any]) -> str:
    """The figure a typed document counts in: its label's ``group`` (pharmacy receipts:
    ``medical_receipt``, typed ``receipt`` like the invoices), else its type."""
    return str(label.get("group", label["document_type"]))


def rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


TEST_SPLIT = Path(__file__).with_name("data") / "sroie_test_split_lines.json.gz"
TEST_SPLIT_AUDIT = TEST_SPLIT.with_name("sroie_test_split_audit.json")


@cache
def sroie_test_split() -> dict[str, dict[str, Any]]:
    """The SROIE test split's receipts (a develop pile, lines only): per receipt id its label and
    the lines the served endpoint read (``TEST_SPLIT``; provenance in its ``_about``)."""
    with gzip.open(TEST_SPLIT, "rt", encoding="utf-8") as handle:
        data: dict[str, dict[str, Any]] = json.load(handle)["receipts"]
    corrections = audit_corrections(TEST_SPLIT_AUDIT)
    for name, receipt in data.items():
        receipt["label"]["audit"] = corrections.get(name, {})
    return data


def sroie_test_split_answers() -> tuple[Counter[str], dict[str, dict[str, Any]]]:
    """Today's parser on every test-split receipt's served lines: the count of right fields
    (and of ``total_wrong``), and per receipt its answer's fields and scores."""
    tally: Counter[str] = Counter()
    per_receipt: dict[str, dict[str, Any]] = {}
    for name, receipt in sroie_test_split().items():
        answer = parse_document(receipt["lines"])
        scores = field_scores(receipt["label"], answer)
        tally.update(field for field, right in scores.items() if right)
        per_receipt[name] = {"fields": answer["fields"], "scores": scores}
    return tally, per_receipt
