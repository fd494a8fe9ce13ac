"""Intake documents as an insurer receives them: claim forms, medical receipts, repair estimates.

Each page is drawn from values the generator chooses (the ground truth) in one of several
layouts: ``label: value`` lines, a ruled two-column grid (label cell, value cell to its right,
some labels wrapped over two lines), a four-column grid, and the header table of the Korean
standard medical receipt (진료비 계산서·영수증: label cells on top, values in the cells below).
Languages: English, Korean, or mixed (per row, and Korean names on English forms). Wordings
come from ``intake_wordings.yaml``; the ``held_out`` split uses only wordings, layouts and
fonts the ``tune`` split never uses, so a parser tuned on one is measured on the other.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype")
FONTS = {  # (latin-only fonts, hangul-capable fonts) per split
    "tune": (
        ["dejavu/DejaVuSans.ttf", "dejavu/DejaVuSerif.ttf"],
        ["nanum/NanumGothic.ttf", "nanum/NanumBarunGothic.ttf"],
    ),
    "held_out": (
        ["dejavu/DejaVuSansCondensed.ttf", "nanum/NanumSquareR.ttf"],
        ["nanum/NanumSquareR.ttf", "nanum/NanumMyeongjo.ttf"],
    ),
}
LAYOUTS = {"tune": ("lines", "grid"), "held_out": ("grid4", "stacked")}
TYPES = ("claim_form", "receipt", "estimate")
TYPE_FIELDS = {
    "claim_form": ("name", "policy_number", "document_number", "date", "total_amount"),
    "receipt": ("institution", "document_number", "name", "date", "total_amount"),
    "estimate": (
        "institution",
        "document_number",
        "date",
        "parts_total",
        "labour_total",
        "total_amount",
    ),
}
EN_NAMES = ["JOHN SMITH", "MARY JONES", "DAVID LEE", "SARAH PARK", "EMMA WILSON", "NOAH BROWN"]
KO_NAMES = ["김민수", "이서연", "박지훈", "최유진", "정하늘", "강도윤", "윤서아"]
INSTITUTIONS = {
    "receipt": {
        "en": ["CITY GENERAL HOSPITAL", "RIVERSIDE CLINIC", "SEOUL MEDICAL CENTER"],
        "ko": ["서울중앙병원", "한빛의원", "부산대학병원", "강남연세내과"],
    },
    "estimate": {
        "en": ["FAST LANE MOTORS", "ACE BODY REPAIR", "HANA AUTO SERVICE"],
        "ko": ["현대정비공업사", "한길자동차정비", "스마일카센터"],
    },
}
TEXT_SIZE = 28


@dataclass(frozen=True)
class TextLine:
    """One printed line and its box (four corners, tl tr br bl) in page pixels."""

    text: str
    box: tuple[tuple[float, float], ...]


@dataclass
class IntakeDocument:
    """A rendered page and the truth it was drawn from."""

    image: Image.Image
    document_type: str
    language: str
    layout: str
    split: str
    fields: dict[str, Any]
    line_items: list[dict[str, Any]] = field(default_factory=list)
    lines: list[TextLine] = field(default_factory=list)

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG")
        return buffer.getvalue()


@cache
def wordings() -> dict[str, Any]:
    with (Path(__file__).parent / "intake_wordings.yaml").open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


@cache
def font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / path), size)


class Page:
    """A white page that records every text it draws (the CER ground truth)."""

    def __init__(self, width: int, height: int, fonts: dict[str, str]) -> None:
        self.image = Image.new("RGB", (width, height), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.fonts = fonts
        self.lines: list[TextLine] = []

    def text(self, x: float, y: float, text: str, size: int = TEXT_SIZE) -> float:
        """Draw ``text`` with its top-left at (x, y); returns its right edge."""
        script = "ko" if any("\uac00" <= c <= "\ud7a3" for c in text) else "en"
        face = font(self.fonts[script], size)
        self.draw.text((x, y), text, font=face, fill="black")
        left, top, right, bottom = self.draw.textbbox((x, y), text, font=face)
        pad = 0.25 * size  # a detector's box reaches past the ink, as DB's unclip does
        left, top, right, bottom = left - pad, top - pad, right + pad, bottom + pad
        corners = ((left, top), (right, top), (right, bottom), (left, bottom))
        self.lines.append(TextLine(text, tuple((float(a), float(b)) for a, b in corners)))
        return float(right)

    def rule(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.draw.line((x0, y0, x1, y1), fill="black", width=2)

    def width_of(self, text: str, size: int = TEXT_SIZE) -> float:
        script = "ko" if any("\uac00" <= c <= "\ud7a3" for c in text) else "en"
        return float(self.draw.textlength(text, font=font(self.fonts[script], size)))


def _label(rng: random.Random, key: str, language: str, split: str, section: str) -> str:
    choices = wordings()[section][key][language]["held_out" if split == "held_out" else "seen"]
    return str(rng.choice(choices))


def _number(rng: random.Random, prefix: str, year: int) -> str:
    return f"{prefix}{year}-{rng.randint(10000, 99999)}"


def _shown_date(rng: random.Random, year: int, month: int, day: int, language: str) -> str:
    """One of the date forms the parser documents (slash dates are day/month/year)."""
    forms = [f"{year}.{month:02d}.{day:02d}", f"{year}-{month:02d}-{day:02d}"]
    forms += (
        [f"{year}년 {month}월 {day}일"] if language != "en" else [f"{day:02d}/{month:02d}/{year}"]
    )
    return rng.choice(forms)


def _amount_text(rng: random.Random, amount: int, language: str) -> str:
    forms = [f"{amount:,}", f"{amount:,} 원", f"KRW {amount:,}"] if language != "en" else []
    forms += [f"{amount:,}", f"KRW {amount:,}"] if language != "ko" else [f"{amount:,}원"]
    return rng.choice(forms)


@dataclass
class Content:
    """What a page says, before it is laid out: title, (field, label, shown value) rows, items."""

    title: str
    header: list[tuple[str, str, str]]
    totals: list[tuple[str, str, str]]
    items: list[tuple[str, str, int]]  # description, kind label ("" if none), amount
    item_header: tuple[str, ...]
    truth: dict[str, Any]
    line_items: list[dict[str, Any]]


def _row_language(rng: random.Random, language: str) -> str:
    return rng.choice(["en", "ko"]) if language == "mixed" else language


def _items(rng: random.Random, document_type: str, language: str) -> list[tuple[str, str, int]]:
    """Line items; an estimate's first three are parts, the rest labour."""
    words = wordings()
    lang = "ko" if language == "mixed" else language
    names: list[str] = words["items"][document_type][lang]
    count = rng.randint(3, len(names))
    chosen = rng.sample(range(len(names)), count)
    items = []
    for index in sorted(chosen):
        kind = ""
        if document_type == "estimate":
            kind = words["item_kinds"][lang]["parts" if index < 3 else "labour"]
        items.append((names[index], kind, rng.randint(5, 900) * 100))
    return items


