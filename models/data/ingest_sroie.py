"""Add more ICDAR-2019 SROIE receipts to ``models/data/documents/sroie`` (develop and held-out).

Run once by a maintainer (``python models/data/ingest_sroie.py --mirror DIR 60 40``), never at
build time. ``--mirror`` is the snapshot of ``zzzDavid/ICDAR-2019-SROIE`` at ``COMMIT`` (a git
directory). The receipts not yet in either pile are shuffled with ``random.seed(SEED)``; the
first ``develop`` of them go to ``develop/``, the next ``heldout`` to ``heldout/`` (drawn before
any of them was read, so a pile says nothing about how hard its receipts are). The labels are
made as for the first 80 (sroie/PROVENANCE.md): the date read day-first to ISO, the total
without its currency mark, the company, the transcript's lines in the source's order. Images
are the source bytes where the long side is at most ``LONG_SIDE`` px, else resized to it (JPEG
``QUALITY``). The sha256 lines of the held-out files are printed for ``HELDOUT.sha256``.

Session 27's 100 develop-only receipts: ``--seed 27 --long-side 1600 --quality 85 --reencode
100 0`` (smaller files, for the data budget: every image re-encoded at q85, resized to 1600 px
where longer); a receipt already in a pile under its number is skipped, whatever its bytes.
Session 28's 60 develop + 80 held-out receipts: ``--seed 28 --long-side 1600 --quality 80
--reencode 60 80``. Session 29: first ``--shrink-over 250000 --long-side 1600 --quality 80 0 0``
(the develop images over 250 kB, all from sessions 25-26, made again from the source smaller:
room in the data budget; held-out images and the vision models' receipts are never re-made),
then ``--seed 29 --long-side 1600 --quality 80 --reencode 100 0`` (100 fresh develop receipts).
Session 30: first ``--shrink-over 50000 --long-side 1600 --quality 80 --progressive 0 0`` (every
develop image that may change, made again from the source as Huffman-optimised progressive JPEG
q80: the pixels of baseline q80, about 12% fewer bytes; ``PIXEL_TESTED`` and the vision models'
receipts are never re-made), then ``--seed 30 --long-side 1600 --quality 80 --reencode
--progressive K 0`` (K fresh develop receipts; PROVENANCE.md gives K).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from ingest_korean_pages import DATA, listed, write_label
from modelplane_models.real_photos import receipts

OUT = DATA / "documents" / "sroie"
COMMIT = "27be4271b251c256f695acbade9a801bffe85994"
SEED = 26
LONG_SIDE = 2400
QUALITY = 90
MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
NUMERIC = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})")  # 25/12/2018, 18-11-18
NAMED = re.compile(r"(\d{1,2})[-/. ]?([A-Z]{3})[A-Z]*[-/. ,]*(\d{2,4})")  # 16 MAY 2018
AMERICAN = re.compile(r"([A-Z]{3})[A-Z]* (\d{1,2}), (\d{4})")  # OCT 3, 2016
ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
RUN = re.compile(r"(\d{2})(\d{2})(\d{4})")  # 25032018
# Develop receipts whose pixels tests read (boxes found on these bytes, crops read again, served
# answers asserted): ``--shrink-over`` never re-makes them, or the tests would test other bytes.
# test_money_reading.py, test_money_reading_stage.py (crops and boxes), test_korean_routing.py
# (sroie-257's word box; the D.I.Y. receipts served), test_money_reading.py (sroie-260 served).
PIXEL_TESTED = frozenset(
    f"sroie-{n}"
    for n in ("008", "014", "034", "043", "219", "257", "260", "263", "377", "379", "447")
)


def show(mirror: Path, path: str) -> bytes:
    """One file of the snapshot."""
    return subprocess.run(
        ["git", "-C", str(mirror), "show", f"{COMMIT}:{path}"], capture_output=True, check=True
    ).stdout


def iso_date(printed: str) -> str | None:
    """The labelled date as ISO, day first (Malaysian receipts); ``None`` when unreadable.
    Not ``parsing.values.parse_date``: a label must not be made by the parser it scores."""
    text = printed.strip().upper()
    if found := ISO.fullmatch(text):
        year, month, day = map(int, found.groups())
    elif found := AMERICAN.fullmatch(text):
        year, month, day = int(found[3]), MONTHS.get(found[1], 0), int(found[2])
    elif found := NAMED.fullmatch(text):
        day, month, year = int(found[1]), MONTHS.get(found[2], 0), int(found[3])
    elif found := (NUMERIC.fullmatch(text) or RUN.fullmatch(text)):
        day, month, year = map(int, found.groups())
    else:
        return None
    try:
        return date(year + 2000 if year < 100 else year, month, day).isoformat()
    except ValueError:
        return None


def total_text(printed: str) -> str | None:
    """The labelled total as a decimal string: currency mark and thousands commas dropped."""
    text = re.sub(r"^(RM|\$)\s*", "", printed.strip())
    if re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}", text):
        text = text.replace(",", "")
    return text if re.fullmatch(r"\d+\.\d{2}", text) else None


def receipt_label(given: dict[str, str]) -> dict[str, Any] | None:
    """Type, fields and printed values of SROIE's key (company, date, total) as our labels hold
    them; ``None`` when its date or total cannot be read. The test split's labels are made by
    it too (``ingest_sroie_test.py``)."""
    day, total = iso_date(given.get("date", "")), total_text(given.get("total", ""))
    if day is None or total is None or not given.get("company"):
        return None
    return {
        "document_type": "receipt",
        "fields": {"date": day, "total_amount": total, "institution": given["company"]},
        "printed": {"date": given["date"], "total": given["total"]},
    }


def label_of(mirror: Path, key: str) -> dict[str, Any] | None:
    """Our label of one source receipt; ``None`` when its date or total cannot be read."""
    made = receipt_label(json.loads(show(mirror, f"data/key/{key}.json")))
    if made is None:
        return None
    boxes = show(mirror, f"data/box/{key}.csv").decode("utf-8", "replace").splitlines()
    lines = [line.split(",", 8)[8] for line in boxes if line.count(",") >= 8]
    return {"source": f"data/img/{key}.jpg", **made, "lines": lines}


def image_of(
    mirror: Path,
    key: str,
    long_side: int = LONG_SIDE,
    quality: int = QUALITY,
    again: bool = False,
    progressive: bool = False,
) -> bytes:
    """The source image, resized to ``long_side`` only when it is longer; with ``again`` a
    shorter one is re-encoded at ``quality`` too (the source's are near-lossless, 0.5 MB for a
    1500 px receipt: the data budget). ``progressive``: Huffman-optimised progressive JPEG, the
    same quantised coefficients, so the same decoded pixels as baseline, ~12% fewer bytes."""
    raw = show(mirror, f"data/img/{key}.jpg")
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"data/img/{key}.jpg of the snapshot is no readable image")
    height, width = image.shape[:2]
    if max(height, width) <= long_side and not again:
        return raw
    if max(height, width) > long_side:
        scale = long_side / max(height, width)
        size = (round(width * scale), round(height * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    if progressive:
        params += [cv2.IMWRITE_JPEG_OPTIMIZE, 1, cv2.IMWRITE_JPEG_PROGRESSIVE, 1]
    return bytes(cv2.imencode(".jpg", image, params)[1].tobytes())


def drawn(mirror: Path, seed: int = SEED) -> list[str]:
    """The receipts not in the first 80 (``random.seed(21); random.sample(keys, 80)``, as
    PROVENANCE.md says), shuffled with ``seed``. Own generators, seeded as the module's
    ``random.seed`` was (the same draws), so nothing else's randomness is reset."""
    names = show(mirror, "data/key/").decode().split()  # `git show` of a tree lists it
    keys = sorted(Path(n).stem for n in names if n.endswith(".json"))
    first = set(random.Random(21).sample(keys, 80))
    rest = [k for k in keys if k not in first]
    return random.Random(seed).sample(rest, len(rest))


