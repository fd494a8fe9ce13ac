"""A receipt's total, checked against the other money it prints; ``None`` when unsure.

A receipt prints many amounts near its total (subtotal, tax, rounding, cash, change, a GST
summary's own "Total:"), and OCR merges, splits and misreads them. A wrong total on a claim is
worse than none, so the total of a page that prints such money lines is decided by evidence,
and a page where the evidence is weak or disagrees gets no total (the document then needs
review). Rules (tested on lines real receipts print, ``tests/serving/test_real_totals.py``):

- the money lines are read row by row, each with its role (``parsing/money_rows.py``: its
  rules there);
- each printed total value earns evidence: its label (2 for a final total, 1 for a plain one;
  1 for a tax line whose label says total, "Total Includes GST 0%", only when the tender or a
  sum gives its value); the tender 2 (cash - change equals it; or equals it plus the printed
  rounding, when no printed total is the amount paid: a total before rounding; or the cash
  alone equals it when no change is printed); a sum of the page's own lines 2 (subtotal +
  taxes + rounding - discount with at least one part besides the subtotal, the taxes none,
  one or all; a total, or a tax line that says total, printed above + the rounding; a GST
  summary's amount + tax; the supplies' distinct values added up; what the answered line
  items add up to, ``parsing/items.py``, or a GST summary's rows by tax rate (``by_rate``),
  both before rounding, so never for a tax line that says total; a sum
  rounded to 5 sen when no rounding amount is read, ``cash_rounded``). When no
  printed total has ``ENOUGH`` evidence (none read, or none checked: OCR misread it), a value
  that both the tender and a sum give is a candidate (``TENDER + SUM``); so is the printed
  subtotal the tender equals (nothing was added to it), with less (``TENDER + SUBTOTAL``: one
  line read, no sum), so a final total printed beside it with another value leaves the page
  null (sroie-234: the subtotal and the card both misread); and with no total read at all,
  the value that subtotal + taxes and a GST summary's gross both give, whole to 5 sen, is one
  with two sums (``summary_agrees``: the total's label cut short, "TOT'");
- a printed total from which another printed total is reached by adding the page's taxes,
  charges or rounding is a total before them, no rival; of the others, the value with the
  most evidence is the total when it has at least ``ENOUGH`` and no other comes within
  ``MARGIN`` of it; else no total.

A page that prints neither cents nor a cash or change line (a claim form's "청구금액", an
estimate's "합계" under its "Parts Subtotal") keeps the labelled value the layout gave
(``parsing/layout.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from itertools import product

from modelplane_inference.documents.parsing.layout import Cell
from modelplane_inference.documents.parsing.money_rows import MoneyLine, money_lines

ENOUGH = 3  # evidence needed: a final total's label and one check, or a plain label and tender
MARGIN = 2  # the runner-up must have this much less
FINAL, PLAIN, TENDER, SUM = 2, 1, 2, 2  # weights of the kinds of evidence
SUBTOTAL = 1  # a printed subtotal the cash agrees with: one line read, nothing added up
NICKEL = Decimal("0.05")  # cash is paid to 5 sen: a total rounded to it
MOST_ROUNDED = Decimal("0.02")  # the most rounding to ``NICKEL`` changes


@dataclass(frozen=True)
class Verdict:
    """The total chosen (``None`` when unsure) and the evidence per candidate value."""

    value: Decimal | None
    evidence: dict[Decimal, int]


def _parts(lines: list[MoneyLine], role: str) -> list[Decimal]:
    return [line.value for line in lines if line.role == role]


def _roundings(lines: list[MoneyLine]) -> set[Decimal]:
    """What the page's rounding may add: nothing, or a printed rounding (signed)."""
    return {Decimal(0), *_parts(lines, "rounding")}


def _taxes(lines: list[MoneyLine]) -> set[Decimal]:
    """What the page's taxes and charges may add: none, each one, or all of them ("Serv
    Charge 10% 4.96" and "GST 06% 3.27"; a total OCR took for a tax line is one of them), all
    of them counting each value once too (a GST summary prints "GST:6% RM34.87 RM2.09" again
    below the total: SROIE test split X51006828199, develop)."""
    taxes = _parts(lines, "tax")
    return {Decimal(0), *taxes, sum(taxes, Decimal(0)), sum(set(taxes), Decimal(0))}


def _sums(lines: list[MoneyLine]) -> set[Decimal]:
    """Totals the page's own lines add up to: subtotal + tax + rounding - discount with at
    least one part besides the subtotal (a subtotal alone is no check), a total (or a tax
    line that says total: "Total with GST @6% 6.83") printed above plus the rounding (signs
    as printed), a GST summary's amount + tax, and the
    supplies a supplier's invoice totals by tax rate (each value printed counted once: the
    0% line is printed twice)."""
    out = _subtotal_sums(lines) | set(_parts(lines, "summary"))
    for base, rounding in product(_totals_above_rounding(lines), _roundings(lines)):
        if rounding:
            out.add(base + rounding)
    if len(supplies := set(_parts(lines, "part"))) > 1:
        out.add(sum(supplies, Decimal(0)))
    return out