def _kind(label: str) -> str:
    return "parts" if label in ("Parts", "부품") else "labour"


def content(rng: random.Random, document_type: str, language: str, split: str) -> Content:
    """Choose the values, wordings and order of one page."""
    year, month, day = rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28)
    items = _items(rng, document_type, language)
    korean_values = language == "ko" or (language == "mixed" and rng.random() < 0.7)
    place = "ko" if korean_values else "en"
    truth: dict[str, Any] = {
        "name": rng.choice(KO_NAMES if korean_values else EN_NAMES),
        "date": f"{year:04d}-{month:02d}-{day:02d}",
        "document_number": _number(
            rng, {"estimate": "E", "receipt": "R"}.get(document_type, "C"), year
        ),
        "policy_number": _number(rng, "P", year - 3),
        "institution": rng.choice(INSTITUTIONS.get(document_type, INSTITUTIONS["receipt"])[place]),
        "parts_total": sum(a for _, k, a in items if k and _kind(k) == "parts"),
        "labour_total": sum(a for _, k, a in items if k and _kind(k) == "labour"),
        "total_amount": sum(a for _, _, a in items),
    }
    truth = {key: truth[key] for key in TYPE_FIELDS[document_type]}
    rows = []
    for key in TYPE_FIELDS[document_type]:
        lang = _row_language(rng, language)
        value = truth[key]
        if key == "date":
            shown = _shown_date(rng, year, month, day, lang)
        elif isinstance(value, int):
            shown = _amount_text(rng, value, lang)
        else:
            shown = str(value)
        wording = (
            "claim_number" if (document_type, key) == ("claim_form", "document_number") else key
        )
        rows.append((key, _label(rng, wording, lang, split, "fields"), shown))
    money = ("parts_total", "labour_total", "total_amount")
    header = [row for row in rows if row[0] not in money]
    rng.shuffle(header)
    lang = "ko" if language == "mixed" and rng.random() < 0.5 else language
    lang = "ko" if lang == "mixed" else lang
    item_header: tuple[str, ...] = ("항목", "금액") if lang == "ko" else ("Item", "Amount")
    if document_type == "estimate":
        item_header = (item_header[0], "구분" if lang == "ko" else "Kind", item_header[1])
    line_items = [
        {"description": d, **({"kind": _kind(k)} if k else {}), "amount": a} for d, k, a in items
    ]
    return Content(
        title=_label(rng, document_type, _row_language(rng, language), split, "titles"),
        header=header,
        totals=[row for row in rows if row[0] in money],
        items=items,
        item_header=item_header,
        truth=truth,
        line_items=line_items,
    )


