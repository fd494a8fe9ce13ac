"""A receipt's money lines, read row by row from the recognised lines (``parsing/totals.py``
weighs them into the total).

A receipt prints many amounts near its total (subtotal, tax, rounding, cash, change, a GST
summary's own "Total:"), and OCR merges, splits and misreads them and their labels. This
module says which role each labelled amount plays; it decides nothing about the total. Rules
(tested on lines real receipts print, ``tests/serving/test_real_totals.py``):

- the money lines are read row by row from the recognised lines themselves (a row: boxes
  level with each other), not from merged cells: "TOTAL", "CASH" and "CHANGE" stacked in one
  column are three rows, each with the amount level with it;
- a row's role is the one of ``money_whole_labels`` its whole label is ("Due", "Pay"), else the
  first of ``money_lines`` (``synonyms.yaml``) whose word its label holds: change, rounding,
  discount, tender (cash or card handed over), then a total label (the total's synonyms, not
  ``avoid``\\ed, or a label with "total" and a ``prefer`` word: "TakeOut Total (incl GST)";
  a ``prefer`` word makes it a final total), then subtotal, part (supplies by tax rate), tax.
  A label with "total" in it is a total before it is rounding (``TOTAL AFTER ROUNDING``). A
  label no word matches as printed is tried loosely (``misread_role``): a one-word label one
  edit from a whole label ("Fay" for Pay), or a word of 6+ letters one edit (two from 8
  letters) from a ``money_lines`` word ("Rouriding"), never a total, part or tax;
- the row's amount is the last one after its label on that row (before the next label):
  the amount column is at the right, and a number written by hand between label and amount
  is read too ("CASH | 30.90 | RM 51.00", sroie-004); or, when its row has none, the next
  row's when that row is amounts only; on a page that prints cents a whole number is
  a quantity or a lost decimal mark, not money; a minus sign is kept, before or after the
  number ("20.00-"), and cents read without their zero are cents (".02"). A GST summary's
  row (a rate, or a tax code whose "%" OCR lost: "Z=0"; two amounts) gives its amount + tax.
  A "rounding" of 1.00 or more is the rounded total (99 Speed Mart's "Rounding RM 52.10"
  under "Rounding Adjustment RM .02"), and
  a row that is a currency mark and an amount right under a rounding line is the total after
  rounding ("RH | 60.30"): plain totals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import NamedTuple

from modelplane_inference.documents.parsing.amounts import CURRENCY, money_text, signed_amount
from modelplane_inference.documents.parsing.labels import (
    avoided,
    compact,
    match_label,
    preferred,
    table,
)
from modelplane_inference.documents.parsing.layout import Cell
from modelplane_inference.documents.parsing.values import parse_date

CURRENCY_READ = re.compile(r"R[MHNK]|MYR|\$")  # RM as OCR reads it alone: "RH", "RN", "RK"
TAX_CODE = re.compile(r"[A-Za-z]{1,2}\s*=\s*\d{1,2}[/7]?")  # "Z=0", "z=07", "s=6/": % lost
FUZZY = 6  # a money word this long is still read with an OCR slip (``misread_role``)
SHORT_LABEL = 3  # words in a label ``misread_role`` tries: a money label, not a sentence
# Letters a receipt's OCR reads for each other (``slipped``): P's bowl on F's stem, I and l.
LOOKALIKE = frozenset({frozenset("fp"), frozenset("il"), frozenset("ce"), frozenset("oq")})
ROUNDED = Decimal(1)  # a "rounding" this large is the rounded total (``money_line``)
CODE = re.compile(r"[A-Z]{1,2}")  # a tax code printed beside a summary's amounts ("SR", "Z")
TAX_RATES = (Decimal(6), Decimal(10))  # Malaysian GST and SST, a service charge (%)
CENT = Decimal("0.01")
TOTAL = "total_amount"
# A currency code OCR glued to the word before it ("Grand TotaiRM15.40").
GLUED = re.compile(r"(?<=[^\W\d_])(RM|MYR|\$)(?=\s?[-\dO])")
# A label's words after a whole number that starts the line, not a currency ("4SubTotal").
LEADING = re.compile(r"\s?(?!(?:RM|MYR|EUR)\b)[A-Za-z]{2}")
# Where a line's amount starts: a number (with its currency and sign) that is not a rate.
# Thousands grouped by commas before the cents, so a decimal comma is cents ("39,35 EUR").
MONEY = re.compile(r"(?:RM|MYR|\$|-)*\s*\d+(?:,\d{3})*(?P<cents>[.,]\s?\d{1,2})?(?![\d%])")


@dataclass(frozen=True)
class MoneyLine:
    """One labelled amount of a receipt: its role, its value, and whether its label names the
    final total ("GRAND TOTAL", "NETT TOTAL", "TOTAL (INCLUSIVE OF GST)")."""

    role: str  # total, subtotal, tax, rounding, discount, tender, change, part, summary
    value: Decimal
    final: bool = False
    # A tax line whose label says total ("Total Includes GST 0%", OCR's "Total Sales (.clusive
    # cf GST)"): the total when the tender or the page's sums give its value.
    maybe_total: bool = False


class Pending(NamedTuple):
    """A money label read on a row, waiting for its amount (on its row or the next)."""

    role: str
    final: bool
    maybe_total: bool  # a tax label that says total (``MoneyLine.maybe_total``)


# The order roles are tried in: "CHANGE DUE" is change, "Cash Rounding" rounding, "Cash
# Promotion" a discount, "Total Paid" the cash handed over, before any of them is a total.
ROLES = ("change", "rounding", "discount", "tender", "total", "subtotal", "part", "tax")


@cache
def _role_words() -> tuple[tuple[str, tuple[str, ...]], ...]:
    words = table()["money_lines"]
    return tuple((role, tuple(compact(w) for w in words.get(role, []))) for role in ROLES)


def says_total(key: str) -> bool:
    """A compacted label with "total" in it, as OCR reads it too ("Totai", "Tota1")."""
    return "tota" in key


@cache
def _whole_labels() -> dict[str, str]:
    """Compacted whole label -> role (``money_whole_labels``: "Due", "Pay")."""
    return {compact(w): role for role, ws in table()["money_whole_labels"].items() for w in ws}


def role_of(label: str) -> tuple[str, bool] | None:
    """(role, final) of a money row's label; ``None`` when it labels no money line."""
    key = compact(label)
    if not key:
        return None
    whole = compact(CURRENCY.sub(" ", label))  # "BAR EUR": the whole label "Bar"
    if whole in _whole_labels():
        return _whole_labels()[whole], False
    totalish = says_total(key)
    for role, words in _role_words():
        if role == "total":
            found = match_label(label)
            named = found is not None and found.field == TOTAL
            # "TakeOut Total (incl GST)": a total with a final word and words the table lacks.
            if (named or (totalish and preferred(label, TOTAL))) and not avoided(label, TOTAL):
                return "total", preferred(label, TOTAL)
            continue
        if role == "rounding" and totalish:
            continue  # "TOTAL AFTER ROUNDING", "Total Rounded": the total
        if any(word in key for word in words):
            return role, False
    return misread_role(label, totalish)


