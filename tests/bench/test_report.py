"""``docs/benchmarks.md`` stays what ``bench/report.py`` and the quality benches say.

The generated block is exactly what ``report.tables`` renders from the committed results, so
``make bench`` rewrites it without losing a line; the hand-written quality sections sit outside
it and carry the figures of their results files (``report.QUALITY``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench import report
from bench.common import RESULTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"


def test_a_rewrite_from_the_committed_results_changes_nothing(tmp_path: Path) -> None:
    """Nothing hand-written inside the block (a rewrite would drop it), nothing stale in it."""
    copy = tmp_path / "benchmarks.md"
    shutil.copy(DOC, copy)
    report.write(RESULTS, copy)
    assert copy.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")


def test_quality_sections_sit_outside_the_generated_block() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text[text.index(report.BEGIN) : text.index(report.END)]
    for heading in report.QUALITY:
        assert report.section(text, heading) is not None, heading
        assert heading not in block, heading


def test_quality_sections_carry_their_results_figures() -> None:
    assert report.quality_drift(RESULTS, DOC.read_text(encoding="utf-8")) == []


def test_drift_is_named_both_ways(tmp_path: Path) -> None:
    """A rerun whose figure the text lacks, a rerun without a figure, and a text edit the
    results lack are each named (against whatever the committed state already reports)."""
    text = DOC.read_text(encoding="utf-8")
    for name, _ in report.QUALITY.values():
        shutil.copy(RESULTS / f"{name}.json", tmp_path / f"{name}.json")
    before = set(report.quality_drift(tmp_path, text))
    rerun = json.loads((RESULTS / "vision_quality.json").read_text())
    rerun["gate"]["class_accuracy"] = 0.5
    del rerun["severity"]["macro_f1"]
    (tmp_path / "vision_quality.json").write_text(json.dumps(rerun))
    assert set(report.quality_drift(tmp_path, text)) - before == {
        "### Real photos: '**0.500**' (vision_quality.json)",
        "### Real photos: 'macro-F1 **{severity.macro_f1:.3f}**, accuracy "
        "{severity.accuracy:.3f}' not in vision_quality.json",
    }
    edited = text.replace("**0.955**", "**0.96**")
    assert set(report.quality_drift(RESULTS, edited)) - set(
        report.quality_drift(RESULTS, text)
    ) == {"### Real text: '**0.955**' (korean_routing.json)"}
