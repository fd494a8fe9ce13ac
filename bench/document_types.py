"""Document types on real paper through the served ``documents`` endpoint.

``python -m bench.document_types --pile heldout`` starts ``modelplane serve`` on the examples'
``documents.yaml`` (``bench.documents_quality.serving``: the one way the benches serve it), sends
every real typed document of the pile (``models/data/documents/typed``: claim forms and invoices
as PDFs, scanned pharmacy receipts; a labelled type and printed fields, no transcript) over gRPC
(``bench.documents_quality.served``) and scores the first page's answer: the type, the labelled
fields (``tests/serving/real_documents.py``: date and total as values, a wrong non-null total on
its own, name / policy / document number as printed) and, where labelled, the line items'
amounts; on blank forms, how many fields were answered (each a wrong non-null). A type's figure
is "not measurable" below ``MIN_PER_TYPE`` documents of that type. A label's ``group`` names its
figure where the type alone would mix it with others (``medical_receipt``: pharmacy receipts,
typed ``receipt`` like the invoices; ``german_receipt``: German till receipts, develop only).
Results: ``bench/results/document_types-<pile>.json`` (``--results DIR``: in ``DIR``, for an
experiment that must leave the shared figures alone).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from bench.common import ROOT, add_results_option, progress, results_folder, write_result
from bench.documents_quality import served, serving, utc_now

sys.path.insert(0, str(ROOT / "tests"))
from serving.real_documents import TYPED, documents, first_page, group_of, rate, typed_scores

MIN_PER_TYPE = 5  # documents of a type before its figure is called measurable


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per labelled group (the type unless a label names one): n, typed right, what it was
    typed as, and each field right."""
    out: dict[str, Any] = {}
    for kind in sorted({r["want"] for r in rows}):
        mine = [r for r in rows if r["want"] == kind]
        figures: dict[str, Any] = {
            "n": len(mine),
            "typed_as": dict(Counter(r["got"] for r in mine)),
            "measurable": len(mine) >= MIN_PER_TYPE,
        }
        for name in sorted({k for r in mine for k in r["scores"]} - {"blank_fields"}):
            scored = [r["scores"][name] for r in mine if name in r["scores"]]
            figures[name] = {"right": sum(scored), "n": len(scored)}
        blanks = [r["scores"]["blank_fields"] for r in mine if "blank_fields" in r["scores"]]
        if blanks:
            figures["blank_forms"] = {"n": len(blanks), "fields_answered": sum(blanks)}
        figures["type"]["rate"] = rate(figures["type"]["right"], len(mine))
        out[kind] = figures
    return out


def run(pile: str) -> dict[str, Any]:
    """Every typed document of the pile sent once; the first page's answer scored."""
    docs = documents(pile, (TYPED,))
    rows, per_document = [], {}
    started = utc_now()
    with serving() as server:
        for index, doc in enumerate(docs, 1):
            page = first_page(served(server, doc.image.read_bytes()))
            label = doc.label
            row = {
                "want": group_of(label),
                "got": page.get("document_type"),
                "scores": typed_scores(label, page),
            }
            rows.append(row)
            per_document[doc.name] = {**row, "fields": page.get("fields")}
            progress(f"{index}/{len(docs)} {doc.name}: {row['got']} {row['scores']}")
    finished = utc_now()
    return {
        "pile": pile,
        "run": {"started": started, "finished": finished, "n": len(docs)},
        "min_per_type": MIN_PER_TYPE,
        "summary": summarise(rows),
        "documents": per_document,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pile", choices=("develop", "heldout"), default="heldout")
    add_results_option(parser)
    args = parser.parse_args(argv)
    folder = results_folder(parser, args)
    result = run(args.pile)
    path = write_result(f"document_types-{args.pile}", result, folder)
    print(json.dumps({k: result[k] for k in result if k != "documents"}, indent=1))
    progress(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