def seen_key(label: dict[str, Any]) -> tuple[str, ...]:
    """What makes two source receipts the same paper: SROIE holds some twice under two
    numbers (277 is 452, byte for byte), and a twin must not sit in both piles."""
    return tuple(label["fields"].values())


def typed_heldout_names() -> set[str]:
    """``sroie-NNN`` of the SROIE receipts held out in ``typed/`` (the pharmacy receipts): a
    draw must not take them into a pile (session 28's took 324 before this check existed)."""
    typed = DATA / "documents" / "typed" / "heldout"
    return {p.stem.removeprefix("pharmacy-") for p in typed.glob("pharmacy-sroie-*.json")}


def ingest(mirror: Path, develop: int, heldout: int, args: argparse.Namespace) -> list[str]:
    """Write the first ``develop`` + ``heldout`` drawn receipts (``args.seed``) that have a
    readable label, are not in a pile under their number and have no twin already taken;
    return the held-out sha256 lines."""
    piles = ["develop"] * develop + ["heldout"] * heldout
    held: list[str] = []
    taken = {p.read_bytes() for p in OUT.glob("*/*.jpg")}
    seen = {seen_key(json.loads(p.read_text("utf-8"))) for p in OUT.glob("*/*.json")}
    names = {p.stem for p in OUT.glob("*/*.json")} | typed_heldout_names()
    for key in drawn(mirror, args.seed):
        if not piles:
            break
        label = None if f"sroie-{key}" in names else label_of(mirror, key)
        if label is None or seen_key(label) in seen:
            continue
        image = image_of(mirror, key, args.long_side, args.quality, args.reencode, args.progressive)
        if image in taken:
            continue
        pile, name = piles.pop(0), f"sroie-{key}"
        folder = OUT / pile
        (folder / f"{name}.jpg").write_bytes(image)
        write_label(folder / f"{name}.json", label)
        taken.add(image)
        seen.add(seen_key(label))
        if pile == "heldout":
            held += listed(folder, name, (".jpg", ".json"))
    return held


