"""Copy the real pharmacy receipts of ICDAR-2019 SROIE into ``models/data/documents/typed``.

Run once by a maintainer (``python models/data/ingest_pharmacy_receipts.py --mirror DIR
--vision-data DIR``), never at build time. ``--mirror`` is the snapshot of
``zzzDavid/ICDAR-2019-SROIE`` at ``ingest_sroie.COMMIT`` (a git directory), the source of the
SROIE piles; ``--vision-data`` the snapshot of ``softmatic/vision-data`` at ``GERMAN_COMMIT``
(CC-BY-4.0 receipt scans), whose one pharmacy receipt (``apotheke_...``, a German Apotheke) is
copied byte for byte to the held-out pile: a new source's single receipt, its layout and
language new to the develop pile, as a user's would be (decided by its file name, before it was
read; the drugstores ``dm`` and ``rossmann`` are left out as Guardian is). Medical receipts for
the document-type measure (issue 21, item 7): no redistributable clinic bill or 진료비 영수증
was found, and a pharmacy receipt is the medical receipt of an insurer's health line.

Which receipts: those whose labelled company names a pharmacy (``PHARMACY``, Malay
``FARMASI``, ``HEALTHCARE``), chosen by that name before any of them was read. Which pile, by
the same rule and before any reading: the two already in the SROIE develop pile (tuned on since
session 25/27) are ``develop``; the five no pile holds are ``heldout``. ``GUARDIAN HEALTH AND
BEAUTY`` (6 receipts) is left out: a health-and-beauty chain, whose receipts may sell soap.

Labels: ``ingest_sroie.label_of`` (the SROIE key: date read day-first, total, company), plus,
read by eye from the source's transcript (``data/box``) and image, the receipt's number as
printed and its line items' amounts (``OWN``). SROIE labels 383's date ``12/13/2016``, which is
month first (there is no month 13): its fields are given here. Images as ``ingest_sroie.image_of``
gives them (source bytes at <= 2400 px; none is upscaled). The held-out sha256 lines are
printed for ``HELDOUT.sha256``.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any

from ingest_korean_pages import DATA, listed, write_label
from ingest_sroie import image_of, label_of

OUT = DATA / "documents" / "typed"
GROUP = "medical_receipt"  # the bench's figure for these, apart from the invoices' `receipt`
# 324 was held-out until session 28, when the SROIE develop draw of seed 28 took it (as
# sroie/develop/sroie-324, tuned on): it is made no more (typed/PROVENANCE.md)
PILES = {"238": "develop", "327": "develop"} | dict.fromkeys(
    ("132", "174", "383", "467"), "heldout"
)
# key: (receipt number as printed, line items' amounts as printed)
OWN = {
    "238": ("CS00168420", ["4.90", "6.60"]),
    "327": ("CS00224314", ["57.00", "5.30", "3.90", "5.10", "6.80"]),
    "132": ("71857936", ["72.35", "7.00"]),
    "174": ("CS00038813", ["20.50"]),
    "383": ("16-073042", ["9.00", "12.00", "19.98", "5.40", "108.00", "25.70"]),
    "467": ("CS00172418", ["25.00"]),
}
BY_HAND = {  # SROIE's date is month first here; label_of reads day first and gives up
    "383": {
        "date": "2016-12-13",
        "total_amount": "180.10",
        "institution": "GREEN LANE PHARMACY SDN BHD",
    },
}


def typed_label(mirror: Path, key: str) -> dict[str, Any]:
    """The typed/ label of one SROIE pharmacy receipt (no transcript: type and fields)."""
    base = label_of(mirror, key) or {"source": f"data/img/{key}.jpg"}
    number, items = OWN[key]
    fields = {**BY_HAND.get(key, base.get("fields", {})), "document_number": number}
    return {
        "what": "ICDAR-2019 SROIE scanned pharmacy receipt (Malaysia)",
        "source": base["source"],
        "document_type": "receipt",
        "group": GROUP,
        "fields": fields,
        "line_item_amounts": items,
    }


GERMAN_COMMIT = "9062febd225986dc567777015f11d3db3a363086"
GERMAN_SOURCE = "2D/Receipts/A/apotheke_23042020_01_01990.jpg"  # merchant_date_items_total
GERMAN_NAME = "pharmacy-apotheke-2020"
GERMAN_LABEL = {  # date and total from the file name; the rest read by eye from the scan
    "what": "softmatic/vision-data scanned pharmacy receipt (Germany, Kassenbon)",
    "source": GERMAN_SOURCE,
    "document_type": "receipt",
    "group": GROUP,
    "fields": {
        "date": "2020-04-23",
        "total_amount": "19.90",
        "institution": "DELPHIN APOTHEKE",
        "document_number": "1505289010",
    },
    "line_item_amounts": ["19.90"],
}


def kept(pile: str, name: str, image: bytes, label: dict[str, Any]) -> list[str]:
    """Write one receipt's image and label; its ``HELDOUT.sha256`` lines if it is held out."""
    folder = OUT / pile
    (folder / f"{name}.jpg").write_bytes(image)
    write_label(folder / f"{name}.json", label)
    return listed(folder, name, (".jpg", ".json")) if pile == "heldout" else []


def german(vision_data: Path) -> list[str]:
    """Copy the German pharmacy receipt to the held-out pile; its sha256 lines."""
    raw = subprocess.run(
        ["git", "--git-dir", str(vision_data), "show", f"{GERMAN_COMMIT}:{GERMAN_SOURCE}"],
        check=True,
        capture_output=True,
    ).stdout
    return kept("heldout", GERMAN_NAME, raw, GERMAN_LABEL)


def ingest(mirror: Path) -> list[str]:
    """Write the seven SROIE receipts; return the held-out sha256 lines."""
    held: list[str] = []
    for key, pile in PILES.items():
        image, label = image_of(mirror, key), typed_label(mirror, key)
        held += kept(pile, f"pharmacy-sroie-{key}", image, label)
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", type=Path, required=True, help="SROIE snapshot (git dir)")
    parser.add_argument("--vision-data", type=Path, required=True, help="its snapshot (git dir)")
    args = parser.parse_args()
    for line in ingest(args.mirror) + german(args.vision_data):
        print(line)


if __name__ == "__main__":
    main()
