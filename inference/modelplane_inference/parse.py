"""Document parsing: recognised lines -> document type and structured fields.

Claim forms and receipts are label/value documents ("환자성명: 김민수", "Total: 72,300"). Lines are
grouped into visual rows (a label and its value are often separate detections), a row that
starts with a known label yields that field, and values are normalised (dates to YYYY-MM-DD,
amounts to int). Label matching ignores spaces and case, since OCR often splits or merges words.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "name": (
        "patient name",
        "insured name",
        "name of patient",
        "patient",
        "name",
        "환자성명",
        "수진자명",
        "피보험자",
        "환자명",
        "성명",
    ),
    "date": (
        "date of service",
        "visit date",
        "service date",
        "date",
        "진료일자",
        "진료기간",
        "발행일자",
        "청구일자",
        "진료일",
    ),
    "total_amount": (
        "total amount",
        "amount due",
        "grand total",
        "total",
        "진료비 총액",
        "납부할 금액",
        "청구금액",
        "총진료비",
        "합계",
        "총액",
    ),
    "document_number": (
        "receipt number",
        "receipt no",
        "claim number",
        "claim no",
        "invoice no",
        "document no",
        "영수증번호",
        "청구번호",
        "접수번호",
    ),
    "institution": (
        "hospital name",
        "hospital",
        "clinic",
        "institution",
        "provider",
        "요양기관명",
        "의료기관명",
        "병원명",
        "기관명",
    ),
}
DOCUMENT_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("claim_form", ("claim form", "claim", "보험금 청구서", "청구서")),
    ("receipt", ("receipt", "영수증")),
    ("estimate", ("estimate", "견적서", "견적")),
)
DATE_PATTERNS = (
    re.compile(r"(\d{4})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
AMOUNT = re.compile(r"\d{1,3}(?:[,.]\d{3})+(?!\d)|\d+")
NUMBER_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{3,}")


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def rows_of(lines: list[dict[str, Any]]) -> list[str]:
    """Texts joined into visual rows: boxes whose vertical centres are within half a height."""
    rows: list[tuple[float, float, list[tuple[float, str]]]] = []
    for line in lines:
        box = line.get("box") or [[0, 0], [0, 0], [0, 0], [0, 0]]
        ys = [p[1] for p in box]
        centre, height = sum(ys) / len(ys), max(max(ys) - min(ys), 1.0)
        x = min(p[0] for p in box)
        for row in rows:
            if abs(row[0] - centre) <= max(row[1], height) / 2:
                row[2].append((x, line["text"]))
                break
        else:
            rows.append((centre, height, [(x, line["text"])]))
    rows.sort(key=lambda r: r[0])
    return [" ".join(t for _, t in sorted(r[2])).strip() for r in rows]


def _after_label(row: str, label: str) -> str | None:
    """The row's text after ``label`` when the row starts with it (spaces and case ignored)."""
    wanted = compact(label)
    consumed, index = 0, 0
    while index < len(row) and consumed < len(wanted):
        char = row[index]
        if not char.isspace():
            if char.lower() != wanted[consumed]:
                return None
            consumed += 1
        index += 1
    if consumed < len(wanted):
        return None
    return row[index:].lstrip(" :\uff1a.;-=|").strip()  # \uff1a: full-width colon


def normalise_date(text: str) -> str | None:
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            try:
                day = dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                continue
            return day.isoformat()
    return None


def normalise_amount(text: str) -> int | None:
    match = AMOUNT.search(text.replace(" ", ""))
    return int(re.sub(r"[,.]", "", match[0])) if match else None


def normalise(field: str, value: str) -> Any:
    if field == "date":
        return normalise_date(value)
    if field == "total_amount":
        return normalise_amount(value)
    if field == "document_number":
        match = NUMBER_TOKEN.search(value.replace(" ", ""))
        return match[0] if match else None
    cleaned = value.strip(" .,:;")
    return cleaned or None


def extract_fields(rows: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = dict.fromkeys(FIELD_LABELS)
    for index, row in enumerate(rows):
        for field, labels in FIELD_LABELS.items():
            if fields[field] is not None:
                continue
            for label in labels:
                value = _after_label(row, label)
                if value is None:
                    continue
                if not value and index + 1 < len(rows):
                    value = rows[index + 1]  # label alone on its row, value below
                fields[field] = normalise(field, value)
                break
    if fields["date"] is None:
        fields["date"] = normalise_date(" ".join(rows))
    return fields


def document_type(rows: list[str]) -> str:
    """From the title (first rows) first, then anywhere in the text."""
    for scope in (rows[:2], rows):
        text = compact(" ".join(scope))
        for kind, words in DOCUMENT_TYPES:
            if any(compact(w) in text for w in words):
                return kind
    return "unknown"


def parse_document(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The documents pipeline's answer: type, fields and the lines they came from."""
    rows = rows_of(lines)
    return {"document_type": document_type(rows), "fields": extract_fields(rows), "lines": lines}
