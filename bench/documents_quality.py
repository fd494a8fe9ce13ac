"""How well the served ``documents`` endpoint reads real paper, beside plain ``RapidOCR()``.

``python -m bench.documents_quality --pile heldout`` starts ``modelplane serve`` on the
examples' ``documents.yaml`` (the ``documents`` pipeline exactly as shipped, without the other
examples' models), sends every real document of the pile
(``models/data/documents``: SROIE receipts, phone photos of pages) through ``documents`` over
gRPC, reads the same bytes with ``RapidOCR()`` in this process, and scores both
(``tests/serving/real_documents.py``): word recall and CER, and for the receipts date, total
(wrong non-null totals on their own), institution and document type, and, on the receipts
whose label has ``line_item_amounts`` (20 develop ones), the line items' amounts. ``--capture`` also
serves the examples with ``capture`` set to each other mode, to compare the capture step on the
same pages. Results: ``bench/results/documents_quality-<pile>.json``. Verdicts on a goal need at
least ``MIN_N`` documents; below it a figure is reported as "not measurable".

``--reuse`` sends only what the pile's last results file has not read (new documents, changed
bytes): the others' stored served lines are parsed again by today's parser, which is how a
parser change is measured on the very lines it was before (the OCR does not depend on it), and
cheaply on 2 cores. The file says per document whether it was served now or reparsed.

``--results DIR`` writes the results file to ``DIR`` (same name) instead of the shared
``bench/results/``, so an experiment leaves the measured figures alone; with ``--reuse`` the
readings come from ``DIR``'s file of the pile when it has one (a rerun of the experiment), else
from the shared one. ``--cards`` is refused with ``--results``: the cards are the published
figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import tritonclient.grpc as grpcclient
from modelplane_inference.documents.parsing.document import parse_document

from bench.common import (
    RESULTS,
    ROOT,
    add_results_option,
    progress,
    read_result,
    results_folder,
    write_result,
)
from bench.serving import running_examples

sys.path.insert(0, str(ROOT / "tests"))
from serving.capture_eval import plain_rapidocr, read_plain
from serving.real_documents import (
    SCORED_FIELDS,
    SOURCES,
    RealDocument,
    cer,
    documents,
    field_scores,
    item_amounts_right,
    rate,
    reading_order,
    sha256,
    word_recall,
)
from serving.servers import Server

MIN_N = {"sroie": 20, "photos": 10}  # documents needed before a goal is called met or not
CAPTURE_MODES = ("auto", "flatten", "none")
DETECTION = "text-detection"


def utc_now() -> str:
    """When a run started or finished, as the results files record it (UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


def served(server: Server, image: bytes) -> dict[str, Any]:
    """One document through ``documents`` over gRPC, as a stock tritonclient sends it."""
    client = grpcclient.InferenceServerClient(server.grpc)
    try:
        tensor = grpcclient.InferInput("image", [1], "BYTES")
        tensor.set_data_from_numpy(np.array([image], dtype=np.object_))
        raw = client.infer("documents", [tensor]).as_numpy("result").reshape(-1)[0]
    finally:
        client.close()
    answer: dict[str, Any] = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    return answer


def plain_lines(engine: Any, image: bytes) -> list[dict[str, Any]]:
    """What plain ``RapidOCR()`` reads on the same bytes the endpoint was sent."""
    bgr = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("not an image OpenCV can decode (RapidOCR reads images, not PDFs)")
    return [{"text": text, "box": box.tolist()} for box, text in read_plain(engine, bgr)]


def score(doc: RealDocument, lines: list[dict[str, Any]], answer: dict[str, Any] | None) -> Any:
    """Text scores of ``lines`` (and field scores of ``answer``, the served side)."""
    truth = doc.label["lines"]
    texts = reading_order(lines)
    out: dict[str, Any] = {"words": word_recall(truth, texts), "cer": cer(truth, texts)}
    if answer is not None:
        out["fields"] = field_scores(doc.label, answer)
        items = item_amounts_right(doc.label, answer)
        if items is not None:  # labelled on a few develop receipts (their label json)
            out["fields"]["line_items"] = items
        out["answer"] = {k: answer.get(k) for k in ("document_type", "fields", "needs_review")}
    return out


def read_both(
    server: Server, engine: Any, doc: RealDocument, fields: bool = True
) -> tuple[dict[str, Any], Any, Any]:
    """One document sent to ``documents`` and read by plain ``RapidOCR()`` from the same bytes:
    (the served answer, its scores, RapidOCR's scores); ``fields``: score the answer's fields."""
    image = doc.image.read_bytes()
    answer = served(server, image)
    ours = score(doc, answer.get("lines", []), answer if fields else None)
    return answer, ours, score(doc, plain_lines(engine, image), None)


def summarise(rows: list[dict[str, Any]], source: str) -> dict[str, Any]:
    """Pooled rates of one engine over one source's documents."""
    n = len(rows)
    words = [r["words"] for r in rows]
    cers = [r["cer"] for r in rows]
    out: dict[str, Any] = {
        "n": n,
        "word_recall": rate(sum(h for h, _ in words), sum(t for _, t in words)),
        "cer": rate(sum(e for e, _ in cers), sum(c for _, c in cers)),
        "measurable": n >= MIN_N[source],
    }
    fields = [r["fields"] for r in rows if "fields" in r]
    for name in (*SCORED_FIELDS, "line_items"):
        scored = [f[name] for f in fields if name in f]
        if scored:
            # line items are labelled on some receipts only: their rate is over those
            over = len(scored) if name == "line_items" else n
            out[name] = {"right": sum(scored), "n": len(scored), "rate": rate(sum(scored), over)}
    return out


def serving(capture: str | None = None) -> Any:
    """``modelplane serve`` on the shipped ``documents.yaml``; ``capture`` set when given."""
    progress(f"documents served with capture {capture or 'as shipped'}")
    parameters = {DETECTION: {"capture": capture}} if capture else None
    return running_examples(("documents.yaml",), ["documents"], parameters)


def reparsed(doc: RealDocument, entry: dict[str, Any]) -> tuple[Any, Any]:
    """(served scores, RapidOCR's scores) of a document from a stored reading: the served lines
    parsed again by today's parser (the answer is ``parse_document`` of the lines the endpoint
    read; the OCR does not depend on the parser), RapidOCR's scores as stored."""
    lines = entry["lines"]
    return score(doc, lines, parse_document(lines)), entry["rapidocr"]


def reusable(doc: RealDocument, entry: dict[str, Any] | None) -> bool:
    """A stored reading of the same bytes (entries stored before hashes were kept: by name)."""
    if not entry or "lines" not in entry:
        return False
    hashed = entry.get("sha256")
    return hashed is None or bool(hashed == sha256(doc.image))


def last_run(pile: str, folder: Path) -> dict[str, Any] | None:
    """The pile's last results for ``--reuse``: ``folder``'s own file (an experiment's, run
    again) when it has one, else the shared one in ``bench/results/``."""
    name = f"documents_quality-{pile}"
    return read_result(name, folder) or read_result(name, RESULTS)


def run(
    pile: str,
    sources: tuple[str, ...],
    limit: int,
    capture: bool,
    reuse: bool,
    folder: Path = RESULTS,
) -> Any:
    """Every document of the pile through the endpoint and RapidOCR(); with ``reuse``, those
    the pile's last run read (``last_run``) are parsed again from its stored lines instead."""
    docs = [d for s in sources for d in documents(pile, (s,))[: limit or None]]
    previous = last_run(pile, folder) if reuse else None
    before = previous.get("documents", {}) if previous else {}  # name -> its stored reading
    engine = plain_rapidocr()
    rows: dict[str, dict[str, list[Any]]] = {s: {"served": [], "rapidocr": []} for s in sources}
    per_document: dict[str, Any] = {}
    started = utc_now()
    fresh = [d for d in docs if not reusable(d, before.get(d.name))]
    with serving() if fresh else contextlib.nullcontext() as server:
        for index, doc in enumerate(docs, 1):
            if doc in fresh:
                assert server is not None  # started: there is a document to send
                answer, ours, plain = read_both(server, engine, doc)
                lines = answer.get("lines", [])
            else:
                lines = before[doc.name]["lines"]
                ours, plain = reparsed(doc, before[doc.name])
            rows[doc.source]["served"].append(ours)
            rows[doc.source]["rapidocr"].append(plain)
            # The lines read, kept so that the same reading can be parsed by another parser
            # version (before -> after, ``--reuse``); only the develop pile's are tuned on.
            per_document[doc.name] = {
                "served": ours,
                "rapidocr": plain,
                "lines": lines,
                "sha256": sha256(doc.image),
                "read": "served now" if doc in fresh else "stored lines reparsed",
            }
            progress(f"{index}/{len(docs)} {doc.name}: served {ours['words']} {ours.get('fields')}")
    result: dict[str, Any] = {
        "pile": pile,
        "run": {
            "started": started,
            "finished": utc_now(),
            "served_now": len(fresh),
            "reparsed": len(docs) - len(fresh),
        },
        "summary": {s: {k: summarise(v, s) for k, v in r.items()} for s, r in rows.items()},
    }
    if capture and "photos" in sources:
        result["capture"] = compare_capture([d for d in docs if d.source == "photos"])
    result["documents"] = per_document
    return kept(result, previous)


def kept(result: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """With ``--reuse``, what this run did not measure stands as the pile's last run had it: a
    source not read (``--source``; its summary and documents) and the capture comparison."""
    if not previous:
        return result
    summary, documents_read = result["summary"], result["documents"]
    for source, figures in previous.get("summary", {}).items():
        if source not in summary:
            summary[source] = figures
            result["run"].setdefault("kept", []).append(source)
            documents_read.update(
                {n: e for n, e in previous["documents"].items() if n not in documents_read}
            )
    if "capture" not in result and "capture" in previous:
        result["capture"] = previous["capture"]  # not rerun: the last run's comparison stands
    return result


def compare_capture(photos: list[RealDocument]) -> dict[str, Any]:
    """The photos' text scores with ``capture`` set to each mode, one server per mode."""
    out = {}
    for mode in CAPTURE_MODES:
        with serving(mode) as server:
            scored = [score(d, served(server, d.image.read_bytes())["lines"], None) for d in photos]
        out[mode] = summarise(scored, "photos")
        progress(f"capture {mode}: {out[mode]}")
    return out


def card_figures(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Model-card figures (``models/cards/<model>.json``) from a held-out result: the OCR pair
    is judged together (words read through the endpoint), the parser on the receipts' fields."""
    summary, provenance = result["summary"], ["documents/sroie", "documents/photos"]
    text: dict[str, Any] = {"provenance": provenance, "n": {}}
    for source, engines in summary.items():
        text["n"][f"real {source}"] = engines["served"]["n"]
        for engine, figures in engines.items():
            for metric in ("word_recall", "cer"):
                text[f"{source}_{metric}_{engine}"] = figures[metric]
    for mode, figures in result.get("capture", {}).items():
        text[f"photos_cer_capture_{mode}"] = figures["cer"]
    text["notes"] = (
        "Real held-out paper through the served documents endpoint (detection + routed "
        "recognition, defaults) beside plain RapidOCR() in the same run: SROIE scanned receipts "
        "and phone photos of printed pages (bench/documents_quality.py, docs/benchmarks.md)."
    )
    fields = summary.get("sroie", {}).get("served", {})
    rates = {k: fields[k]["rate"] for k in ("date", "total", "institution", "type") if k in fields}
    parser = {
        "provenance": provenance[:1],
        "n": {k: fields[k]["n"] for k in rates},
        "per_class": {"right": rates},
        "total_wrong_non_null": fields.get("total_wrong", {}).get("rate"),
        "total_right_audited_labels": fields.get("total_audited", {}).get("rate"),
        "total_wrong_non_null_audited_labels": fields.get("total_wrong_audited", {}).get("rate"),
        "notes": "Fields of real held-out SROIE receipts through the served documents endpoint; "
        "a null counts as a miss, a wrong non-null total is counted on its own. *_audited_labels:"
        " the same answers against SROIE's total labels as corrected by a blind audit against "
        "the paper (models/data/documents/sroie/LABEL-AUDIT.md); SROIE's labels come first.",
    }
    return {"text-detection": text, "text-recognition": text, "document-parse": parser}


def write_cards(result: dict[str, Any]) -> None:
    """``models/cards/*.json`` for the OCR models and the parser (models/README.md, cards)."""
    folder = ROOT / "models" / "cards"
    folder.mkdir(exist_ok=True)
    for model, figures in card_figures(result).items():
        path = folder / f"{model}.json"
        path.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
        progress(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pile", choices=("develop", "heldout"), default="heldout")
    parser.add_argument("--source", action="append", choices=SOURCES)
    parser.add_argument("--limit", type=int, default=0, help="first N documents per source")
    parser.add_argument("--capture", action="store_true", help="compare capture modes (photos)")
    parser.add_argument("--cards", action="store_true", help="write models/cards/*.json")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="documents the pile's last results file read (same bytes) are not sent again: "
        "their stored served lines are parsed by today's parser, RapidOCR's scores kept; a "
        "source not read (--source) and the capture comparison keep the last run's figures",
    )
    add_results_option(parser)
    args = parser.parse_args(argv)
    folder = results_folder(parser, args)
    sources = tuple(args.source or SOURCES)
    result = run(args.pile, sources, args.limit, args.capture, args.reuse, folder)
    path = write_result(f"documents_quality-{args.pile}", result, folder)
    if args.cards and args.pile == "heldout":
        write_cards(result)
    print(json.dumps({k: result[k] for k in result if k != "documents"}, indent=1))
    progress(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
