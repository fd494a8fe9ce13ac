"""Copy more phone photos of printed pages into ``models/data/documents/photos/heldout``.

Run once by a maintainer (``python models/data/ingest_page_photos.py --mirror DIR --truth DIR``),
never at build time. ``--mirror`` is the snapshot of ``dataforgoodfr/batch9_dyslexia`` at
``COMMIT`` (a git directory); ``--truth`` holds our hand transcripts ``cod.txt``, ``present.txt``
and ``maths.txt`` (the repository has no truth file for these pages; see photos/PROVENANCE.md).

Each photo is stored as the phone meant it to be shown (its EXIF orientation applied, the tag
then dropped) - these were taken with the phone held sideways, so the pages lie on their side,
as such photos arrive - resized to ``LONG_SIDE`` px, JPEG quality ``QUALITY``. The sha256 of
every file written is printed for ``models/data/HELDOUT.sha256``.
"""

from __future__ import annotations

import argparse
import io
import subprocess
from pathlib import Path

from ingest_korean_pages import DATA, listed, write_label
from PIL import Image, ImageOps

OUT = DATA / "documents" / "photos" / "heldout"
COMMIT = "89b8e105b44d979ad668e777265e34e24015bdc5"
LONG_SIDE = 2400
QUALITY = 90
# (folder in Exemples/, photo stem, transcript, our name)
PHOTOS = (
    ("Ex_COD", "IMG_20210329_122300", "cod", "cod-122300"),
    ("Ex_COD", "IMG_20210329_122306", "cod", "cod-122306"),
    ("Present_indicatif", "IMG_20210329_122337", "present", "present-122337"),
    ("Present_indicatif", "IMG_20210329_122401", "present", "present-122401"),
    ("Ex_Maths", "IMG_20210329_122202", "maths", "maths-122202"),
    ("Ex_Maths", "IMG_20210329_122221", "maths", "maths-122221"),
    ("Ex_Maths", "IMG_20210329_122227", "maths", "maths-122227"),
    ("Ex_Maths", "IMG_20210329_122715", "maths", "maths-122715"),
)


def ingest(mirror: Path, truth: Path) -> list[str]:
    """Write every photo of ``PHOTOS`` with its label; return the sha256 lines."""
    OUT.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    for folder, stem, transcript, name in PHOTOS:
        source = f"Exemples/{folder}/{stem}.jpg"
        blob = subprocess.run(
            ["git", "--git-dir", str(mirror), "show", f"{COMMIT}:{source}"],
            check=True,
            capture_output=True,
        ).stdout
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(blob))).convert("RGB")
        image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
        image.save(OUT / f"{name}.jpg", quality=QUALITY)
        text = (truth / f"{transcript}.txt").read_text("utf-8").splitlines()
        label = {
            "source": source,
            "document_type": "page",
            "fields": {},
            "transcript": "by hand (see PROVENANCE.md)",
            "lines": [line for line in text if line.strip()],
        }
        write_label(OUT / f"{name}.json", label)
        lines += listed(OUT, name, (".jpg", ".json"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", type=Path, required=True, help="the snapshot's git dir")
    parser.add_argument("--truth", type=Path, required=True, help="folder of transcripts")
    args = parser.parse_args()
    for line in ingest(args.mirror, args.truth):
        print(line)


if __name__ == "__main__":
    main()
