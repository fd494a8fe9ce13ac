"""Phone photos of printed pages through the served ``documents`` endpoint, beside ``RapidOCR()``.

    python -m bench.page_photos [--pile heldout]   # bench/results/page_photos-<pile>.json

The photos of ``models/data/documents/photos`` only (``bench.documents_quality`` scores them
too, with the receipts; this run keeps the receipts' results file untouched and breaks the
photos down by how they arrived): word recall and CER of the served answer (defaults) and of
plain ``RapidOCR()`` on the same bytes, pooled over the pile, per page, and per arrival -
``upright`` and ``sideways`` (stored landscape: the phone held landscape over a portrait page,
no EXIF to say so). A verdict needs ``MIN_N`` photos.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from PIL import Image

from bench.common import ROOT, progress, write_result
from bench.documents_quality import MIN_N, read_both, serving, summarise

sys.path.insert(0, str(ROOT / "tests"))
from serving.capture_eval import plain_rapidocr
from serving.real_documents import documents


def arrival(image: Path) -> str:
    """``sideways`` for a photo stored landscape: every page photographed is portrait
    (models/data/documents/photos/PROVENANCE.md), so its lines run up or down the image."""
    with Image.open(image) as photo:
        width, height = photo.size
    return "sideways" if width > height else "upright"


def run(pile: str) -> dict[str, Any]:
    engine = plain_rapidocr()
    rows: dict[str, dict[str, list[Any]]] = {}
    per_photo: dict[str, Any] = {}
    photos = documents(pile, ("photos",))
    with serving() as server:
        for index, doc in enumerate(photos, 1):
            answer, ours, plain = read_both(server, engine, doc, fields=False)
            for group in ("all", arrival(doc.image)):
                rows.setdefault(group, {"served": [], "rapidocr": []})
                rows[group]["served"].append(ours)
                rows[group]["rapidocr"].append(plain)
            per_photo[doc.name] = {
                "served": ours,
                "rapidocr": plain,
                "orientation": answer.get("orientation"),
            }
            progress(f"{index}/{len(photos)} {doc.name}: served {ours} rapidocr {plain}")
    return {
        "pile": pile,
        "min_n": MIN_N["photos"],
        "summary": {g: {k: summarise(v, "photos") for k, v in r.items()} for g, r in rows.items()},
        "photos": per_photo,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pile", choices=("develop", "heldout"), default="heldout")
    args = parser.parse_args(argv)
    result = run(args.pile)
    progress(f"summary: {result['summary']}")
    progress(f"wrote {write_result(f'page_photos-{args.pile}', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
