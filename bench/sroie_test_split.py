"""Today's parser on the SROIE test split, a second develop pile (lines only).

``python -m bench.sroie_test_split`` parses again the lines the served ``documents`` endpoint
read on 332 receipts of the ICDAR-2019 SROIE test split
(``tests/serving/data/sroie_test_split_lines.json.gz``, made by
``models/data/ingest_sroie_test.py``; the images are not committed, the OCR does not depend on
the parser) and scores date, total (wrong non-null totals on their own), institution and
document type as ``bench.documents_quality`` does. Develop, never held out: its misses are read
and tuned on, so its figures say how well the rules fit, not how they generalise (the first
read, before any rule was chosen on it, is the figure for that: docs/benchmarks.md). Results:
``bench/results/documents_quality-test-split.json``, with every receipt's answer and scores.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bench.common import ROOT, add_results_option, progress, results_folder, write_result

sys.path.insert(0, str(ROOT / "tests"))
from serving.real_documents import SCORED_FIELDS, sroie_test_split_answers


def measure() -> dict[str, Any]:
    """The tally and per-receipt answers of today's parser on the split."""
    tally, per_receipt = sroie_test_split_answers()
    n = len(per_receipt)
    summary = {
        field: {"count": tally[field], "of": n, "rate": round(tally[field] / n, 4)}
        for field in SCORED_FIELDS
    }
    return {"pile": "test-split (develop)", "n": n, "summary": summary, "receipts": per_receipt}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_results_option(parser)
    args = parser.parse_args(argv)
    folder = results_folder(parser, args)
    progress("parsing the SROIE test split's served lines again")
    result = measure()
    for field, figure in result["summary"].items():
        progress(f"{field}: {figure['count']}/{figure['of']} ({figure['rate']})")
    progress(f"wrote {write_result('documents_quality-test-split', result, folder)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
