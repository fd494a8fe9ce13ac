"""Line items: the rows between a page's header and its totals that each end in one amount.

Real receipts print items in many ways (develop SROIE receipts, ``tests/serving/
test_real_line_items.py``): "2ChicMcMuffin | 11.00", "2506 YONGCHUN LOKAM | RM62.50 Z" over
"@5 X RM12.50", an item code row "9556641320027 | 17 | 0.90 | 15.25 | SR" with its description
on the next row. Rules:

- rows are the recognised lines level with each other (``visual_rows`` of unmerged boxes: a
  merged multi-line cell would join two items' descriptions into one);
- an item row has at least two cells, does not start with a field label (``split_label``: a
  header's "Date | 31/03/2017") or a rate (a GST summary's "Z=0% | 0.00"), and its last cell
  is its amount, a tax code after it dropped (``item_tax_codes`` in ``synonyms.yaml``:
  "4.90 S", "57.00S", "RM62.50z", "26.00*", or a cell "SR"); on a page that prints cents
  the amount has two decimals (a whole number there is a quantity or an amount whose decimal
  mark OCR lost), elsewhere it is a whole amount;
- a quantity/unit-price row ("@5X RM12.50", "(S) | @15.90", "2 @ 12.50", "1 x 7.50") whose last
  amount is its unit price is no item: it belongs to the item above it (its description);
- item amounts stand in one column: the right edge most of them share, each within
  ``COLUMN`` line heights of it, a glued tax code's share of the box left out (a "17 | 0.85"
  quantity and price row, split from its item by a skewed scan, stands left of it; so does a
  "Gross Amt 47.80" the table does not list as a money line);
- items stop at the page's money lines: the first row whose label is one of
  ``parsing/money_rows.py``'s money lines (``role_of``: total, subtotal, tax, rounding, discount,
  cash, change) or says total ("TOTAL QTY"), once an item was read or when the row prints
  money (a header's "(GST)" column title or "GST ID: 0016..." is not the end);
- the items are answered only when their amounts add up to an amount printed on those money
  lines or below (a subtotal, the total, the cash of an exact payment, a GST summary's amount;
  not the change):
  items that do not add up were misread or missed, and a wrong list on a claim is worse than
  none, so none is answered and the document is flagged for review (``Items.unsure``);
- a row's description is its words before the amount (two letters or more: not "2x"); a row
  with none (an item code, a quantity, a price) takes the rows of words right below it (up to
  ``BELOW_ROWS``) when a row of words follows the page's last such item (the code row first:
  sroie-327, -014), else the one row of words right above it (the description first:
  "SR I00100000006-Pork" over "$2.70 | 1 | $2.70", sroie-030); an estimate's kind cell
  ("Parts", "공임") gives its kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from modelplane_inference.documents.parsing.amounts import Amount, parse_amount_text, read_amounts
from modelplane_inference.documents.parsing.doctypes import item_kind
from modelplane_inference.documents.parsing.labels import compact, split_label, table
from modelplane_inference.documents.parsing.layout import Cell
from modelplane_inference.documents.parsing.money_rows import role_of, says_total, split_cell

COLUMN = 2.0  # an item amount's right edge within this many line heights of the column's
BELOW_ROWS = 2  # rows of words a description printed under its item code row may take
# A row's last amount is a unit price: "@" or a quantity and "x" right before it.
UNIT_PRICE = re.compile(r"(?:@|\d\s*[xX])\s*(?:RM|\$)?\s*\d[\d,]*[.,]\s?\d{1,2}\s*$")


@cache
def _tax_codes() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a tax code cell, a tax code glued after an amount), from ``item_tax_codes``."""
    codes = "|".join(re.escape(str(c)) for c in sorted(table()["item_tax_codes"], key=len)[::-1])
    return (
        re.compile(rf"^\s*(?:{codes})[.:]?\s*$", re.IGNORECASE),
        re.compile(rf"(?<=[\d\s])(?:{codes})\s*$", re.IGNORECASE),
    )


def without_tax_code(row: list[Cell]) -> tuple[list[Cell], str]:
    """The row without a tax code cell at its end, and its last cell's text without a glued
    tax code ("4.90 S" -> "4.90")."""
    code_cell, glued = _tax_codes()
    cells = row[:-1] if len(row) > 1 and code_cell.match(row[-1].text) else row
    return cells, glued.sub("", cells[-1].text).strip() if cells else ""


