"""Document parsing: recognised lines -> document type, typed fields, confidences, line items.

The parts live in ``modelplane_inference.documents.parsing`` (synonym table as data, fuzzy label
matching, typed values, layout pairing, document types); this module is the stage's entry point.
Each field has a confidence (label match x OCR score of the label and value lines, a little lower
for a value found below its label); ``needs_review`` is set when a field of the document's type
is missing or below ``REVIEW_BELOW``, or when the page's item rows do not add up to money it
prints (``parsing/items.py``), so a caller can route the document to a person.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

from modelplane_inference.documents.parsing.amounts import (
    currency_of,
    json_number,
    parse_amount_text,
    read_amounts,
)
from modelplane_inference.documents.parsing.doctypes import document_type, fields_of
from modelplane_inference.documents.parsing.institution import business_name
from modelplane_inference.documents.parsing.items import item_cells, line_items
from modelplane_inference.documents.parsing.labels import field_type
from modelplane_inference.documents.parsing.layout import (
    Cell,
    Found,
    boxes_of,
    cells_of,
    find_fields,
    level_lines,
    visual_rows,
)
from modelplane_inference.documents.parsing.totals import confidence, receipt_total
from modelplane_inference.documents.parsing.values import (
    parse_amount,
    parse_date,
    parse_number,
)

REVIEW_BELOW = 0.7
TIME = re.compile(r"\d:\d{2}(?!\d)")  # a time on a date's line: "20/08/1712:48"
UNLABELLED = 0.5  # confidence of a field inferred from its value alone (under REVIEW_BELOW)
CENTS_PAGE = 3  # amounts with two decimals that make a page one that prints cents


def normalise_date(text: str) -> str | None:
    return parse_date(text)


def normalise_amount(text: str) -> int | float | None:
    """The largest amount in free text ("합계 12 300" -> 12300); ``None`` if any is ambiguous."""
    amounts = read_amounts(text)
    if not amounts or any(a.value is None for a in amounts):
        return None
    return max(amounts, key=lambda a: a.value or 0).json()


def within(cells: list[Cell], boxes: list[Cell]) -> list[Cell]:
    """The (merged) cells that hold one of ``boxes``: an item row's cells are no labels."""
    return [
        c
        for c in cells
        if any(c.x0 <= b.x0 and c.y0 <= b.y0 and b.x1 <= c.x1 and b.y1 <= c.y1 for b in boxes)
    ]


def page_date(cells: list[Cell], used: set[str]) -> str | None:
    """The date of a page no label names: the topmost printed with a time (a receipt stamps the
    sale with both; an event's dates in its header, "25 AUG-3 Sept 2017", have none), else the
    topmost (a receipt prints its date first, then closing or due dates)."""
    dates = [(d, TIME.search(c.text) is not None) for c in cells if (d := parse_date(c.text))]
    dates = [(d, timed) for d, timed in dates if d not in used]
    return next((d for d, timed in dates if timed), dates[0][0] if dates else None)


def unlabelled(
    found: dict[str, Found], cells: list[Cell], items: list[dict[str, Any]], boxes: list[Cell]
) -> dict[str, Found]:
    """Fields no label gave, from the values alone, at low confidence (so flagged for review):
    the page's topmost unused date, its only unused document number, the institution its header
    names (``parsing/institution.py``, read from ``boxes``: the recognised lines, nothing merged);
    as the total, the largest amount when it equals the items' sum."""
    out = dict(found)
    used = {str(f.value) for f in found.values()}
    if "date" not in out and (date := page_date(cells, used)):
        out["date"] = Found(date, UNLABELLED, "page")
    if "institution" not in out and (name := business_name(boxes)):
        out["institution"] = Found(name, UNLABELLED, "page")
    numbers = {
        n
        for c in cells
        if (n := parse_number(c.text)) and n not in used and parse_date(c.text) is None
    }
    if "document_number" not in out and len(numbers) == 1:
        out["document_number"] = Found(numbers.pop(), UNLABELLED, "page")
    amounts = [a for c in cells if (a := parse_amount(c.text)) is not None and a >= 100]
    item_sum = sum(Decimal(str(i["amount"])) for i in items)
    if "total_amount" not in out and amounts and Decimal(str(max(amounts))) == item_sum:
        out["total_amount"] = Found(item_sum, UNLABELLED, "page")
    return out


def page_currency(cells: list[Cell]) -> str | None:
    """The currency printed most often on the page (``parsing/amounts.py``), if any."""
    printed = Counter(c for cell in cells if (c := currency_of(cell.text)))
    return printed.most_common(1)[0][0] if printed else None


def cents_page(cells: list[Cell]) -> bool:
    """Money on this page is printed with cents (at least ``CENTS_PAGE`` amounts ``d.dd``)."""
    printed = (parse_amount_text(c.text) for c in cells)
    return sum(a is not None and a.decimals == 2 for a in printed) >= CENTS_PAGE


def without_lost_cents(found: dict[str, Found], cells: list[Cell]) -> dict[str, Found]:
    """On a page that prints cents, a whole amount is a decimal mark OCR lost ("190.00" read
    "19000"): null (so the document needs review), never a 100x number."""
    if not cents_page(cells):
        return found
    return {
        name: hit
        for name, hit in found.items()
        if not (field_type(name) == "amount" and isinstance(hit.value, int))
    }


def checked_total(
    found: dict[str, Found], rows: list[list[Cell]], cents: bool, items: Decimal | None
) -> dict[str, Found]:
    """On a receipt, the total its money lines (``rows``: the recognised lines, nothing merged)
    and ``items`` (what its line items add up to) agree on (``parsing/totals.py``), or none: a
    wrong total on a claim is worse than a null one (the document then needs review)."""
    verdict = receipt_total(rows, cents, items)
    if verdict is None:
        return found
    out = {name: hit for name, hit in found.items() if name != "total_amount"}
    if verdict.value is not None:
        out["total_amount"] = Found(json_number(verdict.value), confidence(verdict), "checked")
    return out


def parse_document(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The documents pipeline's answer: type, fields with confidences, the page's currency,
    items, source lines (as read: the parser reads them levelled, ``level_lines``)."""
    source, lines = lines, level_lines(lines)
    cells = cells_of(lines)
    rows = visual_rows(cells)
    cents = cents_page(cells)
    lines_rows = visual_rows(boxes_of(lines))  # items are read line by line, nothing merged
    items = line_items(lines_rows, cents)
    found = find_fields(cells, within(cells, item_cells(lines_rows, cents)), cents)
    found = without_lost_cents(unlabelled(found, cells, items.items, boxes_of(lines)), cells)
    # The type from the labels the page prints: a total too unsure to answer is still printed.
    kind = document_type([" ".join(c.text for c in row) for row in rows], set(found))
    found = checked_total(found, lines_rows, cents, items.total)
    names = fields_of(kind)
    fields = {name: found[name].value if name in found else None for name in names}
    confidence = {
        name: round(found[name].confidence, 3) if name in found else 0.0 for name in names
    }
    return {
        "document_type": kind,
        "fields": fields,
        "confidence": confidence,
        "currency": page_currency(cells),
        "needs_review": min(confidence.values(), default=0.0) < REVIEW_BELOW or items.unsure,
        "line_items": items.items,
        "lines": source,
    }
