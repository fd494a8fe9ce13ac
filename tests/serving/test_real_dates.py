"""Date rules (``parsing/values.py``, the page's date in ``parsing/document.py``) on what the
served endpoint read on real receipts: each line is checked to be one the endpoint read, on a
develop receipt (``bench/results/documents_quality-develop.json``, the stored run) or on the
SROIE test split (``test_sroie_test_split.py``, a second develop pile).

Session 31's misses were dates OCR glued to what was printed around them (a receipt number,
a "DATE" label, a time), dates with one separator lost, ``0ct`` for ``Oct``, and one wrong
date: an event's dates in a header chosen over the sale's date and time.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from modelplane_inference.documents.parsing.document import parse_document
from modelplane_inference.documents.parsing.values import parse_date
from serving.servers import ROOT
from serving.test_sroie_test_split import printed, receipts

STORED = ROOT / "bench" / "results" / "documents_quality-develop.json"


@cache
def develop_lines() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(STORED.read_text("utf-8"))["documents"]
    return data


def read(name: str, text: str) -> str:
    """``text`` as the endpoint read it on develop receipt ``name`` (the stored run)."""
    lines = {line["text"] for line in develop_lines()[name]["lines"]}
    assert text in lines, f"{text!r} not read on {name}"
    return text


@pytest.mark.parametrize(
    ("name", "text", "date"),
    [
        # A receipt number glued before the date: the day is as wide as the month is printed.
        ("X51005433556", "100024911/03/201807:09PM", "2018-03-11"),
        ("X51006828200", "101075815/12/201708:00P4", "2017-12-15"),
        ("X51006401845", "CS N0.:0007/011242304/02/201707:14PM", "2017-02-04"),
        # Letters glued before a date with a four-digit year: a label or a cashier's name.
        ("X51006647933", "DATE28/05/2018M0N TIME20:15", "2018-05-28"),
        ("X51006619509", "REG KER YUN02-12-2016 12:33PM000093", "2016-12-02"),
        # One separator lost.
        ("X51005568892", "18/092017", "2017-09-18"),
        ("X51005724623", "Date:0803/2018", "2018-03-08"),
        ("X51006332641", "RECEIPT #:C300627488 DATE: 11/022017", "2017-02-11"),
        # A time glued to the year stays a time.
        ("X51005568866", "20/08/1712:48", "2017-08-20"),
        # Not dates: phone numbers, tax numbers, a card's expiry is a date but no sale.
        ("X51005746204", "03-7845 8155", None),
        ("X51005568892", "TELFAX:03-80609719", None),
        ("X51006401845", "G5T 1D:001869250560", None),
        ("X51006619567", "Tol:03-6273 2163", None),
        ("X51006350737", ": CR 1803/1905", None),  # a code, no 18 March 1905
    ],
)
def test_test_split_dates_as_read(name: str, text: str, date: str | None) -> None:
    assert parse_date(printed(name, text)) == date


@pytest.mark.parametrize(
    ("name", "text", "date"),
    [
        ("sroie-233", "C021027729/2/201712:00PH", "2017-02-09"),  # 9/2/2017 after a number
        ("sroie-402", "Date:2016/05/0114:11:20", "2016-05-01"),  # year first, time glued
        ("sroie-402", "002-2016/05/0114:13:10E1in\uff081)", "2016-05-01"),
        ("sroie-212", "17/01/20188.08.53", "2018-01-17"),  # a time with dots, glued
        ("sroie-432", "09May201818·24", "2018-05-09"),  # the time's colon read as a dot
        ("sroie-414", "0ct 3,2016 12:16:25 PM", "2016-10-03"),  # a zero for the O, no space
        ("sroie-320", "Tel:03-90543785", None),
    ],
)
def test_develop_dates_as_read(name: str, text: str, date: str | None) -> None:
    assert parse_date(read(name, text)) == date


def test_code_guards_still_hold_for_two_digit_years() -> None:
    """The glued reading needs a four-digit year: item codes and invoice numbers stay none."""
    assert parse_date("HA06HD01-3-70") is None  # sroie-615's item code
    assert parse_date("SP-NULL-18/06/09-1018481") is None  # sroie-524's invoice number
    assert parse_date("INV#00178020001") is None  # X51006387973's invoice number
    assert parse_date(printed("X51006387973", "INV#00178020001")) is None


def test_the_sale_date_not_the_event_in_the_header() -> None:
    """A book fair's receipt prints "25 AUG-3 Sept 2017" in its header and the sale's
    "20/08/1712:48" below: the date printed with a time is the receipt's, not the topmost."""
    lines = receipts()["X51005568866"]["lines"]
    assert parse_date(printed("X51005568866", "25 AUG-3 Sept 2017")) == "2017-09-03"
    assert parse_document(lines)["fields"]["date"] == "2017-08-20"


@pytest.mark.parametrize("name", ["X51005433556", "X51006647933", "X51006619509"])
def test_parse_document_answers_the_glued_date(name: str) -> None:
    receipt = receipts()[name]
    assert parse_document(receipt["lines"])["fields"]["date"] == receipt["label"]["fields"]["date"]
