"""The parser on a second develop pile: what the served endpoint read on 332 receipts of the
ICDAR-2019 SROIE *test split* (``data/sroie_test_split_lines.json.gz``, provenance in its
``_about``). Develop, not held out: its first read (the tree of 652442d) was total 302/332
right, 3 wrong; its misses are tuned on. Lines only: the images are not committed (the
``models/data`` budget), and the OCR does not depend on the parser, so these are the very lines
the endpoint read, parsed again by today's parser.

The floors are the figures measured on it (raised only to a measured figure); a parser change
that loses answers on paper no rule was written from fails here.
"""

from __future__ import annotations

import pytest
from modelplane_inference.documents.parsing.document import parse_document
from modelplane_inference.documents.parsing.money_rows import role_of
from serving.real_documents import sroie_test_split as receipts
from serving.real_documents import sroie_test_split_answers

FLOORS = {"total": 309, "total_audited": 311, "date": 321, "institution": 325, "type": 329}
# Against SROIE's labels: X51005806696 (SROIE labelled the subtotal) and X51006828199 (SROIE
# labelled the total before the printed "Rounded: RM36.95"), both corrected by the label audit
MOST_WRONG_TOTALS = 2
MOST_WRONG_AUDITED = 0  # against the labels as audited against the paper (LABEL-AUDIT.md)


def printed(name: str, text: str) -> str:
    """``text`` as the endpoint read it on receipt ``name`` (a test's label is real)."""
    assert text in {line["text"] for line in receipts()[name]["lines"]}, f"{text!r} not on {name}"
    return text


def test_the_pile_is_the_one_described() -> None:
    data = receipts()
    assert len(data) == 332
    assert all(r["label"]["fields"]["total_amount"] for r in data.values())
    assert all(r["lines"] for r in data.values())


def test_amount_to_be_paid_is_the_total_not_the_cash() -> None:
    """The "Amount To Be Paid: 3.00" under "Rounding Adjustment: 0.01" and "Total: 2.99": the
    amount due. Its "paid" made it the cash handed over, so the tender backed 2.99 + 0.01 and
    the total before rounding was answered (a wrong total on the first read)."""
    label = printed("X51007391390", "Amount To Be Paid:")
    assert role_of(label) == ("total", False)
    assert role_of(printed("X51007391390", "Cash Received:")) == ("tender", False)
    answer = parse_document(receipts()["X51007391390"]["lines"])
    assert answer["fields"]["total_amount"] == pytest.approx(3.0)


def test_a_tax_printed_again_in_the_summary_is_added_once() -> None:
    """Subtotal 31.70 + "Srv Chrg 10%" 3.17 + "GST:6%" 2.09 = "Total RM36.96"; the GST summary
    prints the 2.09 again, and adding it twice left the total unchecked (null). Below it,
    "Balance: RM36.96" and "Rounded: RM36.95": the total after the cash rounding, the amount
    paid (the label audit's total; SROIE labels 36.96), answered since session 32."""
    lines = receipts()["X51006828199"]["lines"]
    assert [line["text"] for line in lines].count(printed("X51006828199", "RM2.09")) == 2
    assert role_of(printed("X51006828199", "Rounded:")) == ("rounding", False)
    answer = parse_document(lines)
    assert answer["fields"]["total_amount"] == pytest.approx(36.95)
    assert answer["confidence"]["total_amount"] >= 0.8


def test_a_sum_rounded_to_5_sen_checks_the_total() -> None:
    """ "Sub Total : 89.26" + "Total GST : 5.36" = 94.62, and "Total : 94.60" is it paid in
    cash to 5 sen; the rounding line's amount OCR read as "-0.0:2", no amount: the sum still
    checks the total (it was null)."""
    name = "X51005705729"
    assert printed(name, "Total :") and printed(name, "94.60") and printed(name, "89.26")
    assert printed(name, "Rounding :") and printed(name, "-0.0:2")
    answer = parse_document(receipts()[name]["lines"])
    assert answer["fields"]["total_amount"] == pytest.approx(94.60)


def test_a_summary_agreeing_with_subtotal_plus_tax_is_the_total() -> None:
    """ "TOT'" and "CASI." (TOTAL and CASH cut short) are no labels, so no total is read;
    "Sub Total 263.02" + "GST/TAX 6% 15.78" and the GST summary's "SR @ 6%" row
    ("263. 02", "15. 78") both give 278.80 (it was null). Same layout as develop sroie-016."""
    for name in ("X51005268275", "X51005301666"):
        assert printed(name, "TOT'") and printed(name, "CASI.") and printed(name, "263.02")
        answer = parse_document(receipts()[name]["lines"])
        assert answer["fields"]["total_amount"] == pytest.approx(278.80)


def test_a_summary_by_tax_rate_adds_up_to_the_total() -> None:
    """The GST summary's "ZR(0%) 186.35 0.00" and "SR (6%) 209.53 12.57" add up to "Net Total
    RM408.45", which no other sum checked (it was null: the label alone is not enough)."""
    name = "X51005746203"
    assert printed(name, "Net Total") and printed(name, "RM408.45")
    assert printed(name, "ZR(0%)") and printed(name, "209.53") and printed(name, "12.57")
    answer = parse_document(receipts()[name]["lines"])
    assert answer["fields"]["total_amount"] == pytest.approx(408.45)


@pytest.mark.timeout(600)  # 332 pages parsed: about 50 s idle, more on a loaded 2-core machine
def test_the_whole_split_keeps_its_figures() -> None:
    """Every receipt parsed again: right answers at least the floors, wrong totals at most
    those whose label is not the paid total (counted, not excused: they stay wrong here)."""
    tally, _ = sroie_test_split_answers()
    assert tally["total_wrong"] <= MOST_WRONG_TOTALS, tally
    assert tally["total_wrong_audited"] <= MOST_WRONG_AUDITED, tally
    for name, floor in FLOORS.items():
        assert tally[name] >= floor, (name, tally)