def by_rate(lines: list[MoneyLine]) -> set[Decimal]:
    """A GST summary's rows by tax rate added up (each value once), when it has several: the
    total before any rounding, so (as the line items) it checks only a value a total's label
    prints ("ZR(0%) 186.35 0.00", "SR (6%) 209.53 12.57", "Net Total RM408.45": SROIE test
    split X51005746203), never a tax line that says total ("Total with GST @6% 41.48" over
    "18.00" + "23.48", then "Rounding 0.02" and the card's 41.50: sroie-263)."""
    rates = set(_parts(lines, "summary"))
    return {sum(rates, Decimal(0))} if len(rates) > 1 else set()


def _subtotal_sums(lines: list[MoneyLine]) -> set[Decimal]:
    """Subtotal + taxes + rounding - discount, at least one part besides the subtotal."""
    discounts = {Decimal(0), sum((abs(d) for d in _parts(lines, "discount")), Decimal(0))}
    return {
        base + tax + rounding - discount
        for base, tax, rounding, discount in product(
            _parts(lines, "subtotal"), _taxes(lines), _roundings(lines), discounts
        )
        if tax or rounding or discount
    }


def summary_agrees(lines: list[MoneyLine]) -> set[Decimal]:
    """With no total read at all, the value that subtotal + taxes and a GST summary's gross
    both give, whole to 5 sen (no cash rounding could change it): two sums read from separate
    parts of the page. The total's and the cash's labels cut short by OCR ("TOT'", "CASI.",
    "TOT.!,": SROIE test split X51005268275, X51005301666, develop sroie-016) leave the page
    with "Sub Total 263.02", "GST/TAX 6% 15.78" and the summary's "SR @ 6% 263.02 15.78"."""
    if any(line.role == "total" or line.maybe_total for line in lines):
        return set()
    gross = set(_parts(lines, "summary"))
    return {v for v in _subtotal_sums(lines) & gross if v > 0 and v % NICKEL == 0}


def _totals_above_rounding(lines: list[MoneyLine]) -> list[Decimal]:
    """Printed totals above the page's last rounding line: the totals the rounding is added
    to. A total printed below it ("TOTAL ROUNDED 30.90" under "ROUNDING ADJUSTMENT 0.01") is
    already rounded; adding the rounding again made 30.91, the total before rounding, look
    checked (sroie-004)."""
    rounding_rows = [i for i, line in enumerate(lines) if line.role == "rounding"]
    last = max(rounding_rows, default=len(lines))
    return [line.value for line in lines[:last] if line.role == "total" or line.maybe_total]


def _tendered(lines: list[MoneyLine]) -> set[Decimal]:
    """What the customer paid: each cash amount less each change (signs as OCR lost them), or
    the cash alone when no change is printed."""
    cash = [abs(v) for v in _parts(lines, "tender")]
    change = [abs(v) for v in _parts(lines, "change")]
    if not change:
        return set(cash)
    return {c - g for c, g in product(cash, change) if c >= g}


def cash_rounded(lines: list[MoneyLine], sums: set[Decimal]) -> set[Decimal]:
    """Printed totals a sum reaches by the cash rounding to 5 sen whose amount the page does not
    print or OCR lost: "Sub Total 89.26", "Total GST 5.36", "Rounding : -0.0:2", "Total : 94.60"
    (94.62 rounded; SROIE test split X51005705729, develop). Exactly one multiple of
    ``NICKEL`` lies within ``MOST_ROUNDED`` of a sum, so this checks as tightly as the sum
    itself. Not where a rounding amount is read: the sums add it already, and a total it did
    not reach is not checked by being near ("Total 30.91", "ROUNDING ADJUSTMENT 0.01" signed
    as lost, "TOTAL ROUNDED 30.90", sroie-004)."""
    if _parts(lines, "rounding"):
        return set()
    return {
        value
        for value in {line.value for line in lines if line.role == "total"}
        if value > 0
        and value % NICKEL == 0
        and any(0 < abs(value - s) <= MOST_ROUNDED < s for s in sums)
    }


