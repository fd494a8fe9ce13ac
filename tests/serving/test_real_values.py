"""Amount and date rules (``parsing/amounts.py``, ``parsing/values.py``) on text printed on real
receipts: every line below is checked to be in the transcript of a develop-pile SROIE receipt
(``models/data/documents/sroie/develop``), so a rule is held by paper nobody here made.

Korean dates are held by real Korean pages in test_real_korean_dates.py. Korean won amounts have
no real document in the data yet (none found that may be redistributed): their rules are held by
the intake forms' wording in test_units.py / test_intake_parse.py.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from modelplane_inference.documents.parsing.amounts import currency_of, parse_amount_text
from modelplane_inference.documents.parsing.document import normalise_amount, parse_document
from modelplane_inference.documents.parsing.values import parse_amount, parse_date
from serving.real_documents import documents, field_scores

READ_LINES = Path(__file__).with_name("data") / "sroie_develop_lines.json"


@cache
def printed(name: str) -> frozenset[str]:
    """The transcript lines of one develop receipt."""
    (doc,) = [d for d in documents("develop", ("sroie",)) if d.name == name]
    return frozenset(doc.label["lines"])


def real(name: str, line: str) -> str:
    assert line in printed(name), f"{line!r} is not printed on {name}"
    return line


@pytest.mark.parametrize(
    ("name", "line", "amount", "currency"),
    [
        # A decimal point is a decimal point: not dropped, not a thousands separator.
        ("sroie-428", "TOTAL AMOUNT: $8.20", 8.2, "$"),
        ("sroie-428", "$5.50", 5.5, "$"),
        ("sroie-070", "RM62.50 Z", 62.5, "MYR"),
        ("sroie-540", "NETT TOTAL: RM8.50", 8.5, "MYR"),
    ],
)
def test_amounts_keep_their_cents(name: str, line: str, amount: float, currency: str) -> None:
    assert normalise_amount(real(name, line)) == amount
    assert currency_of(line) == currency


def test_a_rate_is_not_an_amount() -> None:
    assert normalise_amount(real("sroie-090", "S = 6%")) is None
    assert parse_amount(real("sroie-043", "(@ 6%)")) is None


def test_an_ambiguous_number_is_null_not_a_guess() -> None:
    """``122.124``: 122124 or 122.124? Neither is printed as money: null, never a number."""
    line = real("sroie-003", "NO 122.124 JALAN DEDAP 13")
    assert normalise_amount(line) is None
    assert parse_amount_text("122.124") is not None  # read, but with no value:
    assert parse_amount_text("122.124").value is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "line", "date"),
    [
        ("sroie-070", "05-02-18", "2018-02-05"),  # D-M-YY
        ("sroie-377", "06-04-16 11:53 SH01 ZJ08", "2016-04-06"),
        ("sroie-168", "DATE:11/03/18 21:30", "2018-03-11"),  # D/M/YY
        ("sroie-014", "DATE: 22/12/2017", "2017-12-22"),  # D/M/YYYY
        ("sroie-428", "16 MAY 2018 18:30", "2018-05-16"),  # month name
        ("sroie-241", "25/FEB/2017 07:43:54", "2017-02-25"),
        ("sroie-452", "05-JAN-2017 03:17:50 PM", "2017-01-05"),
        ("sroie-288", "2018-04-06", "2018-04-06"),  # Y-M-D
        ("sroie-148", "GUEST RELATIONS CENTER : 1300-13-1300", None),  # a phone number
        # Session 30: a date inside a code is none; a date and a time joined by a dash are
        ("sroie-524", "SP-NULL-18/06/09-1018481", None),  # an invoice number (was 2009-06-18)
        ("sroie-538", "INVOICE NO: SP-NULL-18/06/20-1022050", None),  # (was 2020-06-18)
        ("sroie-079", "HD03-04-06 - 5/40/160", None),  # an item code (was 2006-04-03)
        ("sroie-281", "07/04/2018 - 18.10:59", "2018-04-07"),
    ],
)
def test_dates_as_printed(name: str, line: str, date: str | None) -> None:
    assert parse_date(real(name, line)) == date


@pytest.mark.parametrize(
    ("read", "date"),
    [
        ("HA06HD01-3-70", None),  # sroie-615's item code, read as 1970-03-01 before session 30
        ("MI11/3-21-12/480", None),  # sroie-172's, read as 2012-03-21
        ("Date.28/12/2017", "2017-12-28"),  # sroie-103: OCR's "." for the colon ends a word
        ("07/04/2018-18.10:59", "2018-04-07"),  # sroie-281: date, dash, time
        ("1.05/02/2018", None),  # after a digit a "." is a decimal point
    ],
)
def test_dates_as_ocr_read_them(read: str, date: str | None) -> None:
    """Lines the served endpoint read on develop receipts (session 30's run)."""
    assert parse_date(read) == date


@cache
def read_lines() -> dict[str, Any]:
    """OCR lines the served endpoint read on develop receipts (tests/serving/data, see _about)."""
    data: dict[str, Any] = json.loads(READ_LINES.read_text("utf-8"))
    return data


def test_full_width_marks_ocr_read_are_ascii() -> None:
    """PP-OCR's Chinese dictionary answers punctuation in full-width forms (230 U+FF08 on the
    stored SROIE readings): sroie-228's receipt number was read ``:8807946`` with a full-width
    colon beside ``SALES NO.``, and was no number until the parser read the colon as ASCII."""
    assert ": 8807946" in printed("sroie-228")
    read = [line["text"] for line in read_lines()["sroie-228"]]
    assert "\uff1a8807946" in read, read
    assert parse_document(read_lines()["sroie-228"])["fields"]["document_number"] == "8807946"


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("sroie-003", "an inclusive total outranks the GST summary's plain 'Total:'"),
        ("sroie-023", "'TOTAL TAX' and 'Total Qty' are not the total; the larger 'TOTAL' wins"),
        ("sroie-043", "'19000' beside 'Total (Inclusive of GST)' lost its mark: 'TOTAL : 190.00'"),
        ("sroie-464", "'TOTAL | RM | 15.15': a lone currency cell and the next line are skipped"),
        ("sroie-148", "'TOTAL INCLUDES 6% GST' is a tax line, 'Total (incl GST)' the total"),
        ("sroie-410", "no title word, a total printed: a receipt; a date glued to its time"),
    ],
)
def test_receipt_rules_on_what_ocr_read(name: str, rule: str) -> None:
    """The parser alone on real OCR output: the total is right, never another number (sroie-187,
    whose SROIE label is not the printed total, is in test_real_totals.py)."""
    (doc,) = [d for d in documents("develop", ("sroie",)) if d.name == name]
    answer = parse_document(read_lines()[name])
    scores = field_scores(doc.label, answer)
    assert not scores["total_wrong"], (rule, answer["fields"])
    assert scores["type"], (rule, answer["document_type"])
    assert scores["date"], (rule, answer["fields"])
    # sroie-410 prints two plain totals and nothing to check them by: null (test_real_totals.py)
    assert scores["total"] or name == "sroie-410", (rule, answer["fields"])
    assert answer["currency"] in ("MYR", None), answer["currency"]
