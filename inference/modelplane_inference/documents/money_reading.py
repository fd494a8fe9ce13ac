"""A second reading of amounts whose CTC text is damaged: amounts keep their cents.

On real scanned receipts (SROIE develop pile) the PP-OCR CTC recogniser reads most money
right, but on faint or dot-matrix print it drops the decimal point (``287`` for 2.87,
``19000`` for 190.00), takes it for a dash or a space (``16-00``, ``63 60``) or reads a zero
as a letter (``24.0C``). The parser rightly reads none of these as money on a page that prints
cents, and a receipt whose money lines no longer add up gets no total. So the recognition
stage reads such crops again, with other eyes, and keeps a second reading only where it is a
clean amount that agrees with what CTC read:

- **trigger** (``damaged_amount``), on pages that print cents (the parser's ``cents_page``):
  the line is, besides a leading currency or minus, 3-5 digits and nothing else (a lost
  mark), or 1-4 digits, one mark (``.`` ``,`` ``-`` or a space) and two or three digits or
  letters after it, unless the parser reads it as it is (``9.34``, ``41,43``, ``9.34S``): a
  mangled one. Dates, times, codes with letters inside, quantities ``1X8.50`` never match.
  A line whose box ends in the left ``CODE_COLUMN`` of the page's text is an item code, not
  money (on develop 71 of 190 triggered lines ended there, none an amount), and is not read.
- **agreement** (``agreed_amount``): the second reading is ``[-][RM]digits.dd`` (or ``,dd``);
  a first reading without a mark has exactly its digits (the value is then the first's digits
  with the mark put back, nothing else); one with a mark has the same whole part and, after
  the mark, the same digits where the first read digits (a letter stands for any digit; one
  trailing character past the cents, a tax code's sliver, may be dropped). A first reading
  without a mark also agrees with a second that has its digits with a space before the last
  two (``41 50`` for ``4150``, ``GAP``): CTC reads the faint point as a gap.
- **readers**: the box is cropped again, grown by ``GROWS`` (0, 1/4 or 1/2 of its height at
  each end, 0, 0.15 or 0.3 of it above and below: the detector's tight box clips a faint
  point at the baseline, or a last digit), and each of the 9 crops is read by CTC and by
  Tesseract (``eng``, ``MONEY_WHITELIST``, one line), and by CTC again with the ink thickened
  (``thickened``: dot-matrix zeros it read as ``C``). A line is repaired when at least one
  reading agrees and all agreeing readings say the same amount; else it stays as CTC read it
  (the parser then leaves the amount null: better than a wrong one).

Chosen on the develop receipts only (docs/benchmarks.md, "Amounts read twice").
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import cv2
import numpy as np

from modelplane_inference.documents import ocr
from modelplane_inference.documents.parsing.amounts import CURRENCY
from modelplane_inference.documents.parsing.document import cents_page
from modelplane_inference.documents.parsing.layout import boxes_of
from modelplane_inference.documents.script_routing import Recogniser

MONEY_WHITELIST = "0123456789.,-RM"  # what a money crop may hold, for Tesseract
# (along the line at each end, across it above and below), in the box's heights
GROWS = tuple(itertools.product((0.0, 0.25, 0.5), (0.0, 0.15, 0.3)))
LOST_MARK = re.compile(r"\d{3,5}")  # "287", "19000": digits whose decimal mark was not read
# "16-00", "63 60", "24.0C", "6.409": a whole part, a mark, 2-3 digits or letters after it
MANGLED = re.compile(r"(?P<whole>\d{1,4})(?P<mark>[.,\- ])(?P<rest>[0-9A-Za-z]{2,3})")
# "41 50": a reading with a space where the faint point is, the last two digits after it
GAP = re.compile(r"(?P<whole>0|[1-9]\d{0,5}) (?P<cents>\d{2})")
CODE_COLUMN = 0.3  # a line ending in this left part of the page's text is a code, not money
CLEAN = re.compile(r"-?(?:RM)?(?P<whole>0|[1-9]\d{0,5})[.,](?P<cents>\d{2})")
TWO_DECIMALS = re.compile(r"\d[.,]\d{2}$")


@dataclass(frozen=True)
class MoneyRepair:
    """A damaged amount's second reading that was kept, and which reader read it."""

    text: str
    reader: str


def _split(text: str) -> tuple[str, str]:
    """(leading currency and minus as printed, the rest): the repair keeps the first."""
    text = text.strip()
    head = re.match(rf"(?:-|{CURRENCY.pattern}|\s)*", text)
    end = head.end() if head else 0
    return text[:end], text[end:]


def _bare(text: str) -> str:
    """The text without a leading currency or minus and outer spaces."""
    return _split(text)[1]


def damaged_amount(text: str) -> bool:
    """The CTC text looks like an amount with a lost or mangled decimal mark (module doc)."""
    bare = _bare(text)
    if LOST_MARK.fullmatch(bare):
        return True
    shape = MANGLED.fullmatch(bare)
    if shape is None:
        return False
    rest = shape["rest"]
    # "9.34", "41,43", "9.34S" (a tax code glued on): the parser reads these as they are
    readable = shape["mark"] in ".," and rest[:2].isdigit() and not rest[2:].isdigit()
    return not readable


