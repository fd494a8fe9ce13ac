"""Real held-out paper through ``modelplane serve manifests/examples`` with its defaults, over gRPC
as a Triton user sends it: a sample of the held-out SROIE receipts and two held-out phone photos
of a printed page, one upright and one sent sideways (``models/data/documents``; never tuned
on, ``test_heldout_guard.py``).

Floors, not goals (the goals and the full held-out figures are in docs/benchmarks.md, from
``bench/documents_quality.py``): they hold what the sample reads today, so a served default
(capture, detection thresholds, routing) or a synonym these receipts use ("TOTAL", "DATE", a
title) that is changed for the worse fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from modelplane_inference.documents.parsing.document import parse_document
from serving.calls import call
from serving.real_documents import cer, documents, field_scores, reading_order, word_recall
from serving.servers import ROOT, Server

SAMPLE = ("sroie-002", "sroie-027", "sroie-038", "sroie-071", "sroie-072")
PHOTOS = ("svt-122614", "svt-122629")  # upright; stored sideways (no EXIF says so)
HELDOUT_RUN = ROOT / "bench" / "results" / "documents_quality-heldout.json"
pytestmark = pytest.mark.timeout(900)  # six real pages on a loaded 2-core machine

# Measured on this sample with the defaults, 2026-12-03 (bench/documents_quality.py, run of
# 07:33-07:47, receipt totals checked against the money printed, parsing/totals.py): dates 3/5,
# totals right 5/5 and wrong 0/5 (05:25, before the check: 2/5 right, 2/5 wrong), types 5/5,
# words 530/559, photo CER 36/657; totals again 5/5 right, 0/5 wrong with the rules of
# 11:19-11:28 on the same stored lines. Floors a little under that: a total wrong is never
# allowed.
MIN_DATES, MIN_TOTALS, MAX_WRONG_TOTALS, MIN_RECEIPTS = 3, 4, 0, 5
MIN_WORD_RECALL = 0.94
# The photos, bench.page_photos --pile heldout of 11:47-11:49 (detection boxThresh 0.25,
# maxSideLen 2400; direction votes in pieces): words 124/132 and 115/132, CER 37/657 and
# 131/657 (08:30 run, before: 121/132, 104/132; CER 36/657, 430/657).
PHOTO_FLOORS = {"svt-122614": (0.92, 0.07), "svt-122629": (0.85, 0.22)}  # words >=, CER <=


@pytest.fixture(scope="module")
def answers(examples_server: Server) -> dict[str, tuple[Any, dict[str, Any]]]:
    """name -> (document, answer of ``documents``): each page sent once."""
    held = {d.name: d for d in documents("heldout")}
    picked = [held[name] for name in (*SAMPLE, *PHOTOS)]
    return {
        d.name: (d, call(examples_server, "grpc", "documents", image=d.image.read_bytes()))
        for d in picked
    }


def test_receipt_fields_hold_their_floor(answers: dict[str, Any]) -> None:
    scores = {name: field_scores(answers[name][0].label, answers[name][1]) for name in SAMPLE}
    assert sum(s["date"] for s in scores.values()) >= MIN_DATES, scores
    assert sum(s["total"] for s in scores.values()) >= MIN_TOTALS, scores
    assert sum(s["total_wrong"] for s in scores.values()) <= MAX_WRONG_TOTALS, scores
    assert sum(s["type"] for s in scores.values()) >= MIN_RECEIPTS, scores


def test_amounts_keep_their_cents_through_the_endpoint(answers: dict[str, Any]) -> None:
    """A right total is the printed decimal number, and the currency printed is reported."""
    for name in SAMPLE:
        doc, answer = answers[name]
        total = answer["fields"].get("total_amount")
        if total is not None and field_scores(doc.label, answer)["total"]:
            assert isinstance(total, float), (name, total)


def test_receipt_words_hold_their_floor(answers: dict[str, Any]) -> None:
    found = total = 0
    for name in SAMPLE:
        doc, answer = answers[name]
        hits, count = word_recall(doc.label["lines"], reading_order(answer["lines"]))
        found, total = found + hits, total + count
    assert found / total >= MIN_WORD_RECALL, (found, total)


@pytest.mark.parametrize("name", PHOTOS)
def test_phone_photo_holds_its_floor(answers: dict[str, Any], name: str) -> None:
    doc, answer = answers[name]
    read = reading_order(answer["lines"])
    (errors, chars), (found, words) = (
        cer(doc.label["lines"], read),
        word_recall(doc.label["lines"], read),
    )
    min_words, max_cer = PHOTO_FLOORS[name]
    assert found / words >= min_words, (found, words)
    assert errors / chars <= max_cer, errors / chars


def test_parser_holds_the_whole_held_out_reading() -> None:
    """The parser alone on what the served endpoint read on all 160 held-out receipts in the
    committed bench run (``bench/results/documents_quality-heldout.json``): a synonym, title
    or rule these receipts use that is changed for the worse fails here without any OCR."""
    run = json.loads(HELDOUT_RUN.read_text("utf-8"))["documents"]
    receipts = documents("heldout", ("sroie",))
    scores = [field_scores(d.label, parse_document(run[d.name]["lines"])) for d in receipts]
    keys = ("date", "total", "total_wrong", "total_audited", "total_wrong_audited")
    counts = {k: sum(s[k] for s in scores) for k in (*keys, "type", "institution")}
    assert len(scores) == 160
    # Measured 2026-12-04 10:37-10:44 on session 32's final tree (one held-out run, 160
    # receipts, all served): date 157, total 150, wrong 3, type 160, institution 149; against
    # the labels as audited (LABEL-AUDIT.md) total 152, wrong 1. Session 31's final tree,
    # 05:57-06:04: date 157, total 150, wrong 3, type 160, institution 149 (session
    # 30's final tree, 01:03-01:09: 154, 149, 3, 160, 147; session 29's final tree,
    # 22:22-22:34: 152, 142, 3, 160, 139; session 28's: the same but wrong 4;
    # session 27's final tree, first 80 only: 75, 70, 1, 80, 41).
    # Floors a little under; wrong totals no more than measured.
    assert counts["date"] >= 155 and counts["total"] >= 148 and counts["type"] == 160, counts
    assert counts["institution"] >= 147, counts
    assert counts["total_wrong"] <= 3, counts
    assert counts["total_audited"] >= 150 and counts["total_wrong_audited"] <= 1, counts