def edits(a: str, b: str) -> int:
    """Levenshtein distance: letters inserted, deleted or replaced to make ``a`` into ``b``."""
    previous = list(range(len(b) + 1))
    for i, letter in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (letter != other))
            )
        previous = current
    return previous[-1]


def slack(word: str) -> int:
    """Edits a misread money word may have: none under ``FUZZY`` letters (``cash`` one edit
    from ``case``, ``disc`` from ``desc``), one, two from 8 letters ("Rouriding")."""
    return 0 if len(word) < FUZZY else 1 if len(word) < 8 else 2


@cache
def _fuzzy_words() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per role tried fuzzily, its one-word ``money_lines`` words long enough to be (a total
    label is ``match_label``'s, already fuzzy; parts and taxes are not tried)."""
    words = table()["money_lines"]
    return tuple(
        (role, tuple(w for w in words.get(role, []) if w.isalpha() and slack(w)))
        for role in ROLES
        if role not in ("total", "part", "tax")
    )


def slipped(word: str, whole: str) -> bool:
    """``word`` is ``whole`` with one letter misread: any one edit from 4 letters up
    ("Payrent"); in a 3-letter word only a letter swapped for one OCR draws alike
    (``LOOKALIKE``: "Fay" is Pay), since short real words lie one edit from a whole label:
    "Pax" (persons at the table) from Pay, "Dae" (Date, a letter lost) from Due."""
    if len(whole) > 3:
        return edits(word, whole) <= 1
    if len(word) != len(whole):
        return False
    swapped = [frozenset((a, b)) for a, b in zip(word, whole, strict=True) if a != b]
    return len(swapped) <= 1 and set(swapped) <= LOOKALIKE


def misread_role(label: str, totalish: bool) -> tuple[str, bool] | None:
    """The role of a label OCR misread by a letter or two, when no word matched as printed: a
    one-word label a slip from a ``money_whole_labels`` word (``slipped``: "Fay" for Pay), or
    a word within ``slack`` of a one-word ``money_lines`` word ("Rouriding", "Chanqe"), tried in
    ``ROLES`` order. Only a short label (``SHORT_LABEL`` words) is tried: a money label is a
    word or three, and a sentence holds near-misses ("receive a 30% off ... e-coupon")."""
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", label)]
    if len(words) > SHORT_LABEL:
        return None
    if len(words) == 1 and len(words[0]) >= 3:
        for whole, role in _whole_labels().items():
            if slipped(words[0], whole):
                return role, False
    for role, wanted in _fuzzy_words():
        if role == "rounding" and totalish:
            continue
        if any(edits(w, word) <= slack(word) for w in words for word in wanted):
            return role, False
    return None


def split_cell(text: str) -> tuple[str, str]:
    """(label, amount text) of one OCR line: "Grand TotaiRM15.40" -> ("Grand Totai", "RM15.40");
    a rate ("Total 6% supplies"), a digit inside a word ("Tota1") or a whole number the label
    starts with (a count or a code: "4SubTotal | 179.00", "010100 Pay parking ticket",
    ``LEADING``) is part of the label."""
    text = money_text(GLUED.sub(r" \1", text))
    for found in MONEY.finditer(text):
        glued = found.start() > 0 and text[found.start() - 1].isalpha()
        leading = not text[: found.start()].strip() and LEADING.match(text, found.end())
        if (glued or leading) and not found["cents"]:
            continue
        return text[: found.start()].strip(" :"), text[found.start() :]
    return text.strip(" :"), ""


def money_lines(rows: list[list[Cell]], cents: bool) -> list[MoneyLine]:
    """Every labelled amount of the page's rows, top to bottom; a label whose row has no amount
    takes the amount of the next row when that row is amounts only ("Total Sales(Inclusive of
    GST)" above "54.50"); a GST summary's row gives its amount + tax (``summary``). A row
    labelled only by a currency mark (as OCR reads it, ``CURRENCY_READ``) right under a rounding
    line is the total after rounding, printed without its label ("ROUNDING ADJ -0.01" above
    "RH | 60.30", sroie-001)."""
    out: list[MoneyLine] = []
    waiting: Pending | None = None
    rounded = False  # the row above gave a rounding line
    for row in rows:
        cells = [split_cell(cell.text) for cell in row]
        pending = waiting if all(not label for label, _ in cells) else None
        if rounded and waiting is None and CURRENCY_READ.fullmatch(cells[0][0]):
            pending = Pending("total", False, False)
        counted = len(out)
        read: MoneyLine | None = None  # the pending label's amount so far on this row
        for label, rest in cells:
            if label and (found := role_of(label)) is not None:
                out += [read] if read else []
                read = None
                role, final = found
                pending = Pending(role, final, role == "tax" and says_total(compact(label)))
            if pending is None or parse_date(rest) is not None:  # "CHANGE | 17JAN 2018 | 0.00"
                continue
            if (amount := signed_amount(rest, cents)) is not None:
                read = money_line(pending, amount[0])
        out += [read] if read else []
        waiting = None if read else pending
        out += summary_line(row, cents)
        rounded = len(out) > counted and out[-1].role == "rounding"
    return out


def money_line(pending: Pending, value: Decimal) -> MoneyLine:
    """The money line of a label and its amount. A "rounding" of ``ROUNDED`` or more is no
    rounding but the total after it (99 Speed Mart prints "Rounding Adjustment RM .02" and
    under it "Rounding RM 52.10"): a plain total."""
    if pending.role == "rounding" and abs(value) >= ROUNDED:
        return MoneyLine("total", value)
    return MoneyLine(pending.role, value, pending.final, pending.maybe_total)


def summary_line(row: list[Cell], cents: bool) -> list[MoneyLine]:
    """A tax summary row's gross: the row's first cell names a rate (or is a tax code and its
    rate whose "%" OCR lost: "Z=0", "z=07", ``TAX_CODE``) and no money role, and it prints
    two amounts, the tax the smaller ("SR=6% | 29.81 | 1.79" -> 31.60), or three, net + tax =
    gross in either order (a German MwSt table: "A:19,00% | 28.57 | 5,43 | 34,00", "1=19,00%
    | 0,85 | 0,71 | 0,14"). A row whose rate OCR lost is one still when it prints two amounts
    and at most a tax code, and the second is the first's tax at a rate receipts print
    (``taxed``: "19.62 | 1.18", "SR | 15.09 | 6 | 0.91")."""
    label = split_cell(row[0].text)[0] if row else ""
    first = row[0].text.strip() if row else ""
    amounts = [signed_amount(split_cell(c.text)[1], cents) for c in row]
    values = [a[0] for a in amounts if a is not None]
    rate = "%" in first or TAX_CODE.fullmatch(first) is not None
    rate_lost = cents and unlabelled(row) and len(values) == 2 and taxed(*values)
    if not (rate or rate_lost) or role_of(label) is not None:
        return []
    if len(values) == 2 and 0 <= values[1] < values[0]:
        return [MoneyLine("summary", values[0] + values[1])]
    if len(values) == 3 and min(values) > 0:
        for net, tax, gross in (values, values[1:] + values[:1]):
            if net + tax == gross:
                return [MoneyLine("summary", gross)]
    return []


def unlabelled(row: list[Cell]) -> bool:
    """A row of amounts, at most a tax code beside them ("SR | 15.09 | 6 | 0.91")."""
    labels = (split_cell(cell.text)[0] for cell in row)
    return all(not label or CODE.fullmatch(label) for label in labels)


def taxed(net: Decimal, tax: Decimal) -> bool:
    """``tax`` is ``net``'s tax at one of the rates receipts print (``TAX_RATES``), rounded
    to the cent as a till rounds it."""
    return net > 0 and any(
        tax == (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP) for rate in TAX_RATES
    )
