"""Copy a few German till receipts ("Kassenbon", softmatic/vision-data) to the typed develop pile.

Run once by a maintainer (``python models/data/ingest_german_receipts.py --vision-data DIR``),
never at build time. ``--vision-data`` is the snapshot of ``softmatic/vision-data`` at
``ingest_pharmacy_receipts.GERMAN_COMMIT`` (a git directory; CC-BY-4.0 receipt scans, the
source of the held-out German Apotheke receipt).

Why: the one German receipt of the typed piles (the Apotheke, held out) heads only "Kassenbon"
and "Summe", wording the develop pile never showed; the rules that type a German till receipt
are made on these, never on the held-out one. Which receipts, chosen by file name before any of
them was read: the drugstores (``dm``, ``rossmann``) and petrol stations (``tanke``), all to the
**develop** pile (session 28; never held out: the held-out Apotheke must stay a receipt the
develop pile's shops are not). Group ``german_receipt``: the bench reports them apart from the
invoices and from the medical receipts (a drugstore sells soap as well as plasters).

The uncropped scans (folder ``C``: the receipt on an A4 flatbed page) are cropped to the receipt
(``CROPS``, read off the page by eye; nothing of the receipt cut) to keep the data budget; all
are resized to at most ``LONG_SIDE`` px and JPEG-encoded at ``QUALITY``. Labels: date and total
from the file name (``$MERCHANT_$DATE_$NUMITEMS_$AMOUNT``), checked on the scan; the shop's name
and the receipt's number as printed, read by eye.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from ingest_korean_pages import DATA, write_label
from ingest_pharmacy_receipts import GERMAN_COMMIT

OUT = DATA / "documents" / "typed" / "develop"
GROUP = "german_receipt"
LONG_SIDE, QUALITY = 2400, 80
# our name: (source path, crop box (x0, y0, x1, y1) in source pixels or None, fields)
RECEIPTS: dict[str, tuple[str, tuple[int, int, int, int] | None, dict[str, str]]] = {
    "till-dm-2020": (
        "2D/Receipts/C/dm_18052020_03_00355.jpg",
        (1620, 0, 2552, 1780),
        {"date": "2020-05-18", "total_amount": "3.55", "institution": "dm-drogerie markt"},
    ),
    "till-rossmann-2020-02": (
        "2D/Receipts/A/rossmann_27022020_01_00195.jpg",
        None,
        {
            "date": "2020-02-27",
            "total_amount": "1.95",
            "institution": "Dirk Rossmann GmbH",
            "document_number": "3226",
        },
    ),
    "till-rossmann-2020-05": (
        "2D/Receipts/C/rossmann_20052020_03_01733.jpg",
        (1590, 0, 2552, 1970),
        {
            "date": "2020-05-20",
            "total_amount": "17.33",
            "institution": "Dirk Rossmann GmbH",
            "document_number": "16",
        },
    ),
    # Petrol stations: two "Beleg-Nr." each (the till's and the card slip's): no number label.
    "till-tanke-westfalen-2018": (
        "2D/Receipts/C/tanke_07092018_01_03400.jpg",
        (220, 40, 1280, 3420),
        {"date": "2018-09-07", "total_amount": "34.00", "institution": "Westfalen Tankstelle"},
    ),
    "till-tanke-spreves-2018": (
        "2D/Receipts/C/tanke_07092018_01_03935.jpg",
        (240, 100, 1220, 3380),
        {"date": "2018-09-07", "total_amount": "39.35", "institution": "AUTO SPREVES GmbH"},
    ),
}


def image_of(vision_data: Path, source: str, crop: tuple[int, int, int, int] | None) -> bytes:
    """The source scan, cropped to the receipt where a box is given, at most ``LONG_SIDE``."""
    raw = subprocess.run(
        ["git", "--git-dir", str(vision_data), "show", f"{GERMAN_COMMIT}:{source}"],
        check=True,
        capture_output=True,
    ).stdout
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{source} of the snapshot is no readable image")
    if crop:
        x0, y0, x1, y1 = crop
        image = image[y0:y1, x0:x1]
    height, width = image.shape[:2]
    if max(height, width) > LONG_SIDE:
        scale = LONG_SIDE / max(height, width)
        size = (round(width * scale), round(height * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return bytes(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])[1].tobytes())


def label_of(source: str, fields: dict[str, str]) -> dict[str, Any]:
    """The typed/ label of one receipt (no transcript: its type and printed fields)."""
    return {
        "what": "softmatic/vision-data scanned till receipt (Germany, Kassenbon)",
        "source": source,
        "document_type": "receipt",
        "group": GROUP,
        "fields": fields,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vision-data", type=Path, required=True, help="its snapshot (git dir)")
    args = parser.parse_args()
    for name, (source, crop, fields) in RECEIPTS.items():
        (OUT / f"{name}.jpg").write_bytes(image_of(args.vision_data, source, crop))
        write_label(OUT / f"{name}.json", label_of(source, fields))


if __name__ == "__main__":
    main()
