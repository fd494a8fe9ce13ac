"""Copy phone photos of printed pages into ``models/data/documents/photos/<pile>``.

Run once by a maintainer (``python models/data/ingest_page_photos.py --mirror DIR [--mirror DIR]
--truth DIR``), never at build time. Each ``--mirror`` is a snapshot (a git directory) of one of
``SOURCES``: ``dataforgoodfr/batch9_dyslexia`` or ``mzucker/page_dewarp``; each photo is taken
from the mirror that holds its commit. ``--truth`` holds our hand transcripts (``cod.txt``,
``present.txt``, ``maths.txt``, ``boston_cooking_a.txt``, ...; the repositories have no truth
file for these pages; see photos/PROVENANCE.md).

Each photo is stored as the phone meant it to be shown (its EXIF orientation applied, the tag
then dropped) - the school worksheets were taken with the phone held sideways, so those pages
lie on their side, as such photos arrive - resized to ``LONG_SIDE`` px, JPEG quality
``QUALITY``. The sha256 of every held-out file written is printed for
``models/data/HELDOUT.sha256``.
"""

from __future__ import annotations

import argparse
import io
import subprocess
from pathlib import Path

from ingest_korean_pages import DATA, listed, write_label
from PIL import Image, ImageOps

PHOTOS_DIR = DATA / "documents" / "photos"
SOURCES = {  # repository -> the commit taken
    "dataforgoodfr/batch9_dyslexia": "89b8e105b44d979ad668e777265e34e24015bdc5",
    "mzucker/page_dewarp": "d3257d7b564bff994187a872d00537bc2fda7d3d",
}
LONG_SIDE = 2400
QUALITY = 90
DYSLEXIA, DEWARP = SOURCES
FOLDER = {DYSLEXIA: "Exemples", DEWARP: "example_input"}  # where the photos sit
# (repository, photo path under its FOLDER without ".jpg", transcript, pile, our name)
PHOTOS = (
    (DYSLEXIA, "Ex_COD/IMG_20210329_122300", "cod", "heldout", "cod-122300"),
    (DYSLEXIA, "Ex_COD/IMG_20210329_122306", "cod", "heldout", "cod-122306"),
    (DYSLEXIA, "Present_indicatif/IMG_20210329_122337", "present", "heldout", "present-122337"),
    (DYSLEXIA, "Present_indicatif/IMG_20210329_122401", "present", "heldout", "present-122401"),
    (DYSLEXIA, "Ex_Maths/IMG_20210329_122202", "maths", "heldout", "maths-122202"),
    (DYSLEXIA, "Ex_Maths/IMG_20210329_122221", "maths", "heldout", "maths-122221"),
    (DYSLEXIA, "Ex_Maths/IMG_20210329_122227", "maths", "heldout", "maths-122227"),
    (DYSLEXIA, "Ex_Maths/IMG_20210329_122715", "maths", "heldout", "maths-122715"),
    # One photo of each kind of page per pile, chosen by name before any was read by OCR.
    (DEWARP, "boston_cooking_a", "boston_cooking_a", "develop", "cookbook-248"),
    (DEWARP, "boston_cooking_b", "boston_cooking_b", "heldout", "cookbook-249"),
    (DEWARP, "linguistics_thesis_a", "linguistics_thesis_a", "develop", "thesis-28"),
    (DEWARP, "linguistics_thesis_b", "linguistics_thesis_b", "heldout", "thesis-62"),
)


def snapshot_with(mirrors: list[Path], commit: str) -> Path:
    """The mirror that holds ``commit``."""
    for mirror in mirrors:
        probe = ["git", "--git-dir", str(mirror), "cat-file", "-e", f"{commit}^{{commit}}"]
        if subprocess.run(probe, capture_output=True).returncode == 0:
            return mirror
    raise SystemExit(f"no --mirror holds commit {commit}")


def ingest(mirrors: list[Path], truth: Path) -> list[str]:
    """Write every photo of ``PHOTOS`` with its label; return the held-out sha256 lines."""
    lines: list[str] = []
    for repository, photo, transcript, pile, name in PHOTOS:
        commit, source = SOURCES[repository], f"{FOLDER[repository]}/{photo}.jpg"
        blob = subprocess.run(
            ["git", "--git-dir", str(snapshot_with(mirrors, commit)), "show", f"{commit}:{source}"],
            check=True,
            capture_output=True,
        ).stdout
        out = PHOTOS_DIR / pile
        out.mkdir(parents=True, exist_ok=True)
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(blob))).convert("RGB")
        image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
        image.save(out / f"{name}.jpg", quality=QUALITY)
        text = (truth / f"{transcript}.txt").read_text("utf-8").splitlines()
        label = {
            "source": source if repository == DYSLEXIA else f"{repository}: {source}",
            "document_type": "page",
            "fields": {},
            "transcript": "by hand (see PROVENANCE.md)",
            "lines": [line for line in text if line.strip()],
        }
        write_label(out / f"{name}.json", label)
        if pile == "heldout":
            lines += listed(out, name, (".jpg", ".json"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--mirror", type=Path, action="append", required=True, help="a snapshot's git dir"
    )
    parser.add_argument("--truth", type=Path, required=True, help="folder of transcripts")
    args = parser.parse_args()
    for line in ingest(args.mirror, args.truth):
        print(line)


if __name__ == "__main__":
    main()