def evidence_of(lines: list[MoneyLine], items: Decimal | None = None) -> dict[Decimal, int]:
    """Evidence for every printed total value (weights in the module doc). The tender backs a
    total before rounding only when no printed total is the amount paid. With no printed
    total checked, the amount paid is the total when a sum, or the printed subtotal itself
    (nothing added to it: "SUBTOTAL 28.70 / CASH 100.00 / CHANGE 71.30", sroie-164), agrees.
    What the line items add up to (``items``) is one more sum: for a value a total's label
    prints ("Total Facture : 56.00 DH" over 24.00 + 20.00 + 12.00, sroie-225), and in that
    fallback ("4.00S" and "CASH 20.00", "CHANGE 16.00", the total's amount lost, sroie-505);
    not for a tax line that says total: items add up before rounding, and "Total with GST
    41.48" before the card's 41.50 looked checked (sroie-263)."""
    evidence: dict[Decimal, int] = defaultdict(int)
    paid, sums = _tendered(lines), _sums(lines)
    labelled = {line.value for line in lines if line.role == "total"}
    checks = by_rate(lines) | ({items} if items else set())  # for a labelled total only
    added = sums | cash_rounded(lines, sums) | (checks & labelled)
    for line in lines:
        if line.role == "total":
            evidence[line.value] += FINAL if line.final else PLAIN
        elif line.maybe_total and line.value in paid | sums:
            evidence[line.value] += PLAIN
    rounded = set(evidence) & paid
    roundings = _parts(lines, "rounding")
    for value in list(evidence):
        if value in paid or (not rounded and paid & {value + r for r in roundings}):
            evidence[value] += TENDER
        if value in added:
            evidence[value] += SUM
    if max(evidence.values(), default=0) < ENOUGH:  # no total label read or checked:
        summed = sums | ({items} if items else set())  # the cash and a sum may still agree,
        for value in paid & (summed | set(_parts(lines, "subtotal"))) - set(evidence):
            evidence[value] = TENDER + (SUM if value in summed else SUBTOTAL)
        for value in summary_agrees(lines) - set(evidence):
            evidence[value] = SUM + SUM
    return dict(evidence)


def before_adjustments(lines: list[MoneyLine], values: set[Decimal]) -> set[Decimal]:
    """Printed totals from which another printed total is reached by adding the page's taxes,
    charges and rounding ("Total 23.26", "Rounding -0.01", "Total 23.25"): a total before
    tax or rounding, not a rival of the total paid. Only when printed above the total it
    reaches: a total printed last is the one paid, whatever a rounding line's lost sign makes
    of the one above ("Total 30.91", "ROUNDING ADJUSTMENT 0.01", "TOTAL ROUNDED 30.90"). A value
    no line prints (a tender-and-sum candidate) has no place and is compared by value alone."""
    steps = {t + r for t in _taxes(lines) for r in _roundings(lines)}
    steps |= cash_rounding_steps(lines)
    steps.discard(Decimal(0))
    first: dict[Decimal, int] = {}
    for row, line in enumerate(lines):
        first.setdefault(line.value, row)
    last = {line.value: row for row, line in enumerate(lines)}
    return {
        v
        for v in values
        for step in steps
        if v + step in values and first.get(v, -1) < last.get(v + step, len(lines))
    }


def cash_rounding_steps(lines: list[MoneyLine]) -> set[Decimal]:
    """With no rounding amount read, the cent steps of the cash rounding to 5 sen, so that a
    total printed above a 5-sen total it rounds to is the total before rounding ("Total
    RM36.96", "Balance: RM36.96", "Rounded: RM36.95": SROIE test split X51006828199, the label
    audit's total), as ``cash_rounded`` checks such a total by the sum."""
    if _parts(lines, "rounding"):
        return set()
    cents = range(1, int(MOST_ROUNDED * 100) + 1)
    return {sign * Decimal(c) / 100 for c in cents for sign in (1, -1)}


def weigh(lines: list[MoneyLine], items: Decimal | None = None) -> Verdict:
    """The total if one value's evidence is ``ENOUGH`` and ``MARGIN`` above any other's that
    is not a total before the page's adjustments (``items``: what the line items add up to)."""
    evidence = evidence_of(lines, items)
    rivals = set(evidence) - before_adjustments(lines, set(evidence))
    ranked = sorted((evidence[v] for v in rivals), reverse=True)
    if not ranked or ranked[0] < ENOUGH or (len(ranked) > 1 and ranked[0] - ranked[1] < MARGIN):
        return Verdict(None, evidence)
    return Verdict(max(rivals, key=lambda v: evidence[v]), evidence)


def receipt_total(
    rows: list[list[Cell]], cents: bool, items: Decimal | None = None
) -> Verdict | None:
    """The evidence-checked total of a receipt's rows (``rows``: recognised lines, not merged
    cells); ``None`` when the page is no receipt, so the labelled value stands. A receipt here
    is a page that prints cents or the cash handed over (an estimate's "Parts Subtotal" does
    not make it one)."""
    lines = money_lines(rows, cents)
    if not cents and not any(line.role in ("tender", "change") for line in lines):
        return None
    return weigh(lines, items)


def confidence(verdict: Verdict) -> float:
    """A checked total's confidence: 0.8 with ``ENOUGH`` evidence, 1.0 from 5 points."""
    if verdict.value is None:
        return 0.0
    return min(1.0, 0.5 + 0.1 * verdict.evidence[verdict.value])
