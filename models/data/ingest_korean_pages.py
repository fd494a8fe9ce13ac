"""Render real Korean document pages into ``models/data/korean-text`` with their printed lines.

Run once by a maintainer (``python models/data/ingest_korean_pages.py --source DIR``), never at
build time. ``DIR`` holds the PDFs named in ``PAGES`` (extracted from the snapshot of
``opendataloader-project/opendataloader-pdf`` at ``COMMIT``; see korean-text/PROVENANCE.md).

Each page is rendered with PDFium at ``DPI`` (an A4 page: 1240 x 1753 px) and saved as PNG; its
label is the page's own text layer - the characters the issuer typeset, not a reading of ours:
one entry per text-layer line (PDFium's line breaks), its text and the box around its
characters in the rendered pixels. Held-out pages' sha256 go into ``models/data/HELDOUT.sha256``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

DATA = Path(__file__).resolve().parent
OUT = DATA / "korean-text"
COMMIT = "f470c9c1875d39eb31238e5675b3432df404116d"
DPI = 150
# (pile, file name in the snapshot, 1-based page, our name)
PAGES = (
    ("develop", "2125318_의사국 의안과_의안원문_hwp.pdf", 1, "assembly-bill-2125318-p1"),
    ("develop", "2125318_의사국 의안과_의안원문_hwp.pdf", 2, "assembly-bill-2125318-p2"),
    ("develop", "2125318_의사국 의안과_의안원문_hwp.pdf", 3, "assembly-bill-2125318-p3"),
    (
        "heldout",
        "2125318_환경노동위원회_검토보고서.[2125318]탄중법 검토보고서(이수진의원안)_hwp.pdf",
        3,
        "assembly-review-2125318-p3",
    ),
    (
        "heldout",
        "2125318_환경노동위원회_검토보고서.[2125318]탄중법 검토보고서(이수진의원안)_hwp.pdf",
        4,
        "assembly-review-2125318-p4",
    ),
    # Held out at first; moved to develop once its reading (0 words: the page read upside
    # down) had been seen and was to be mended (korean-text/PROVENANCE.md).
    ("develop", "국회회의록_21대_414회_1차_환경노동위원회_hwp.pdf", 1, "assembly-minutes-414-p1"),
    # More develop pages of the two develop documents (added 2026-12-03 before any reading of
    # them, to choose Tesseract's settings on more than 6 images): the bill's body text, its
    # comparison table (신ㆍ구조문대비표), a page of speeches and a table of decrees.
    ("develop", "2125318_의사국 의안과_의안원문_hwp.pdf", 4, "assembly-bill-2125318-p4"),
    ("develop", "2125318_의사국 의안과_의안원문_hwp.pdf", 7, "assembly-bill-2125318-p7"),
    ("develop", "국회회의록_21대_414회_1차_환경노동위원회_hwp.pdf", 6, "assembly-minutes-414-p6"),
    ("develop", "국회회의록_21대_414회_1차_환경노동위원회_hwp.pdf", 18, "assembly-minutes-414-p18"),
)


def text_lines(page: pdfium.PdfPage, scale: float) -> list[dict[str, Any]]:
    """The page's text-layer lines: text as PDFium gives it, box around the inked characters."""
    text_page = page.get_textpage()
    count = text_page.count_chars()
    text = text_page.get_text_range(0, count)
    _, _, _, top = page.get_cropbox()
    lines: list[dict[str, Any]] = []
    chars: list[str] = []
    boxes: list[tuple[float, float, float, float]] = []
    letters: list[tuple[float, float, float, float]] = []  # the line's letters' and digits' boxes

    def close() -> None:
        line = " ".join("".join(chars).split())
        if line and boxes:
            x0 = min(b[0] for b in boxes)
            y0 = min(b[1] for b in boxes)
            x1 = max(b[2] for b in boxes)
            y1 = max(b[3] for b in boxes)
            box = [round(x0 * scale), round((top - y1) * scale)]
            box += [round(x1 * scale), round((top - y0) * scale)]
            lines.append({"text": line, "box": box})
        chars.clear()
        boxes.clear()
        letters.clear()

    for index, char in enumerate(text[:count]):
        if char in "\r\n":
            close()
            continue
        if not char.isspace():
            left, bottom, right, upper = text_page.get_charbox(index)
            if right > left and upper > bottom:
                if char.isalnum():
                    if letters and not on_line(letters, (bottom + upper) / 2):
                        close()  # no break in the text layer, but the next printed line
                    letters.append((left, bottom, right, upper))
                boxes.append((left, bottom, right, upper))
        chars.append(char)
    close()
    text_page.close()
    return lines


def on_line(boxes: list[tuple[float, float, float, float]], middle: float) -> bool:
    """Whether a character centred at height ``middle`` sits on the line of ``boxes`` (within
    their vertical extent: a comma's own box is low and short)."""
    return min(b[1] for b in boxes) <= middle <= max(b[3] for b in boxes)


def ingest(source: Path, names: set[str] | None = None) -> list[str]:
    """Write the pages of ``PAGES`` (those in ``names`` only, when given: pages already
    committed are left as they are); return the held-out sha256 lines."""
    heldout: list[str] = []
    for pile, file_name, number, name in PAGES:
        if names and name not in names:
            continue
        document = pdfium.PdfDocument(str(source / file_name))
        page = document[number - 1]
        scale = DPI / 72
        image = page.render(scale=scale).to_pil().convert("RGB")
        label = {
            "source": f"opendataloader-project/opendataloader-pdf@{COMMIT[:7]}: {file_name}",
            "page": number,
            "lines": text_lines(page, scale),
        }
        folder = OUT / pile
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"{name}.png", optimize=True)
        write_label(folder / f"{name}.json", label)
        document.close()
        if pile == "heldout":
            heldout += listed(folder, name, (".png", ".json"))
    return heldout


def write_label(path: Path, label: dict[str, Any]) -> None:
    path.write_text(json.dumps(label, ensure_ascii=False, indent=1) + "\n", "utf-8")


def listed(folder: Path, name: str, suffixes: tuple[str, ...]) -> list[str]:
    """``HELDOUT.sha256`` lines (sha256, path under models/data) of one item's files."""
    paths = [folder / f"{name}{suffix}" for suffix in suffixes]
    return [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(DATA)}" for p in paths]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, required=True, help="folder with the PDFs")
    parser.add_argument("names", nargs="*", help="only these pages (our names)")
    args = parser.parse_args()
    for line in ingest(args.source, set(args.names)):
        print(line)


if __name__ == "__main__":
    main()