LEFT, RIGHT = 60.0, 840.0
ROW = 58.0  # row pitch of ruled tables


def _wrapped(page: Page, text: str, width: float) -> list[str]:
    """``text`` broken at spaces into lines that fit ``width`` (a multi-line cell)."""
    words, lines = text.split(" "), [""]
    for word in words:
        trial = f"{lines[-1]} {word}".strip()
        if lines[-1] and page.width_of(trial) > width:
            lines.append(word)
        else:
            lines[-1] = trial
    return lines


def _cell(page: Page, x: float, y: float, width: float, text: str) -> float:
    """Text in a ruled cell starting at y; returns the height it used."""
    lines = _wrapped(page, text, width - 20)
    for index, line in enumerate(lines):
        page.text(x + 10, y + 12 + index * (TEXT_SIZE + 4), line)
    return max(ROW, 24 + len(lines) * (TEXT_SIZE + 4))


def lines_layout(
    page: Page, rng: random.Random, rows: list[tuple[str, str, str]], y: float
) -> float:
    """``label: value`` rows, or label and value apart on one row (two detections)."""
    gap = rng.choice([": ", ":", "  -  ", None])
    for _, label, value in rows:
        if gap is None:
            page.text(LEFT, y, label)
            page.text(LEFT + 330, y, value)
        else:
            page.text(LEFT, y, f"{label}{gap}{value}")
        y += 56
    return y + 10


def grid_layout(
    page: Page, rng: random.Random, rows: list[tuple[str, str, str]], y: float
) -> float:
    """Ruled label | value table; long labels wrap inside their cell."""
    split = LEFT + rng.choice([230.0, 260.0, 300.0])
    page.rule(LEFT, y, RIGHT, y)
    for _, label, value in rows:
        height = max(_cell(page, LEFT, y, split - LEFT, label), ROW)
        _cell(page, split, y, RIGHT - split, value)
        page.rule(LEFT, y + height, RIGHT, y + height)
        page.rule(split, y, split, y + height)
        y += height
    page.rule(LEFT, y - sum(0 for _ in rows), LEFT, y)
    return y + 30


