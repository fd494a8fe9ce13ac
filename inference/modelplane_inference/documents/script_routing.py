"""Which recogniser reads a line: PP-OCR CTC for Latin and digits, Tesseract for Hangul.

The PP-OCRv4 recogniser has no Hangul in its dictionary. On a Korean line it answers one of
three ways, all seen on rendered receipts: nothing; Chinese look-alikes ("合計" style glyphs
for 합계, "是" for 원); or - the dangerous one - only the Latin part with a high score
(": 2019.05.11" at 0.99 for "진료일자: 2019.05.11"). So the decision uses the CTC answer *and*
the crop: ink that no emitted character sits near (``unread_ink``) is script the recogniser
did not read. A line is

- ``latin``: the CTC text has no CJK glyph, its score is at least ``MIN_CTC_SCORE`` and at
  most ``MAX_UNREAD`` of its ink columns are unread -> the CTC text is kept;
- ``hangul``: the CTC text has no Latin letter or digit (empty or only look-alikes);
- ``mixed``: some Latin/digits were read, the rest was not -> Tesseract reads the Hangul
  spans (the CTC part alone would drop the label).

A line or span Tesseract reads is taken only where Tesseract finds Hangul in it, first with the
``HANGUL_GATE`` model (Tesseract's Hangul-script model, Debian ``tesseract-ocr-script-hang``),
then read for its text with the deployment's ``language`` (``kor+Hangul`` in the examples).
Thresholds were chosen on the tune split of the intake generator (models/README.md); the
Tesseract models on the real Korean develop pile (docs/benchmarks.md).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np


class Recogniser(Protocol):
    """What routing needs of Tesseract (``tesseract.TesseractRecognizer``)."""

    async def recognise_all(self, crops: list[np.ndarray]) -> list[tuple[str, float]]: ...


# Routed Tesseract readings are gated by the Hangul-script model. Develop pile (10 real Korean
# images, 1594 Hangul words; 5055 lines of 90 real Latin SROIE receipts), Tesseract reading
# the routed lines with: kor+eng 0.923 (6 Latin lines answered Hangul), kor 0.946 (31),
# Hangul 0.939 (5), kor+Hangul 0.950 (14); gated by Hangul, then kor+Hangul: 0.950 (3).
HANGUL_GATE = "Hangul"
SLIVERS = ")]}!|'\"`"  # read at a span's start from a neighbour's ink (``splice``)
MIN_CTC_SCORE = 0.7
MAX_UNREAD = 0.15
NEAR_PX = 20  # an ink column within this many pixels (at height 48) of an emission is read
SPAN_JOIN = 1.2
WORD_GAP = 0.25  # an ink gap this wide (x crop height) between two letters is a word space
LETTER_GAPS = 2.0  # ... and this many times the line's median gap between emissions
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7a3\uf900-\ufaff\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z0-9]")
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def ink_columns(crop: np.ndarray, height: int) -> np.ndarray:
    """Columns (at the recogniser's input height) holding dark ink, as indices."""
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    width = max(1, int(np.ceil(height * grey.shape[1] / max(grey.shape[0], 1))))
    grey = cv2.resize(grey, (width, height))
    _, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    margin = height // 8  # box edges often clip the neighbouring line
    has_ink: np.ndarray = ink[margin : height - margin].sum(axis=0) > 0
    return np.flatnonzero(has_ink)


def unread_ink(crop: np.ndarray, indices: np.ndarray, stride: float, height: int = 48) -> float:
    """Fraction of the crop's ink columns with no non-blank CTC emission near them.

    ``indices`` is the best class per time step of this crop (0 = blank), ``stride`` the
    input pixels per time step (the padded width / the number of steps).
    """
    columns = ink_columns(crop, height)
    if len(columns) == 0:
        return 0.0
    emitted = np.flatnonzero(np.asarray(indices) != 0)
    if len(emitted) == 0:
        return 1.0
    centres = emitted * stride + stride / 2
    distance = np.abs(columns[:, None] - centres[None, :]).min(axis=1)
    return float((distance > NEAR_PX).mean())


def script_of(ctc_text: str, ctc_score: float, unread: float) -> str:
    """``latin``, ``hangul`` or ``mixed`` for one line (rules in the module docstring)."""
    # Full-width forms (U+FF08 before "GST Reg.No", U+FF1A) are Latin punctuation from
    # PP-OCR's Chinese dictionary, not CJK script: folded to ASCII before the CJK test.
    ctc_text = unicodedata.normalize("NFKC", ctc_text)
    has_latin = bool(_LATIN.search(ctc_text))
    if not has_latin:
        return "hangul"
    if _CJK.search(ctc_text) or ctc_score < MIN_CTC_SCORE or unread > MAX_UNREAD:
        return "mixed"
    return "latin"


def script_of_text(text: str) -> str:
    """``latin``, ``hangul`` or ``mixed`` of text whose characters are known (a PDF's text
    layer): what a routed OCR line would say of it."""
    hangul = bool(_HANGUL.search(text))
    if not hangul:
        return "latin"
    return "mixed" if _LATIN.search(text) else "hangul"


def holds_hangul(text: str) -> bool:
    """Whether Tesseract's reading holds Hangul (syllables or jamo): only then is it taken."""
    return bool(_HANGUL.search(text))


def recogniser_for(script: str) -> str:
    """``ctc`` for Latin lines, ``tesseract`` for Hangul and mixed ones."""
    return "ctc" if script == "latin" else "tesseract"


def emissions(
    indices: np.ndarray, characters: list[str], stride: float, to_crop: float
) -> list[tuple[float, str]]:
    """(x in crop pixels, character) of each CTC emission: repeats collapsed, blanks dropped.

    ``characters`` is the decoder's class list (class 0 the blank); ``to_crop`` maps input
    pixels (at the recogniser's height) back to the crop.
    """
    out, previous = [], 0
    for step, index in enumerate(np.asarray(indices).tolist()):
        if index != 0 and index != previous and index < len(characters):
            out.append(((step + 0.5) * stride * to_crop, characters[index]))
        previous = index
    return out


def folded(read: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """CTC's emissions with full-width forms folded to ASCII (NFKC), as ``script_of`` folds the
    line's text. Beside Hangul, PP-OCR's Chinese dictionary answers a printed ``2023. 11. 9.``
    as ``2023.11.9.`` with full-width stops (U+FF0E): a full-width mark is Latin punctuation,
    not a CJK glyph to drop (a real bill page's date came back as ``2023119.``). Used where the
    line is put back together (``splice``), not where its Hangul spans are found: a folded comma
    counts as Latin ink there, and on the develop bill page p3 the short word 청년 between two
    commas was left out of every span."""
    return [(x, unicodedata.normalize("NFKC", c)) for x, c in read]


def hangul_spans(crop: np.ndarray, read: list[tuple[float, str]]) -> list[tuple[int, int]]:
    """Column ranges of the crop whose ink no Latin/digit emission explains (the Hangul runs).

    Runs of unread ink closer than ``SPAN_JOIN`` line heights are one span (a Hangul syllable
    CTC misread as one Latin letter does not split a name); each is padded a little so
    Tesseract sees whole syllables.
    """
    height, width = crop.shape[:2]
    columns = ink_columns(crop, height)
    latin = np.array([x for x, c in read if _LATIN.search(c) or c in ":.,-/"], np.float32)
    near = NEAR_PX * height / 48
    if len(latin):
        columns = columns[np.abs(columns[:, None] - latin[None, :]).min(axis=1) > near]
    spans: list[list[int]] = []
    for column in columns.tolist():
        if spans and column - spans[-1][1] <= SPAN_JOIN * height:
            spans[-1][1] = column
        else:
            spans.append([column, column])
    pad = height // 4
    return [(max(0, a - pad), min(width, b + pad + 1)) for a, b in spans if b - a >= height / 4]


def splice(read: list[tuple[float, str]], pieces: list[tuple[int, int, str]]) -> str:
    """The line's text: CTC's Latin characters outside the Hangul spans plus Tesseract's
    reading of each span, in order along the line.

    A span is padded into the neighbouring digit's ink, and Tesseract reads that sliver as a
    closing mark at the span's start (제15조 -> "제 15 )조", 5월 -> "5 )월"); such leading marks
    (``SLIVERS``: none can start a Hangul word) are dropped. Develop pile: 1515 -> 1523 of
    1594 Hangul words; also dropping trailing marks gained nothing.
    """
    tokens = [
        (x, c)
        for x, c in folded(read)
        if not _CJK.search(c) and not any(a <= x < b for a, b, _ in pieces)
    ]
    tokens += [((a + b) / 2, f" {text.lstrip(SLIVERS) or text} ") for a, b, text in pieces]
    joined = "".join(text for _, text in sorted(tokens))
    return " ".join(joined.split())


@dataclass(frozen=True)
class CtcRead:
    """What the CTC pass saw on one line: text, score, unread ink and its emissions."""

    text: str
    score: float
    unread: float = 0.0
    emitted: tuple[tuple[float, str], ...] = ()


def ctc_read(
    crop: np.ndarray,
    text: str,
    score: float,
    indices: np.ndarray,
    stride: float,
    characters: list[str],
    height: int = 48,
) -> CtcRead:
    """The CTC answer for one crop, with what routing needs (``indices``: best class/step)."""
    emitted = emissions(indices, characters, stride, crop.shape[0] / height)
    return CtcRead(text, score, unread_ink(crop, indices, stride, height), tuple(emitted))


Read = tuple[str, float, dict[str, str]]


async def route(crops: list[np.ndarray], reads: list[CtcRead], tesseract: Recogniser) -> list[Read]:
    """Each line's final (text, score, {"recognizer", "script"}).

    Latin lines keep the CTC text. Hangul lines are read whole by Tesseract. Mixed lines keep
    CTC's Latin characters and have only their Hangul spans read by Tesseract (Tesseract
    kor+eng misreads Latin labels next to Hangul: "Repair Shop:" came back as "『6021「51100:").
    Tesseract's reading of a line or span is taken only where it holds Hangul: on real Latin
    receipts (SROIE) 26 of 536 lines looked unsure to CTC (faint print, a lone "%", a noise
    blob), and Tesseract answered them with Latin junk ("314502" -> "R10"), never Hangul.
    """
    scripts = [script_of(r.text, r.score, r.unread) for r in reads]
    jobs: list[tuple[int, int, int]] = []  # line, span start, span end (-1: whole line)
    for index, script in enumerate(scripts):
        spans = hangul_spans(crops[index], list(reads[index].emitted)) if script == "mixed" else []
        jobs += [(index, a, b) for a, b in spans] or ([(index, 0, -1)] if script != "latin" else [])
    pieces = [
        crops[i] if end < 0 else np.ascontiguousarray(crops[i][:, a:end]) for i, a, end in jobs
    ]
    texts = await tesseract.recognise_all(pieces)
    out: list[Read] = [
        (respace(c, r), r.score, {"recognizer": "ctc", "script": s})
        for c, r, s in zip(crops, reads, scripts, strict=True)
    ]
    for index in sorted({i for i, _, _ in jobs}):
        mine = [
            (a, end, t, conf)
            for (i, a, end), (t, conf) in zip(jobs, texts, strict=True)
            if i == index
        ]
        mine = [m for m in mine if holds_hangul(m[2])]
        if not mine:  # Tesseract found no Hangul: the line is CTC's (real Latin receipts)
            out[index] = (out[index][0], out[index][1], {"recognizer": "ctc", "script": "latin"})
            continue
        how = {"recognizer": "tesseract", "script": scripts[index]}
        if mine[0][1] < 0:
            out[index] = (mine[0][2], mine[0][3], how)
            continue
        text = splice(list(reads[index].emitted), [(a, end, t) for a, end, t, _ in mine])
        score = min([reads[index].score] + [conf for *_, conf in mine])
        out[index] = (text, score, {**how, "recognizer": "ctc+tesseract"})
    return out


def respace(crop: np.ndarray, read: CtcRead) -> str:
    """CTC's text with a space wherever the ink has a word gap that CTC read none in.

    PP-OCR often drops the space of a wide gap ("EMMAWILSON" in a wide table cell). The
    characters are CTC's own (same collapse rule as its decoder); only spaces between two
    letters are added (a narrow "1" leaves a wide gap inside a number).
    """
    emitted = [(x, c) for x, c in read.emitted]
    if len(emitted) < 2 or "".join(c for _, c in emitted).strip() != read.text.strip():
        return read.text
    height = crop.shape[0]
    ink = np.zeros(crop.shape[1], bool)
    ink[ink_columns(crop, height).clip(0, crop.shape[1] - 1)] = True
    gaps = [
        _longest_run(~ink[int(x0) : int(x1)]) for (x0, _), (x1, _) in itertools.pairwise(emitted)
    ]
    # A word gap is wide for the line's height and wide against this line's letter gaps.
    wide = max(WORD_GAP * height, LETTER_GAPS * float(np.median(gaps)))
    out = [emitted[0][1]]
    for ((_, c0), (_, c1)), gap in zip(itertools.pairwise(emitted), gaps, strict=True):
        if c0.isalpha() and c1.isalpha() and gap >= wide:  # never inside numbers
            out.append(" ")
        out.append(c1)
    return "".join(out)


def _longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for flag in flags.tolist():
        run = run + 1 if flag else 0
        best = max(best, run)
    return best
