"""Where a label's value is on the page: the same line, the cell to the right, the cell below.

Works on recognised lines and their boxes only (no ruling lines needed), so the same code reads
``label: value`` rows, two- and four-column grids and the standard receipt's header table
(label cells on one row, values in the row below). Lines of one multi-line cell are merged
first: stacked tightly (centres under ``CELL_PITCH`` box heights apart) and left-aligned.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from typing import Any

from modelplane_inference.documents.parsing.amounts import only_currency, parse_amount_text
from modelplane_inference.documents.parsing.labels import (
    LabelMatch,
    avoided,
    field_type,
    has_hints,
    is_item_header,
    preferred,
    split_label,
)
from modelplane_inference.documents.parsing.values import parse_value

CELL_PITCH = 1.1  # left-aligned lines closer than this (x box height) share a cell
LEVEL = 0.3  # centres closer than this (x height) are level: the same printed line
ROW = 0.5  # centres closer than this (x height) share a visual row (``visual_rows``)
BELOW_PENALTY = 0.95  # a value found below its label is a little less certain
# A printed form's box title: an item number and a capitalised caption ("7. INSURED'S ADDRESS
# (No., Street)", "17a. I.D. NUMBER"), or an instruction wholly in brackets ("(Last Name, First
# Name, Middle Initial)"). Real blank claim forms 1500 (typed/ develop pile) gave such captions
# as the patient's name; a caption is never the value of the box beside or above it.
NUMBERED_CAPTION = re.compile(r"^\s*\d{1,2}[a-z]?\.\s*[A-Z]")
CAPTION_UPPER = 0.6  # share of capital letters in a numbered caption
SIDEWAYS_CHARS = 4  # a taller-than-wide box around this many characters is turned text
SIDEWAYS_ASPECT = 2.0  # ... when it is this many times taller than wide
TILT = 0.01  # a page whose lines slope more than this (dy/dx, ~0.6 degrees) is levelled
TILT_WIDTH = 40  # px: boxes narrower than this say little about the slope
TILT_BOXES = 5  # boxes needed to measure the slope
TILT_AGREE = 0.5  # the boxes' slopes spread less than this share of the page's: a tilt


@dataclass
class Cell:
    """Text of one box (or merged multi-line cell) with its extent and OCR score."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    line_height: float = 0.0  # of its last line (a merged cell is taller than its lines)

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)

    @property
    def centre(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class Found:
    """A field value, its confidence and where it came from."""

    value: Any
    confidence: float
    source: str  # "line", "right", "below"; "page" (unlabelled) or "checked" (receipt total)


def rows_of(cells: list[Cell], level: float) -> list[list[Cell]]:
    """Cells grouped into rows, top to bottom, each left to right: a cell joins the last row
    when its centre is within ``level`` box heights (the taller box's) of that row's first.

    One grouping, two tolerances. The page's rows (``visual_rows``, ``ROW`` = half a height)
    must hold a receipt's label and its amount however the scan tilts or OCR boxes them apart,
    so item and total rows read whole. A business name's printed line (``LEVEL``, stricter)
    must not take in a stamp or a logo that only overlaps it ("POSTED" over "YONG CEN
    ENTERPRISE", "AUTO SPREVES" over "GmbH"), or the name reads with a stranger's words.
    """
    rows: list[list[Cell]] = []
    for cell in sorted(cells, key=lambda c: c.centre):
        first = rows[-1][0] if rows else None
        if first is not None and abs(first.centre - cell.centre) <= level * max(
            first.height, cell.height
        ):
            rows[-1].append(cell)
        else:
            rows.append([cell])
    return [sorted(row, key=lambda c: c.x0) for row in rows]


def visual_rows(cells: list[Cell]) -> list[list[Cell]]:
    """The page's rows: centres within half a height (``ROW``), left to right."""
    return rows_of(cells, ROW)


def tilt(lines: list[dict[str, Any]]) -> float:
    """The page's slope (dy/dx): the median slope of the wide boxes' top edges (OCR boxes
    follow the printed line, however the scan was fed) when they agree on it (their
    interquartile range under ``TILT_AGREE`` of it); 0 with too few to say, or on a curled
    page, whose lines slope every way (sroie-014: -0.05 to 0.05) and whose rows stay level
    with each other where they are."""
    slopes = [
        (box[1][1] - box[0][1]) / (box[1][0] - box[0][0])
        for line in lines
        if len(box := line.get("box") or []) == 4 and box[1][0] - box[0][0] > TILT_WIDTH
    ]
    if len(slopes) < TILT_BOXES:
        return 0.0
    low, _, high = statistics.quantiles(slopes, n=4)
    slope = statistics.median(slopes)
    return slope if high - low < TILT_AGREE * abs(slope) else 0.0


def level_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines of a page scanned askew, their boxes turned so printed lines are level (the
    page's ``tilt`` above ``TILT``); others as they are. On a receipt tilted 2 degrees a
    label at the left edge sits half a line above its amount at the right, and the rows
    (``visual_rows``) paired "Rounding Adj." with the subtotal's amount (sroie-341)."""
    slope = tilt(lines)
    if abs(slope) <= TILT:
        return lines
    angle = math.atan(slope)
    cos, sin = math.cos(angle), math.sin(angle)
    return [
        {**line, "box": [[x * cos + y * sin, y * cos - x * sin] for x, y in line["box"]]}
        if line.get("box")
        else line
        for line in lines
    ]


# Full-width forms of ASCII (U+FF01-U+FF5E) and the ideographic space, folded to ASCII.
_ASCII_FORMS = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20}


def ascii_forms(text: str) -> str:
    """``text`` with full-width ASCII forms as ASCII. PP-OCR's Chinese dictionary answers
    punctuation in them (U+FF08 and U+FF1A in ``(GST ID:000294060032)``; 230 U+FF08 on the
    stored SROIE readings), and CJK text layers print digits in them. The amount and date rules
    read ASCII: ``RM1,234.00`` with a full-width comma was 234.00, ``12.50`` with a full-width
    stop was 50."""
    return text.translate(_ASCII_FORMS)


def boxes_of(lines: list[dict[str, Any]]) -> list[Cell]:
    """Each recognised line as a cell of its own, top to bottom (nothing merged), its text read
    with full-width forms as ASCII (``ascii_forms``)."""
    cells = []
    for line in lines:
        box = line.get("box") or [[0, 0], [0, 0], [0, 0], [0, 0]]
        xs, ys = [float(p[0]) for p in box], [float(p[1]) for p in box]
        score = float(line.get("score", 1.0))
        top, bottom = min(ys), max(ys)
        text = ascii_forms(line["text"]).strip()
        cells.append(Cell(text, min(xs), top, max(xs), bottom, score, bottom - top))
    cells.sort(key=lambda c: (c.y0, c.x0))
    return cells


def cells_of(lines: list[dict[str, Any]]) -> list[Cell]:
    """Boxes as cells, multi-line cells merged, top to bottom."""
    merged: list[Cell] = []
    for cell in boxes_of(lines):
        above = next((m for m in reversed(merged) if _same_cell(m, cell)), None)
        if above is None:
            merged.append(cell)
            continue
        above.text = f"{above.text} {cell.text}"
        above.x1, above.y1 = max(above.x1, cell.x1), max(above.y1, cell.y1)
        above.line_height = cell.line_height
        above.score = min(above.score, cell.score)
    return merged


def _same_cell(upper: Cell, lower: Cell) -> bool:
    """``lower`` continues ``upper``'s cell: stacked tightly, left-aligned, same size, and not
    a new label or a new amount (a receipt's column of labels or of amounts is many cells)."""
    line_height = max(upper.line_height, lower.line_height, 1.0)
    upper_centre = upper.y1 - upper.line_height / 2  # of the cell's last line
    return (
        0 < lower.centre - upper_centre < CELL_PITCH * line_height
        and abs(lower.x0 - upper.x0) < 0.6 * line_height
        and 0.7 < upper.line_height / max(lower.line_height, 1.0) < 1.4
        and split_label(lower.text) is None
        and parse_amount_text(lower.text) is None
    )


def right_of(cell: Cell, cells: list[Cell]) -> Cell | None:
    """The nearest cell on the same visual row, to the right."""
    row = [
        c
        for c in cells
        if c is not cell
        and abs(c.centre - cell.centre) < max(c.height, cell.height) / 2
        and c.x0 >= cell.x1 - 0.5 * cell.height
        and any(ch.isalnum() for ch in c.text)  # a stray colon cell is not the value
        and not only_currency(c.text)  # nor a lone "RM" column
    ]
    # A cell level with the label before one that only overlaps its row (the next line's
    # "Total Qty:1" is not the value of "TOTAL ¦ RM ¦ 15.15").
    level = max(cell.height, 1.0) * LEVEL
    return min(row, key=lambda c: (abs(c.centre - cell.centre) > level, c.x0), default=None)


def below(cell: Cell, cells: list[Cell]) -> Cell | None:
    """The nearest cell under ``cell`` that starts in its column (within 3 line heights)."""
    column = [
        c
        for c in cells
        if c.y0 > cell.centre
        and c.y0 - cell.y1 < 3 * cell.height
        and abs(c.x0 - cell.x0) < cell.height
    ]
    return min(column, key=lambda c: c.y0, default=None)


def is_label(cell: Cell | None) -> bool:
    return cell is not None and split_label(cell.text) is not None


def _stronger_label(cell: Cell, match: LabelMatch) -> bool:
    """A label at least as good as ``match`` ("정비업체" next to "현대정비공업사" is not)."""
    split = split_label(cell.text)
    return split is not None and split[0].score >= match.score


def _header_row(cell: Cell, cells: list[Cell]) -> bool:
    """Another label on this label's row: a header row whose values sit below it."""
    return any(
        c is not cell and abs(c.centre - cell.centre) < cell.height / 2 and is_label(c)
        for c in cells
    )


def is_caption(text: str) -> bool:
    """A form's box title or bracketed instruction (``NUMBERED_CAPTION``), not a value."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        return True
    letters = [c for c in text if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    return bool(NUMBERED_CAPTION.match(text)) and upper >= CAPTION_UPPER * len(letters)


def sideways(cell: Cell) -> bool:
    """Text printed up the margin ("PATIENT AND INSURED INFORMATION" on a claim form 1500): a
    box far taller than wide around several characters. It labels a part of the form, not the
    box next to it (the blank HCFA-1500 of the typed/ develop pile gave "SEX" as a name)."""
    tall, wide = cell.y1 - cell.y0, cell.x1 - cell.x0
    return len(cell.text) >= SIDEWAYS_CHARS and tall > SIDEWAYS_ASPECT * wide


def value_of(label: Cell, match: LabelMatch, rest: str, cells: list[Cell]) -> Found | None:
    """The typed value for ``match``: after the label, else the right cell, else below. A form
    box's numbered caption ("6. PATIENT RELATIONSHIP TO INSURED") holds its value below it: its
    own words and the next box's caption to its right are not values."""
    kind = field_type(match.field)
    boxed = is_caption(label.text)
    inline = parse_value(kind, rest) if rest and not boxed and not is_caption(rest) else None
    if inline is not None and ":" in label.text:
        return Found(inline, match.score * label.score, "line")
    options = []
    places = (("right", None if boxed else right_of(label, cells)), ("below", below(label, cells)))
    for source, cell in places:
        if (
            cell is None
            or is_item_header(cell.text)
            or is_caption(cell.text)
            or _stronger_label(cell, match)
        ):
            continue
        value = parse_value(kind, cell.text)
        if value is not None:
            factor = BELOW_PENALTY if source == "below" else 1.0
            confidence = match.score * min(label.score, cell.score) * factor
            options.append(Found(value, confidence, source))
    if len(options) == 2 and _header_row(label, cells):
        return options[1]
    if options and (inline is None or options[0].source == "right"):
        return options[0]  # "Name of Insured | SARAH PARK": the cell, not "of Insured"
    return Found(inline, match.score * label.score, "line") if inline is not None else None


def _rank(label: Cell, match: LabelMatch, hit: Found) -> tuple[bool, float, float]:
    """Which of two hits of one field wins: a preferred label ("TOTAL INCL. GST") over a plain
    one ("Total:"); then, for fields with ``prefer`` words (the paid total), the larger amount
    (a receipt's GST summary prints a "Total:" of the amount before tax); then confidence."""
    is_preferred = preferred(label.text, match.field)
    ranked_by_value = has_hints(match.field) and isinstance(hit.value, (int, float))
    return is_preferred, float(hit.value) if ranked_by_value else 0.0, hit.confidence


def find_fields(cells: list[Cell], not_labels: list[Cell], cents: bool = False) -> dict[str, Found]:
    """Every field a label on the page gives a valid value for; the most confident wins.

    ``not_labels`` are cells of line-item rows: "Parts" there is a kind, not a total's label.
    ``cents``: the page prints cents, so a whole amount is one whose decimal mark OCR lost.
    """
    found: dict[str, Found] = {}
    rank: dict[str, tuple[bool, float, float]] = {}
    skip = {id(c) for c in not_labels}
    for cell in cells:
        split = None if id(cell) in skip or sideways(cell) else split_label(cell.text)
        if split is None:
            continue
        match, rest = split
        if avoided(cell.text, match.field):  # "Total item:1 CASH Change": not the total
            continue
        hit = value_of(cell, match, rest, cells)
        if hit is None or (
            cents and isinstance(hit.value, int) and field_type(match.field) == "amount"
        ):
            continue  # on a page that prints cents, "19000" is "190.00" with its mark lost
        key = _rank(cell, match, hit)
        if match.field not in rank or key > rank[match.field]:
            found[match.field], rank[match.field] = hit, key
    return found