def agreed_amount(first: str, second: str) -> str | None:
    """``second`` as an amount where it agrees with the damaged ``first`` (module doc)."""
    head, bare = _split(first)
    read = CLEAN.fullmatch(second.replace(" ", ""))
    if read is None and LOST_MARK.fullmatch(bare):
        read = GAP.fullmatch(second.strip())
    if read is None:
        return None
    whole, cents = read["whole"], read["cents"]
    amount = f"{head.strip()}{whole}.{cents}"
    if LOST_MARK.fullmatch(bare):
        return amount if bare == whole + cents else None
    shape = MANGLED.fullmatch(bare)
    if shape is None or shape["whole"] != whole:
        return None
    rest = shape["rest"]
    if len(rest) == 3 and rest[:2].isdigit() and rest[:2] == cents:
        return amount  # a sliver past the cents ("6.409": the tax code's S)
    if len(rest) != 2:
        return None
    same = all(r == c for r, c in zip(rest, cents, strict=True) if r.isdigit())
    return amount if same else None


def decide(first: str, seconds: dict[str, str]) -> MoneyRepair | None:
    """The repair the readers agree on (reader name -> its reading), or ``None`` when none
    agrees with ``first`` or two agreeing readings differ in value."""
    agreed = {name: a for name, text in seconds.items() if (a := agreed_amount(first, text))}
    if len(set(agreed.values())) != 1:
        return None
    name, text = next(iter(agreed.items()))
    return MoneyRepair(text, "+".join(sorted(agreed)) if len(agreed) > 1 else name)


Reader = Callable[[list[np.ndarray]], Awaitable[list[str]]]  # crops -> their texts


def grown(box: np.ndarray, along: float, across: float) -> np.ndarray:
    """The box (4 corners, top-left first) grown by ``along``/``across`` of its height."""
    box = np.asarray(box, np.float32)
    width = float(np.linalg.norm(box[1] - box[0])) or 1.0
    height = float(np.linalg.norm(box[3] - box[0])) or 1.0
    dx = (box[1] - box[0]) / width * height * along
    dy = (box[3] - box[0]) / height * height * across
    return np.array([box[0] - dx - dy, box[1] + dx - dy, box[2] + dx + dy, box[3] - dx + dy])


def triggered(texts: list[str], boxes: list[np.ndarray]) -> list[int]:
    """Indices of the lines to read again: damaged amounts on a page that prints cents, but
    not in the code column at the page's left (``CODE_COLUMN``; module doc)."""
    if not cents_page(boxes_of([{"text": text} for text in texts])):
        return []
    lines = [i for i, text in enumerate(texts) if damaged_amount(text)]
    if not lines:
        return []
    xs = np.concatenate([np.asarray(box, np.float32)[:, 0] for box in boxes])
    left, span = float(xs.min()), float(xs.max() - xs.min()) or 1.0
    return [i for i in lines if (np.asarray(boxes[i])[:, 0].max() - left) / span >= CODE_COLUMN]


def thickened(crops: list[np.ndarray]) -> list[np.ndarray]:
    """The crops in grey with the ink grown by a pixel (a 2x2 minimum filter): faint
    dot-matrix print whose dots CTC reads apart (``15.0C`` for 15.00) joins up."""
    kernel = np.ones((2, 2), np.uint8)
    grey = (cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) for crop in crops)
    return [cv2.cvtColor(cv2.erode(g, kernel), cv2.COLOR_GRAY2BGR) for g in grey]


def second_crops(page: np.ndarray, boxes: list[np.ndarray], lines: list[int]) -> list[np.ndarray]:
    """The ``GROWS`` crops of each line in ``lines``, line by line (``len(GROWS)`` each).

    Pure CPU work (a perspective warp per crop, 9 per line): the stage runs it in the
    server's thread pool (``off_loop``) so that a page with many damaged amounts does not
    block the event loop that serves every other request.
    """
    return [ocr.crop_box(page, grown(boxes[i], *grow)) for i in lines for grow in GROWS]


async def repair(
    texts: list[str], lines: list[int], crops: list[np.ndarray], readers: dict[str, Reader]
) -> dict[int, MoneyRepair]:
    """Line index -> its kept second reading, for ``lines`` (``triggered(texts)``) whose
    ``crops`` are ``second_crops(page, boxes, lines)`` (module doc)."""
    if not lines:
        return {}
    done = await asyncio.gather(*(reader(crops) for reader in readers.values()))
    reads = dict(zip(readers, done, strict=True))
    out = {}
    for k, index in enumerate(lines):
        part = slice(k * len(GROWS), (k + 1) * len(GROWS))
        seconds = {
            f"{name}#{j}": text
            for name, texts_read in reads.items()
            for j, text in enumerate(texts_read[part])
        }
        kept = decide(texts[index], seconds)
        if kept is not None:
            names = sorted({name.split("#")[0] for name in kept.reader.split("+")})
            out[index] = MoneyRepair(kept.text, "+".join(names))
    return out


def tesseract_reader(tesseract: Recogniser) -> Reader:
    """Tesseract (``eng`` with ``MONEY_WHITELIST``) as a money reader: its texts only."""

    async def read(crops: list[np.ndarray]) -> list[str]:
        return [text for text, _ in await tesseract.recognise_all(crops)]

    return read