def grid4_layout(
    page: Page, rng: random.Random, rows: list[tuple[str, str, str]], y: float
) -> float:
    """Two label | value pairs per ruled row."""
    cols = [LEFT, LEFT + 170, LEFT + 390, LEFT + 560, RIGHT]
    page.rule(LEFT, y, RIGHT, y)
    for start in range(0, len(rows), 2):
        pair, height = rows[start : start + 2], ROW
        for slot, (_, label, value) in enumerate(pair):
            left = cols[slot * 2]
            height = max(height, _cell(page, left, y, cols[slot * 2 + 1] - left, label))
            height = max(
                height,
                _cell(page, cols[slot * 2 + 1], y, cols[slot * 2 + 2] - cols[slot * 2 + 1], value),
            )
        for x in cols[1:-1]:
            page.rule(x, y, x, y + height)
        y += height
        page.rule(LEFT, y, RIGHT, y)
    return y + 30


def stacked_layout(
    page: Page, rng: random.Random, rows: list[tuple[str, str, str]], y: float
) -> float:
    """The standard receipt's header: label cells in one row, each value in the cell below."""
    per_row = 2 if any(page.width_of(v) > 300 for _, _, v in rows) else 3
    for start in range(0, len(rows), per_row):
        group = rows[start : start + per_row]
        width = (RIGHT - LEFT) / per_row
        heights = [
            _cell(page, LEFT + i * width, y, width, label) for i, (_, label, _) in enumerate(group)
        ]
        mid = y + max(heights)
        values = [
            _cell(page, LEFT + i * width, mid, width, value)
            for i, (_, _, value) in enumerate(group)
        ]
        bottom = mid + max(values)
        for edge in (y, mid, bottom):
            page.rule(LEFT, edge, RIGHT, edge)
        for i in range(per_row + 1):
            page.rule(LEFT + i * width, y, LEFT + i * width, bottom)
        y = bottom + 16
    return y + 20


LAYOUT_DRAW = {
    "lines": lines_layout,
    "grid": grid_layout,
    "grid4": grid4_layout,
    "stacked": stacked_layout,
}


def _items_table(page: Page, content: Content, y: float) -> float:
    """Ruled line-item table: header, one row per item (description, [kind], amount)."""
    xs = (
        [LEFT, LEFT + 360, RIGHT]
        if len(content.item_header) == 2
        else [LEFT, LEFT + 360, LEFT + 520, RIGHT]
    )
    rows = [content.item_header] + [
        (d, *((k,) if k else ()), f"{a:,}") for d, k, a in content.items
    ]
    page.rule(LEFT, y, RIGHT, y)
    for row in rows:
        for index, text in enumerate(row):
            page.text(xs[index] + 10, y + 12, text)
        y += ROW - 6
        page.rule(LEFT, y, RIGHT, y)
    return y + 30


def render(seed: int, document_type: str, language: str, split: str = "tune") -> IntakeDocument:
    """One page; ``seed`` fixes every choice, ``split`` picks wordings, layouts and fonts."""
    rng = random.Random(f"{seed}-{document_type}-{language}-{split}")
    text = content(rng, document_type, language, split)
    latin, hangul = FONTS[split]
    fonts = {"ko": rng.choice(hangul)}
    fonts["en"] = fonts["ko"] if rng.random() < 0.3 else rng.choice(latin)
    layout = rng.choice(LAYOUTS[split])
    page = Page(900, 1500, fonts)
    page.text(LEFT, 40, text.title, size=38)
    draw = LAYOUT_DRAW[layout]
    y = draw(page, rng, text.header, 120.0)
    y = _items_table(page, text, y)
    y = draw(page, rng, text.totals, y)
    page.image = page.image.crop((0, 0, 900, int(min(1500, y + 40))))
    return IntakeDocument(
        image=page.image,
        document_type=document_type,
        language=language,
        layout=layout,
        split=split,
        fields=text.truth,
        line_items=text.line_items,
        lines=page.lines,
    )