def shrink(mirror: Path, over: int, args: argparse.Namespace) -> int:
    """Make every develop image larger than ``over`` bytes again from its source, at
    ``args.long_side`` / ``args.quality`` (always re-encoded); return how many. Develop only:
    a held-out image must stay the bytes ``HELDOUT.sha256`` lists. The receipts the vision
    models train on (``vision-receipts.txt``) keep their bytes too: new bytes would rebuild,
    and change, the quality gate and the breed model; so do those tests read (``PIXEL_TESTED``)."""
    vision = set(receipts("train"))  # the develop receipts the vision models train on
    count = 0
    for path in sorted((OUT / "develop").glob("*.jpg")):
        if path.stat().st_size <= over or path in vision:
            continue
        if path.stem in PIXEL_TESTED:
            continue
        key = Path(json.loads(path.with_suffix(".json").read_text("utf-8"))["source"]).stem
        path.write_bytes(
            image_of(mirror, key, args.long_side, args.quality, True, args.progressive)
        )
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", type=Path, required=True, help="the snapshot's git directory")
    parser.add_argument("develop", type=int)
    parser.add_argument("heldout", type=int)
    parser.add_argument("--seed", type=int, default=SEED, help="the draw's shuffle")
    parser.add_argument("--long-side", type=int, default=LONG_SIDE, help="resize above (px)")
    parser.add_argument("--quality", type=int, default=QUALITY, help="JPEG quality of a resize")
    parser.add_argument("--reencode", action="store_true", help="re-encode shorter ones too")
    parser.add_argument("--progressive", action="store_true", help="optimised progressive JPEG")
    parser.add_argument("--shrink-over", type=int, default=0, help="re-make develop over N bytes")
    args = parser.parse_args()
    if args.shrink_over:
        print(f"re-made {shrink(args.mirror, args.shrink_over, args)} develop images")
    for line in ingest(args.mirror, args.develop, args.heldout, args):
        print(line)


if __name__ == "__main__":
    main()
