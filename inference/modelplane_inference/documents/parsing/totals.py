"""A receipt's total, checked against the other money it prints; ``None`` when unsure.

A receipt prints many amounts near its total (subtotal, tax, rounding, cash, change, a GST
summary's own "Total:"), and OCR merges, splits and misreads them. A wrong total on a claim is
worse than none, so the total of a page that prints such money lines is decided by evidence,
and a page where the evidence is weak or disagrees gets no total (the document then needs
review). Rules (tested on lines real receipts print, ``tests/serving/test_real_totals.py``):

- the money lines are read row by row from the recognised lines themselves (a row: boxes
  level with each other), not from merged cells: "TOTAL", "CASH" and "CHANGE" stacked in one
  column are three rows, each with the amount level with it;
- a row's role is the first of ``money_lines`` (``synonyms.yaml``) whose word its label holds:
  change, rounding, discount, tender (cash handed over), then a total label (the total's
  synonyms, not ``avoid``\\ed; a ``prefer`` word makes it a final total), then subtotal and tax.
  A label with "total" in it is a total before it is rounding (``TOTAL AFTER ROUNDING``);
- the row's amount is the first one after its label on that row; on a page that prints cents
  a whole number is a quantity or a lost decimal mark, not money; a minus sign is kept;
- each printed total value earns evidence: its label (2 for a final total, 1 for a plain one);
  the tender 2 (cash - change equals it; or equals it plus the printed rounding, when no
  printed total is the amount paid: a total before rounding; or the cash alone equals it when
  no change is printed); a sum of the page's own lines 2 (subtotal + tax + rounding - discount
  with at least one part besides the subtotal, or a total printed above + the rounding). With
  no total label read, a value that both the tender and a sum give is a candidate;
- the value with the most evidence is the total when it has at least ``ENOUGH`` and no other
  value comes within ``MARGIN`` of it; else no total.

A page that prints neither cents nor a cash or change line (a claim form's "청구금액", an
estimate's "합계" under its "Parts Subtotal") keeps the labelled value the layout gave
(``parsing/layout.py``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import product

from modelplane_inference.documents.parsing.amounts import LETTER_ZERO, signed_amount
from modelplane_inference.documents.parsing.labels import (
    avoided,
    compact,
    match_label,
    preferred,
    table,
)
from modelplane_inference.documents.parsing.layout import Cell
from modelplane_inference.documents.parsing.values import parse_date

ENOUGH = 3  # evidence needed: a final total's label and one check, or a plain label and tender
MARGIN = 2  # the runner-up must have this much less
FINAL, PLAIN, TENDER, SUM = 2, 1, 2, 2  # weights of the kinds of evidence
TOTAL = "total_amount"
# A currency code OCR glued to the word before it ("Grand TotaiRM15.40").
GLUED = re.compile(r"(?<=[^\W\d_])(RM|MYR|\$)(?=\s?[-\dO])")
# Where a line's amount starts: a number (with its currency and sign) that is not a rate.
MONEY = re.compile(r"(?:RM|MYR|\$|-)*\s*\d[\d,]*(?P<cents>[.,]\s?\d{1,2})?(?![\d%])")


@dataclass(frozen=True)
class MoneyLine:
    """One labelled amount of a receipt: its role, its value, and whether its label names the
    final total ("GRAND TOTAL", "NETT TOTAL", "TOTAL (INCLUSIVE OF GST)")."""

    role: str  # total, subtotal, tax, rounding, discount, tender, change
    value: Decimal
    final: bool = False


@dataclass(frozen=True)
class Verdict:
    """The total chosen (``None`` when unsure) and the evidence per candidate value."""

    value: Decimal | None
    evidence: dict[Decimal, int]


# The order roles are tried in: "CHANGE DUE" is change, "Cash Rounding" rounding, "Cash
# Promotion" a discount, "Total Paid" the cash handed over, before any of them is a total.
ROLES = ("change", "rounding", "discount", "tender", "total", "subtotal", "tax")


@cache
def _role_words() -> tuple[tuple[str, tuple[str, ...]], ...]:
    words = table()["money_lines"]
    return tuple((role, tuple(compact(w) for w in words.get(role, []))) for role in ROLES)


def role_of(label: str) -> tuple[str, bool] | None:
    """(role, final) of a money row's label; ``None`` when it labels no money line."""
    key = compact(label)
    if not key:
        return None
    totalish = "total" in key or "tota" in key
    for role, words in _role_words():
        if role == "total":
            found = match_label(label)
            if found is not None and found.field == TOTAL and not avoided(label, TOTAL):
                return "total", preferred(label, TOTAL)
            continue
        if role == "rounding" and totalish:
            continue  # "TOTAL AFTER ROUNDING", "Total Rounded": the total
        if any(word in key for word in words):
            return role, False
    return None


