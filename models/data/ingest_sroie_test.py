"""Make ``tests/serving/data/sroie_test_split_lines.json.gz``: the SROIE test split's labels
and what the shipped ``documents`` endpoint read on it (a develop pile; see its ``_about``).

Run once by a maintainer, never at build time: ``python models/data/ingest_sroie_test.py
--althayr DIR --ids DIR --train DIR [--out FILE] [--limit N]`` (git directories of the snapshots
at ``ALTHAYR``, ``IDS``, ``ingest_sroie.COMMIT``; ``--limit``: serve the first N, a check).
althayr's copy renamed the receipts NNN; an id is the one whose box transcript in ``--ids`` is
the receipt's, line for line. Left out: images byte-identical to train ones (zzzDavid, where our
piles come from), receipts whose company+date+total equal a train receipt's (from its keys, not
our piles: no held-out file is opened), unreadable labels, images the snapshot lacks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ingest_korean_pages import DATA
from ingest_sroie import COMMIT, iso_date, receipt_label, total_text

ROOT = DATA.parents[1]
OUT = ROOT / "tests" / "serving" / "data" / "sroie_test_split_lines.json.gz"
ALTHAYR = "5c0bf03da29523a7c027c0d53b87c3640f280243"
IDS = "af73a4ff16763179f3c4c81de2ab0c9a3d64a799"
ANNOTATIONS = "invoice_data/raw/sroie/test/annotations/"
MISSING = "image not in the snapshot"
Left = dict[str, list[str]]
ABOUT = (
    "What the served documents endpoint read (modelplane serve manifests/examples documents.yaml"
    " as shipped, tree {tree}, {when} UTC, gRPC) on {n} receipts of the ICDAR-2019 SROIE *test"
    " split* (develop: read and tuned on). Source: althayr/ICDAR-2019-SROIE-dataset@{alt}"
    " testing_data/{{images,labels}}/NNN, ids from asmae-ba/Intelligent-Invoice-extraction-system"
    "@{ids}. Licence CC BY 4.0 (Huang et al., ICDAR 2019 Robust Reading Challenge on Scanned"
    " Receipts OCR and Information Extraction, https://rrc.cvc.uab.es/?ch=13, DOI"
    " 10.1109/ICDAR.2019.00244). Left out: {left}. Images not committed (the models/data budget);"
    " labels by ingest_sroie.iso_date/total_text. Made by models/data/ingest_sroie_test.py;"
    " provenance: models/data/documents/sroie/PROVENANCE.md."
)


def show(git: Path, commit: str, path: str) -> bytes | None:
    """One file of a snapshot; ``None`` when its blob is absent (those of >= 4 MiB)."""
    done = subprocess.run(["git", "-C", str(git), "show", f"{commit}:{path}"], capture_output=True)
    return done.stdout if done.returncode == 0 else None


def blobs(git: Path, commit: str, folder: str) -> dict[str, str]:
    """File name -> git blob id of a snapshot's folder (equal ids: byte-identical files)."""
    listing = subprocess.run(
        ["git", "-C", str(git), "ls-tree", commit, folder], capture_output=True, check=True
    ).stdout.decode()
    return {Path(row.split("\t")[1]).name: row.split()[2] for row in listing.splitlines()}


def transcript(text: str) -> tuple[str, ...]:
    """A box file's non-blank lines, without line-end spaces or carriage returns."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def ids_by_transcript(ids: Path) -> dict[tuple[str, ...], str]:
    """Box transcript -> receipt id of the ``--ids`` copy (its ``OCR BOXES`` section)."""
    found: dict[tuple[str, ...], str] = {}
    for name in blobs(ids, IDS, ANNOTATIONS):
        text = (show(ids, IDS, ANNOTATIONS + name) or b"").decode("utf-8")
        boxes = text.split("OCR BOXES", 1)[1].split("\n", 2)[2]  # past the ==== rule
        if found.setdefault(transcript(boxes), Path(name).stem) != Path(name).stem:
            raise ValueError(f"{name}: a transcript two ids share")
    return found


def fields_key(given: dict[str, str]) -> tuple[Any, ...]:
    """Company, date and total as our labels hold them: equal keys are the same paper."""
    date, total = given.get("date", ""), given.get("total", "")
    return given.get("company"), iso_date(date), total_text(total)


def train_keys(train: Path) -> set[tuple[Any, ...]]:
    """``fields_key`` of every train receipt, from the train snapshot's own keys."""
    keys = blobs(train, COMMIT, "data/key/")
    return {fields_key(json.loads(show(train, COMMIT, f"data/key/{k}") or b"{}")) for k in keys}