def right_edge(cell: Cell, text: str) -> float:
    """Where ``text``, the start of the cell's text, ends on the page: a glued tax code's
    share of the box cut off ("1.60ZRL" ends where "1.60" does), by character count."""
    return cell.x0 + (cell.x1 - cell.x0) * len(text) / max(len(cell.text), 1)


@dataclass
class ItemRow:
    """One item row: its cells before the amount, the amount cell, the amount read."""

    words: list[Cell]
    amount_cell: Cell
    amount: Amount
    right: float  # where the amount ends on the page (``right_edge``)
    extra: list[str] = field(default_factory=list)  # description rows above/below, a qty row

    def own_words(self) -> list[str]:
        """The row's cells with letters, its kind cell left out ("Brake pads", not "Parts")."""
        return [c.text for c in self.words if has_letters(c.text) and item_kind(c.text) is None]

    def description(self) -> str:
        """Its own words, else its code (first cell) and the rows of words around it."""
        own = self.own_words() or [c.text for c in self.words[:1]]
        return " ".join([*own, *self.extra]).strip()

    def json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"description": self.description()}
        kinds = [k for c in self.words[1:] if (k := item_kind(c.text))]
        if kinds:
            item["kind"] = kinds[0]
        item["amount"] = self.amount.json()
        return item


class Items(NamedTuple):
    """The answered items, and whether item rows were read that did not add up (review);
    ``total``: what the answered items add up to (a check of the receipt's total)."""

    items: list[dict[str, Any]]
    unsure: bool
    total: Decimal | None = None


def money_row(row: list[Cell]) -> bool:
    """A row of the page's money lines: a label ``role_of`` knows, or one that says total."""
    for cell in row:
        label = split_cell(cell.text)[0]
        if label and (role_of(label) is not None or says_total(compact(label))):
            return True
    return False


def change_row(row: list[Cell]) -> bool:
    """A row of the change handed back: never what the items add up to (cash less the total;
    sroie-090's misread "5.03" change equalled a misread item)."""
    return any(
        (found := role_of(label)) is not None and found[0] == "change"
        for cell in row
        if (label := split_cell(cell.text)[0])
    )


def money_on(row: list[Cell], cents: bool) -> bool:
    """Money is printed on the row (with cents on a page that prints them), not only a
    number: a header's "GST ID: 001609584640" is no money line, "GST @6%: $0.46" is."""
    return bool(printed_money([row], cents))


def unit_price_row(row: list[Cell]) -> bool:
    """A quantity/unit-price row: its last amount follows "@" or "N x" ("@5X RM12.50")."""
    cells, last = without_tax_code(row)
    text = " ".join([*(c.text for c in cells[:-1]), last])
    return UNIT_PRICE.search(text) is not None


def item_amount(text: str, cents: bool) -> Amount | None:
    """The amount a row ends in: two decimals on a page that prints cents, else whole."""
    amount = parse_amount_text(text)
    if amount is None or amount.value is None:
        return None
    return amount if (amount.decimals == 2) == cents else None


def item_of(row: list[Cell], cents: bool) -> ItemRow | None:
    """The row as an item row, or ``None`` (module doc: cells, label, amount, unit price)."""
    if len(row) < 2 or split_label(row[0].text) or money_row(row) or unit_price_row(row):
        return None
    if "%" in row[0].text:  # a tax summary's rate row ("Z=0% | 0.00 | 0.00"), no item
        return None
    cells, last = without_tax_code(row)
    amount = item_amount(last, cents) if len(cells) >= 2 else None
    if amount is None:
        return None
    return ItemRow(cells[:-1], cells[-1], amount, right_edge(cells[-1], last))


def in_column(items: list[ItemRow]) -> list[ItemRow]:
    """The items whose amount's right edge is in the item column: the right edge most item
    amounts share (within ``COLUMN`` line heights; the rightmost of equals)."""

    def near(item: ItemRow, edge: float) -> bool:
        return abs(edge - item.right) <= COLUMN * item.amount_cell.height

    edges = [i.right for i in items]
    column = max(edges, key=lambda e: (sum(near(i, e) for i in items), e), default=0.0)
    return [i for i in items if near(i, column)]


