"""Document parsing: recognised lines -> document type, typed fields, confidences, line items.

The parts live in ``modelplane_inference.documents.parsing`` (synonym table as data, fuzzy label
matching, typed values, layout pairing, document types); this module is the stage's entry point.
Each field has a confidence (label match x OCR score of the label and value lines, a little lower
for a value found below its label); ``needs_review`` is set when a field of the document's type
is missing or below ``REVIEW_BELOW``, so a caller can route the document to a person.
"""

from __future__ import annotations

import re
from typing import Any

from modelplane_inference.documents.parsing.amounts import read_amounts
from modelplane_inference.documents.parsing.doctypes import document_type, fields_of, item_kind
from modelplane_inference.documents.parsing.labels import split_label
from modelplane_inference.documents.parsing.layout import Cell, Found, cells_of, find_fields
from modelplane_inference.documents.parsing.values import parse_amount, parse_date, parse_number

REVIEW_BELOW = 0.7
UNLABELLED = 0.5  # confidence of a field inferred from its value alone (under REVIEW_BELOW)
PLAIN_AMOUNT = re.compile(r"^\s*\d{1,3}(?:,\d{3})+\s*$")


def normalise_date(text: str) -> str | None:
    return parse_date(text)


def normalise_amount(text: str) -> int | float | None:
    """The largest amount in free text ("합계 12 300" -> 12300); ``None`` if any is ambiguous."""
    amounts = read_amounts(text)
    if not amounts or any(a.value is None for a in amounts):
        return None
    return max(amounts, key=lambda a: a.value or 0).json()


def visual_rows(cells: list[Cell]) -> list[list[Cell]]:
    """Cells grouped into rows (vertical centres within half a height), left to right."""
    rows: list[list[Cell]] = []
    for cell in sorted(cells, key=lambda c: c.centre):
        if (
            rows
            and abs(rows[-1][0].centre - cell.centre) <= max(rows[-1][0].height, cell.height) / 2
        ):
            rows[-1].append(cell)
        else:
            rows.append([cell])
    return [sorted(row, key=lambda c: c.x0) for row in rows]


def item_rows(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Rows of a description, an optional parts/labour kind and one plain amount."""
    return [
        row
        for row in rows
        if len(row) >= 2 and PLAIN_AMOUNT.match(row[-1].text) and not split_label(row[0].text)
    ]


def line_items(rows: list[list[Cell]]) -> list[dict[str, Any]]:
    """The line items of ``item_rows``: description, kind (estimates), amount."""
    items = []
    for row in rows:
        item: dict[str, Any] = {"description": row[0].text}
        kind = item_kind(row[1].text) if len(row) > 2 else None
        if kind:
            item["kind"] = kind
        item["amount"] = parse_amount(row[-1].text)
        items.append(item)
    return items


def unlabelled(
    found: dict[str, Found], cells: list[Cell], items: list[dict[str, Any]]
) -> dict[str, Found]:
    """Fields no label gave, from the values alone, at low confidence (so flagged for review):
    the page's only unused date or document number; as the total, the largest amount when it
    equals the items' sum."""
    out = dict(found)
    used = {str(f.value) for f in found.values()}
    if "date" not in out:
        dates = {d for c in cells if (d := parse_date(c.text)) and d not in used}
        if len(dates) == 1:
            out["date"] = Found(dates.pop(), UNLABELLED, "page")
    numbers = {
        n
        for c in cells
        if (n := parse_number(c.text)) and n not in used and parse_date(c.text) is None
    }
    if "document_number" not in out and len(numbers) == 1:
        out["document_number"] = Found(numbers.pop(), UNLABELLED, "page")
    amounts = [a for c in cells if (a := parse_amount(c.text)) is not None and a >= 100]
    item_sum = sum(int(i["amount"]) for i in items)
    if "total_amount" not in out and amounts and max(amounts) == item_sum:
        out["total_amount"] = Found(item_sum, UNLABELLED, "page")
    return out


def parse_document(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The documents pipeline's answer: type, fields with confidences, items, source lines."""
    cells = cells_of(lines)
    rows = visual_rows(cells)
    items = item_rows(rows)
    found = find_fields(cells, [cell for row in items for cell in row])
    found = unlabelled(found, cells, line_items(items))
    kind = document_type([" ".join(c.text for c in row) for row in rows], set(found))
    names = fields_of(kind)
    fields = {name: found[name].value if name in found else None for name in names}
    confidence = {
        name: round(found[name].confidence, 3) if name in found else 0.0 for name in names
    }
    return {
        "document_type": kind,
        "fields": fields,
        "confidence": confidence,
        "needs_review": min(confidence.values(), default=0.0) < REVIEW_BELOW,
        "line_items": line_items(items),
        "lines": lines,
    }