SAME = "images byte-identical to train images our piles come from"
TWIN = "receipts whose company+date+total equal a train receipt's"
UNREAD = "whose date or total the label makers of models/data/ingest_sroie.py cannot read"


def receipt_id(alt: Path, number: str, by_transcript: dict[tuple[str, ...], str]) -> str:
    """The id of althayr's receipt ``number``, by its box transcript."""
    raw = show(alt, ALTHAYR, f"testing_data/bbox/{number}.csv") or b""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # X51006619503's ISO-8859 file, as --ids holds it
    return by_transcript[transcript(text)]


def kept(args: argparse.Namespace) -> tuple[dict[str, tuple[dict[str, Any], bytes]], Left]:
    """id -> (label, image bytes) of the receipts kept, and why -> ids of those left out."""
    alt, by_transcript = args.althayr, ids_by_transcript(args.ids)
    train_images = set(blobs(args.train, COMMIT, "data/img/").values())
    twins, images = train_keys(args.train), blobs(alt, ALTHAYR, "testing_data/images/")
    out: dict[str, tuple[dict[str, Any], bytes]] = {}
    left: Left = {SAME: [], TWIN: [], UNREAD: [], MISSING: []}
    for name in sorted(blobs(alt, ALTHAYR, "testing_data/labels/")):
        number = Path(name).stem
        key = receipt_id(alt, number, by_transcript)
        given = json.loads((show(alt, ALTHAYR, f"testing_data/labels/{name}") or b"").decode())
        image = show(alt, ALTHAYR, f"testing_data/images/{number}.jpg")
        made = receipt_label(given)
        if image is None:
            left[MISSING].append(key)
        elif images[f"{number}.jpg"] in train_images:
            left[SAME].append(key)
        elif made is None:
            left[UNREAD].append(key)
        elif fields_key(given) in twins:
            left[TWIN].append(key)
        else:
            out[key] = (made, image)
    return dict(sorted(out.items())), left


def serve(receipts: dict[str, tuple[dict[str, Any], bytes]]) -> dict[str, Any]:
    """Each image through the shipped endpoint, as ``bench.documents_quality`` serves one."""
    sys.path.insert(0, str(ROOT))
    from bench.documents_quality import served, serving

    read: dict[str, Any] = {}
    with serving() as server:
        for i, (key, (made, image)) in enumerate(receipts.items(), 1):
            start = time.time()
            read[key] = {"label": made, "lines": served(server, image).get("lines", [])}
            print(f"{i}/{len(receipts)} {key} {time.time() - start:.1f}s", flush=True)
    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--althayr", "--ids", "--train"):
        parser.add_argument(name, type=Path, required=True, help="a snapshot's git directory")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--limit", type=int, default=0, help="serve the first N only")
    args = parser.parse_args()
    receipts, left = kept(args)
    print(f"{len(receipts)} kept; left out: {left}", flush=True)
    head = ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
    tree = subprocess.run(head, capture_output=True, text=True, check=True).stdout.strip()
    start = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    read = serve(dict(list(receipts.items())[: args.limit or None]))
    when = f"{start}-{time.strftime('%H:%M', time.gmtime())}"
    missing = f"{', '.join(left.pop(MISSING))} ({MISSING})"
    reasons = ", ".join([f"{len(ids)} {why}" for why, ids in left.items()] + [missing])
    about = ABOUT.format(tree=tree, when=when, n=len(read), left=reasons, alt=ALTHAYR, ids=IDS)
    text = json.dumps(
        {"_about": about, "receipts": read}, ensure_ascii=False, separators=(",", ":")
    )
    with gzip.open(args.out, "wb", 9) as handle:
        handle.write(text.encode("utf-8"))


if __name__ == "__main__":
    main()
