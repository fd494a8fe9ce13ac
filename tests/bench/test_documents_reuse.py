"""``bench.documents_quality --reuse``: which stored readings are parsed again, and what a
partial rerun keeps.

A parser change is measured on the very lines the endpoint read before (the results file keeps
them per document). A stored reading of other bytes must never be reused (a receipt replaced
under the same name would be scored on another page's lines), and a rerun of one source
(``--source sroie``) must leave the other source's figures as measured, not drop them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from serving.real_documents import RealDocument, documents, sha256

from bench.documents_quality import kept, reparsed, reusable, summarise


def a_develop_receipt() -> RealDocument:
    return documents("develop", ("sroie",))[0]


def test_a_stored_reading_is_reused_only_for_the_same_bytes() -> None:
    doc = a_develop_receipt()
    lines = [{"text": "TOTAL 1.00", "box": [[0, 0], [1, 0], [1, 1], [0, 1]]}]
    assert reusable(doc, {"lines": lines, "sha256": sha256(doc.image)})
    assert not reusable(doc, {"lines": lines, "sha256": "0" * 64})  # the file changed
    assert reusable(doc, {"lines": lines})  # stored before hashes were kept: by name
    assert not reusable(doc, {"sha256": sha256(doc.image)})  # no lines to parse again
    assert not reusable(doc, None)


def run_of(sources: dict[str, Any], capture: bool) -> dict[str, Any]:
    """A results file's shape: per source a summary, per document an entry."""
    result: dict[str, Any] = {
        "run": {},
        "summary": {s: {"served": {"n": n}} for s, n in sources.items()},
        "documents": {f"{s}-{i}": {"source": s} for s, n in sources.items() for i in range(n)},
    }
    if capture:
        result["capture"] = {"auto": {"cer": 0.05}}
    return result


def test_a_rerun_of_one_source_keeps_the_others_figures() -> None:
    previous = run_of({"sroie": 3, "photos": 2}, capture=True)
    now = run_of({"sroie": 4}, capture=False)
    merged = kept(copy.deepcopy(now), previous)
    assert merged["summary"]["sroie"] == now["summary"]["sroie"]  # measured now: not replaced
    assert merged["summary"]["photos"] == previous["summary"]["photos"]
    assert merged["run"]["kept"] == ["photos"]
    assert {n for n in merged["documents"] if n.startswith("photos")} == {"photos-0", "photos-1"}
    assert {n for n in merged["documents"] if n.startswith("sroie")} == {
        f"sroie-{i}" for i in range(4)
    }
    assert merged["capture"] == previous["capture"]


def test_a_run_without_reuse_keeps_nothing() -> None:
    now = run_of({"sroie": 1}, capture=False)
    assert kept(copy.deepcopy(now), None) == now


def test_line_items_are_scored_where_labelled() -> None:
    """A develop receipt labelled with its items (sroie-009) scores them, reparsed from the
    endpoint's stored reading; one without the label scores none; the rate is over the
    labelled receipts only."""
    stored = Path(__file__).parents[1] / "serving" / "data" / "sroie_develop_item_lines.json"
    lines = json.loads(stored.read_text("utf-8"))["sroie-009"]
    by_name = {d.name: d for d in documents("develop", ("sroie",))}
    scored, _ = reparsed(by_name["sroie-009"], {"lines": lines, "rapidocr": {}})
    assert scored["fields"]["line_items"] is True
    unlabelled, _ = reparsed(by_name["sroie-001"], {"lines": lines, "rapidocr": {}})
    assert "line_items" not in unlabelled["fields"]
    summary = summarise([scored, unlabelled], "sroie")
    assert summary["line_items"] == {"right": 1, "n": 1, "rate": 1.0}