def split_cell(text: str) -> tuple[str, str]:
    """(label, amount text) of one OCR line: "Grand TotaiRM15.40" -> ("Grand Totai", "RM15.40");
    a rate ("Total 6% supplies") or a digit inside a word ("Tota1") is part of the label."""
    text = LETTER_ZERO.sub("0", GLUED.sub(r" \1", text))
    for found in MONEY.finditer(text):
        glued = found.start() > 0 and text[found.start() - 1].isalpha()
        if glued and not found["cents"]:
            continue
        return text[: found.start()].strip(" :"), text[found.start() :]
    return text.strip(" :"), ""


def money_lines(rows: list[list[Cell]], cents: bool) -> list[MoneyLine]:
    """Every labelled amount of the page's rows, top to bottom."""
    out = []
    for row in rows:
        role: tuple[str, bool] | None = None
        for cell in row:
            label, rest = split_cell(cell.text)
            if label and (found := role_of(label)) is not None:
                role = found
            if role is None or parse_date(rest) is not None:  # "CHANGE | 17JAN 2018 | 0.00"
                continue
            if (amount := signed_amount(rest, cents)) is not None:
                out.append(MoneyLine(role[0], amount[0], role[1]))
                role = None
    return out


def _parts(lines: list[MoneyLine], role: str) -> list[Decimal]:
    return [line.value for line in lines if line.role == role]


def _sums(lines: list[MoneyLine]) -> set[Decimal]:
    """Totals the page's own lines add up to: subtotal + tax + rounding - discount with at
    least one part besides the subtotal (a subtotal alone is no check), and a total printed
    above plus the rounding (signs as printed)."""
    taxes = {Decimal(0), sum(_parts(lines, "tax"), Decimal(0))}
    roundings = {Decimal(0), *_parts(lines, "rounding")}
    discounts = {Decimal(0), sum((abs(d) for d in _parts(lines, "discount")), Decimal(0))}
    out = set()
    for base, tax, rounding, discount in product(
        _parts(lines, "subtotal"), taxes, roundings, discounts
    ):
        if tax or rounding or discount:
            out.add(base + tax + rounding - discount)
    for base, rounding in product(_parts(lines, "total"), roundings):
        if rounding:
            out.add(base + rounding)
    return out


def _tendered(lines: list[MoneyLine]) -> set[Decimal]:
    """What the customer paid: each cash amount less each change (signs as OCR lost them), or
    the cash alone when no change is printed."""
    cash = [abs(v) for v in _parts(lines, "tender")]
    change = [abs(v) for v in _parts(lines, "change")]
    if not change:
        return set(cash)
    return {c - g for c, g in product(cash, change) if c >= g}


def evidence_of(lines: list[MoneyLine]) -> dict[Decimal, int]:
    """Evidence for every printed total value (weights in the module doc). The tender backs a
    total before rounding only when no printed total is the amount paid."""
    evidence: dict[Decimal, int] = defaultdict(int)
    for line in lines:
        if line.role == "total":
            evidence[line.value] += FINAL if line.final else PLAIN
    paid, sums = _tendered(lines), _sums(lines)
    rounded = set(evidence) & paid
    roundings = _parts(lines, "rounding")
    for value in list(evidence):
        if value in paid or (not rounded and paid & {value + r for r in roundings}):
            evidence[value] += TENDER
        if value in sums:
            evidence[value] += SUM
    if not evidence:  # no total label read: the cash and the page's sums may still agree
        for value in paid & sums:
            evidence[value] = TENDER + SUM
    return dict(evidence)


def weigh(lines: list[MoneyLine]) -> Verdict:
    """The total if one value's evidence is ``ENOUGH`` and ``MARGIN`` above any other's."""
    evidence = evidence_of(lines)
    ranked = sorted(evidence.values(), reverse=True)
    if not ranked or ranked[0] < ENOUGH or (len(ranked) > 1 and ranked[0] - ranked[1] < MARGIN):
        return Verdict(None, evidence)
    return Verdict(max(evidence, key=lambda v: evidence[v]), evidence)


def receipt_total(rows: list[list[Cell]], cents: bool) -> Verdict | None:
    """The evidence-checked total of a receipt's rows (``rows``: recognised lines, not merged
    cells); ``None`` when the page is no receipt, so the labelled value stands. A receipt here
    is a page that prints cents or the cash handed over (an estimate's "Parts Subtotal" does
    not make it one)."""
    lines = money_lines(rows, cents)
    if not cents and not any(line.role in ("tender", "change") for line in lines):
        return None
    return weigh(lines)


def confidence(verdict: Verdict) -> float:
    """A checked total's confidence: 0.8 with ``ENOUGH`` evidence, 1.0 from 5 points."""
    if verdict.value is None:
        return 0.0
    return min(1.0, 0.5 + 0.1 * verdict.evidence[verdict.value])


def as_json(value: Decimal) -> int | float:
    """The total as the answer's JSON number: a float when printed with cents, else an int."""
    exponent = value.as_tuple().exponent
    return float(value) if isinstance(exponent, int) and exponent < 0 else int(value)
