"""Receipt totals on European paper (``parsing/money_rows.py``, ``parsing/totals.py``), develop
piles only: what the served endpoint read on the five German till receipts (typed/ develop: dm,
two Rossmann, two petrol stations; ``tests/serving/data/german_receipt_develop_lines.json``),
and the text layer of the Dutch and French invoices (typed/ develop PDFs, read here by
``documents/pdf.py`` as the endpoint's PDF intake reads them). Money is printed with a decimal
comma ("39,35 EUR"), cash is "BAR", the change "Rückgeld", the tax "MwSt", "BTW" or "TVA", the
amount before tax "Netto" or "Total HT", and a tax table prints net, tax and gross. Never a
held-out document (the held-out Apotheke receipt and invoices are not read here).
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from modelplane_inference.documents.parsing.document import cents_page, parse_document
from modelplane_inference.documents.parsing.layout import boxes_of
from modelplane_inference.documents.parsing.money_rows import role_of, split_cell, summary_line
from modelplane_inference.documents.pdf import read_pdf
from serving.real_documents import DOCUMENTS
from serving.test_real_totals import row_starting

GERMAN_LINES = Path(__file__).with_name("data") / "german_receipt_develop_lines.json"


@cache
def german_lines() -> dict[str, Any]:
    """OCR lines the endpoint read on the German develop receipts, by name."""
    data: dict[str, Any] = json.loads(GERMAN_LINES.read_text("utf-8"))
    return {name: lines for name, lines in data.items() if not name.startswith("_")}


def read_on(name: str, text: str) -> str:
    """``text``, checked to be a line the endpoint read on receipt ``name``."""
    assert text in {line["text"] for line in german_lines()[name]}, f"{text!r} not read on {name}"
    return text


@pytest.mark.parametrize(
    ("name", "read", "role"),
    [
        ("till-dm-2020", "Summe", ("total", False)),
        ("till-tanke-westfalen-2018", "Gesamtbetrag", ("total", False)),
        ("till-dm-2020", "BAR EUR", ("tender", False)),  # a whole label, its currency aside
        ("till-dm-2020", "Ruckgel d EUR", ("change", False)),  # Rückgeld, a space misread
        ("till-tanke-spreves-2018", "MWST19,00%A", ("tax", False)),
        ("till-tanke-spreves-2018", "NETTO", ("subtotal", False)),  # the amount before tax
    ],
)
def test_german_money_words(name: str, read: str, role: tuple[str, bool]) -> None:
    assert role_of(split_cell(read_on(name, read))[0]) == role


def test_a_decimal_comma_is_cents() -> None:
    """ "39,35 EUR" is an amount of 39.35, not a label starting with a count (``LEADING``)."""
    read = read_on("till-tanke-spreves-2018", "39,35 EUR")
    assert split_cell(read) == ("", "39,35 EUR")


def test_a_tax_table_row_gives_its_gross() -> None:
    """Net + tax = gross, in either order: "A:19,00% | 28.57 | 5,43 | 34,00" gives 34.00,
    dm's "1=19,00% | 0,85 | 0,71 | 0,14" (gross first) 0.85."""
    (line,) = summary_line(
        row_starting(german_lines()["till-tanke-westfalen-2018"], "A:19,00%"), cents=True
    )
    assert line.value == Decimal("34.00")
    (line,) = summary_line(row_starting(german_lines()["till-dm-2020"], "1=19,00%"), cents=True)
    assert line.value == Decimal("0.85")


@pytest.mark.parametrize(
    ("name", "total", "rule"),
    [
        ("till-dm-2020", 3.55, "'Summe 3,55' = 'BAR EUR -5,55' - 'Ruckgel d EUR 2,00'"),
        ("till-rossmann-2020-05", 17.33, "'Total 17,33' = 'Bar 20,00' - 'Ruckgeld (9ar) e2,67'"),
        ("till-tanke-spreves-2018", 39.35, "'TOTAL 39,35 EUR' = the card's = 33,07 + 6,28"),
        ("till-tanke-westfalen-2018", 34.0, "'Gesamtbetrag' = the tax table's 28.57 + 5,43"),
        # 'Tatal' (Total) read with no amount beside it: the cash less change says 1.95, and
        # since session 30 so does the one item '...BRILLENPUTZTUC | 1.95' (was null)
        ("till-rossmann-2020-02", 1.95, "'Bar 2.00' - 'Ruckgeld 0,05' = the item's 1.95"),
    ],
)
def test_german_receipt_totals(name: str, total: float | None, rule: str) -> None:
    """The parser on what the endpoint read: the checked total, or null with ``needs_review``;
    the label's total where one is answered."""
    lines = german_lines()[name]
    assert cents_page(boxes_of(lines)), name
    answer = parse_document(lines)
    assert answer["fields"]["total_amount"] == total, rule
    if total is None:
        assert answer["needs_review"], rule
    label = json.loads((DOCUMENTS / "typed" / "develop" / f"{name}.json").read_text("utf-8"))
    assert total is None or Decimal(str(total)) == Decimal(label["fields"]["total_amount"])


@cache
def invoice_lines(name: str) -> list[dict[str, Any]]:
    """The text-layer lines of page 1 of a develop invoice PDF."""
    data = (DOCUMENTS / "typed" / "develop" / f"{name}.pdf").read_bytes()
    (page, *_) = read_pdf(data, max_pages=2, max_pixels=40_000_000, dpi=150)
    assert page.source == "text-layer", name
    return page.lines


@pytest.mark.parametrize(
    ("name", "read", "role"),
    [
        ("invoice-coolblue-2014-04", "BTW 21%", ("tax", False)),  # Dutch VAT
        ("invoice-netpresse-2022", "TVA 20% :", ("tax", False)),  # French VAT
        ("invoice-netpresse-2022", "Total HT :", ("subtotal", False)),  # before tax, no total
        ("invoice-netpresse-2022", "Total TTC :", ("total", True)),  # all taxes included
    ],
)
def test_invoice_money_words(name: str, read: str, role: tuple[str, bool]) -> None:
    assert read in {line["text"] for line in invoice_lines(name)}, f"{read!r} not on {name}"
    assert role_of(split_cell(read)[0]) == role


@pytest.mark.parametrize(
    ("name", "total", "rule"),
    [
        ("invoice-coolblue-2014-04", 717.97, "'Totaal' twice = 'Exclusief BTW 593,36' + 124,61"),
        ("invoice-netpresse-2022", 56.02, "'Total TTC' = 'Total HT 46,68' + 'TVA 20% 9,34'"),
        ("invoice-aws-2014", 4.11, "'TOTAL AMOUNT DUE ON ...' = 'Total for this invoice'"),
    ],
)
def test_invoice_totals(name: str, total: float, rule: str) -> None:
    """The parser on the invoice's text layer: the total its own money lines check."""
    answer = parse_document(invoice_lines(name))
    assert answer["fields"]["total_amount"] == total, rule
    label = json.loads((DOCUMENTS / "typed" / "develop" / f"{name}.json").read_text("utf-8"))
    assert Decimal(str(total)) == Decimal(label["fields"]["total_amount"])