def printed_money(rows: list[list[Cell]], cents: bool) -> set[Decimal]:
    """Every amount printed on ``rows`` (the money lines and below), as read: after a cell's
    label ("Amount Due:190,800", ``split_cell``: a number after a colon is no time here) or
    anywhere in it ("Total: KRW 62,000")."""
    return {
        a.value
        for row in rows
        for cell in row
        for text in (cell.text, split_cell(cell.text)[1])
        for a in read_amounts(text)
        if a.value is not None and (a.decimals == 2) == cents
    }


def has_letters(text: str) -> bool:
    """A word, not a quantity ("2x") or a misread digit ("A" for "1"): two letters or more."""
    return sum(c.isalpha() for c in text) >= 2


def words_row(row: list[Cell]) -> bool:
    """A row of words (a description printed on its own row): a word, and no money with cents
    (a misread "100 PLUS [1.5L]", "100F:S[15]", reads as a whole number)."""
    return any(has_letters(c.text) for c in row) and not any(
        (a := parse_amount_text(c.text)) is not None and a.decimals for c in row
    )


def run_of_words(rows: list[list[Cell]], indexes: range, most: int) -> list[int]:
    """The rows of words in ``indexes`` up to the first row that is not one, ``most`` of them."""
    out: list[int] = []
    for index in indexes:
        if len(out) == most or not words_row(rows[index]):
            break
        out.append(index)
    return out


def read_items(rows: list[list[Cell]], cents: bool) -> tuple[list[ItemRow], int]:
    """The item rows above the money lines, and where the rows after the items start: the
    first money row, or, on a page whose total has a wording no table lists ("Sum Payable"),
    the row after the last item in the item column."""
    found: list[tuple[int, ItemRow]] = []
    for index, row in enumerate(rows):
        if (found or money_on(row, cents)) and money_row(row):
            return describe(rows[:index], found), index
        if (item := item_of(row, cents)) is not None:
            found.append((index, item))
    kept = [item for _, item in found]
    end = max((i + 1 for i, item in found if any(item is k for k in in_column(kept))), default=0)
    return describe(rows[:end], found), end


def describe(rows: list[list[Cell]], found: list[tuple[int, ItemRow]]) -> list[ItemRow]:
    """The items in the column, each given the rows around it (module doc): a unit-price row
    below it; for an item with no words of its own, the rows of words next to it on the page's
    side: below it when a row of words follows the last such item, else above it."""
    kept = in_column([item for _, item in found])
    places = [(i, item) for i, item in found if any(item is k for k in kept)]
    bare = [i for i, item in places if not item.own_words()]
    below_side = bool(bare) and bare[-1] + 1 < len(rows) and words_row(rows[bare[-1] + 1])
    for n, (index, item) in enumerate(places):
        after = places[n + 1][0] if n + 1 < len(places) else len(rows)
        before = places[n - 1][0] if n else -1
        item.extra += [text_of(rows[r]) for r in range(index + 1, after) if unit_price_row(rows[r])]
        if not item.own_words():
            if below_side:
                plain = run_of_words(rows, range(index + 1, after), BELOW_ROWS)
            else:  # one row: above the first item is the page's header
                plain = run_of_words(rows, range(index - 1, before, -1), 1)
            item.extra += [text_of(rows[r]) for r in sorted(plain)]
    return kept


def text_of(row: list[Cell]) -> str:
    return " ".join(c.text for c in row)


def line_items(rows: list[list[Cell]], cents: bool) -> Items:
    """The page's line items (module doc), answered when they add up to printed money."""
    items, end = read_items(rows, cents)
    if not items:
        return Items([], False)
    total = sum((i.amount.value or Decimal(0) for i in items), Decimal(0))
    if total not in printed_money([r for r in rows[end:] if not change_row(r)], cents):
        return Items([], True)
    return Items([i.json() for i in items], False, total)


def item_cells(rows: list[list[Cell]], cents: bool) -> list[Cell]:
    """The cells of the page's item rows (an item's "Parts" is its kind, not a label)."""
    items, _ = read_items(rows, cents)
    return [cell for item in items for cell in (*item.words, item.amount_cell)]
