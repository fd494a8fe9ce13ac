"""Phone photos of printed pages through the served ``documents`` endpoint, beside ``RapidOCR()``.

    python -m bench.page_photos [--pile heldout]   # bench/results/page_photos-<pile>.json
    python -m bench.page_photos --pile develop --turn 90 --turn 180   # + each photo turned
    python -m bench.page_photos --results /tmp/try   # an experiment: /tmp/try/page_photos-*.json

The photos of ``models/data/documents/photos`` only (``bench.documents_quality`` scores them
too, with the receipts; this run keeps the receipts' results file untouched and breaks the
photos down by how they arrived): word recall and CER of the served answer (defaults) and of
plain ``RapidOCR()`` on the same bytes, pooled over the pile, per page, and per arrival -
``upright`` and ``sideways`` (stored landscape: the phone held landscape over a portrait page,
no EXIF to say so, or a table printed across a portrait page). ``--turn`` also sends each
photo turned clockwise by those degrees (PNG, no EXIF), as the develop pile's few sideways
photos would otherwise leave the orientation step untried there. A verdict needs ``MIN_N``
photos.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from PIL import Image

from bench.common import ROOT, add_results_option, progress, results_folder, write_result
from bench.documents_quality import MIN_N, plain_lines, score, served, serving, summarise

sys.path.insert(0, str(ROOT / "tests"))
from serving.capture_eval import plain_rapidocr
from serving.real_documents import documents

# Portrait photos whose print runs up the page (a table printed across it; PROVENANCE.md).
PRINTED_SIDEWAYS = frozenset({"thesis-62"})


def arrival(image: Path) -> str:
    """``sideways`` for a photo stored landscape - every page photographed is portrait
    (models/data/documents/photos/PROVENANCE.md), so its lines run up or down the image - or
    one whose print is turned on the page."""
    with Image.open(image) as photo:
        width, height = photo.size
    return "sideways" if width > height or image.stem in PRINTED_SIDEWAYS else "upright"


def turned(image: Path, degrees: int) -> bytes:
    """The photo's bytes as stored (0), or turned clockwise by ``degrees`` as a PNG."""
    if degrees % 360 == 0:
        return image.read_bytes()
    buffer = io.BytesIO()
    with Image.open(image) as photo:
        photo.convert("RGB").rotate(-degrees, expand=True).save(buffer, format="PNG")
    return buffer.getvalue()


def run(pile: str, turns: tuple[int, ...] = (0,)) -> dict[str, Any]:
    engine = plain_rapidocr()
    rows: dict[str, dict[str, list[Any]]] = {}
    per_photo: dict[str, Any] = {}
    photos = documents(pile, ("photos",))
    with serving() as server:
        for index, doc in enumerate(photos, 1):
            for degrees in turns:
                image = turned(doc.image, degrees)
                answer = served(server, image)
                ours = score(doc, answer.get("lines", []), None)
                plain = score(doc, plain_lines(engine, image), None)
                groups = ("all", arrival(doc.image)) if degrees == 0 else (f"turned {degrees}",)
                for group in groups:
                    rows.setdefault(group, {"served": [], "rapidocr": []})
                    rows[group]["served"].append(ours)
                    rows[group]["rapidocr"].append(plain)
                key = doc.name if degrees == 0 else f"{doc.name}@{degrees}"
                per_photo[key] = {
                    "served": ours,
                    "rapidocr": plain,
                    "orientation": answer.get("orientation"),
                }
                progress(f"{index}/{len(photos)} {key}: served {ours} rapidocr {plain}")
    return {
        "pile": pile,
        "turns": list(turns),
        "min_n": MIN_N["photos"],
        "summary": {g: {k: summarise(v, "photos") for k, v in r.items()} for g, r in rows.items()},
        "photos": per_photo,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pile", choices=("develop", "heldout"), default="heldout")
    parser.add_argument(
        "--turn", type=int, action="append", choices=(90, 180, 270), help="also sent turned"
    )
    add_results_option(parser)
    args = parser.parse_args(argv)
    folder = results_folder(parser, args)
    result = run(args.pile, (0, *(args.turn or ())))
    progress(f"summary: {result['summary']}")
    progress(f"wrote {write_result(f'page_photos-{args.pile}', result, folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
