"""bench.document_types: pharmacy receipts get a figure of their own.

They are typed ``receipt`` like the invoices (the seed's medical-receipt type); summed with the
invoices, a pharmacy receipt read well would hide an invoice read badly. The labels' ``group``
(``models/data/documents/typed``) keeps them apart; the develop labels are used as they are.
"""

from __future__ import annotations

from serving.real_documents import TYPED, documents, group_of

from bench.document_types import MIN_PER_TYPE, summarise


def test_pharmacy_receipts_are_a_figure_apart_from_invoices() -> None:
    receipts = [d for d in documents("develop", (TYPED,)) if d.label["document_type"] == "receipt"]
    rows = [
        {"want": group_of(d.label), "got": "receipt", "scores": {"type": True}} for d in receipts
    ]
    summary = summarise(rows)
    pharmacies = [d.name for d in receipts if d.name.startswith("pharmacy-")]
    tills = [d.name for d in receipts if d.name.startswith("till-")]  # group german_receipt
    assert summary["medical_receipt"]["n"] == len(pharmacies) == 2
    assert summary["german_receipt"]["n"] == len(tills) == 5
    assert summary["receipt"]["n"] == len(receipts) - 2 - 5
    assert summary["medical_receipt"]["type"] == {"right": 2, "n": 2, "rate": 1.0}
    assert summary["medical_receipt"]["measurable"] is (MIN_PER_TYPE <= 2)
