"""Synthetic claim documents for the OCR tests: receipts and claim forms rendered with Pillow.

Each document is drawn from field values the generator chooses, and the test compares the parsed
fields with those values (never with what the OCR produced before). English and Korean labels,
several fonts, a slight rotation and pixel noise, like a phone scan of a printed form.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype")
LATIN_FONTS = ["dejavu/DejaVuSans.ttf", "dejavu/DejaVuSerif.ttf", "nanum/NanumGothic.ttf"]
HANGUL_FONTS = ["nanum/NanumGothic.ttf", "nanum/NanumBarunGothic.ttf", "nanum/NanumSquareR.ttf"]

LABELS = {
    "en": {
        "receipt": "MEDICAL RECEIPT",
        "claim_form": "INSURANCE CLAIM FORM",
        "name": "Patient Name",
        "date": "Date",
        "document_number": "Receipt No",
        "claim_number": "Claim No",
        "institution": "Hospital",
        "total_amount": "Total",
        "items": ["Consultation", "X-ray", "Medication", "Laboratory test"],
    },
    "ko": {
        "receipt": "진료비 영수증",
        "claim_form": "보험금 청구서",
        "name": "환자성명",
        "date": "진료일자",
        "document_number": "영수증번호",
        "claim_number": "청구번호",
        "institution": "병원명",
        "total_amount": "합계",
        "items": ["진찰료", "검사료", "투약료", "주사료"],
    },
}
EN_NAMES = ["JOHN SMITH", "MARY JONES", "DAVID LEE", "SARAH PARK", "JAMES KIM"]
KO_NAMES = ["김민수", "이서연", "박지훈", "최유진", "정하늘"]
EN_HOSPITALS = ["CITY GENERAL HOSPITAL", "RIVERSIDE CLINIC", "SEOUL MEDICAL CENTER"]
KO_HOSPITALS = ["서울중앙병원", "한빛의원", "부산대학병원"]


@dataclass(frozen=True)
class SyntheticDocument:
    """A rendered document and the ground truth it was drawn from."""

    png: bytes
    language: str
    document_type: str
    name: str
    date: str  # YYYY-MM-DD
    total_amount: int
    document_number: str
    institution: str


def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / path), size)


def render_document(seed: int, language: str, document_type: str) -> SyntheticDocument:
    """Draw one receipt or claim form; ``seed`` fixes every choice."""
    rng = random.Random(seed)
    labels = LABELS[language]
    font_path = rng.choice(HANGUL_FONTS if language == "ko" else LATIN_FONTS)
    body, title = _font(font_path, 30), _font(font_path, 42)
    name = rng.choice(KO_NAMES if language == "ko" else EN_NAMES)
    institution = rng.choice(KO_HOSPITALS if language == "ko" else EN_HOSPITALS)
    year, month, day = rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28)
    date = f"{year:04d}-{month:02d}-{day:02d}"
    shown_date = f"{year}.{month:02d}.{day:02d}" if language == "ko" else date
    prefix = "R" if document_type == "receipt" else "C"
    number = f"{prefix}{year}-{rng.randint(10000, 99999)}"
    amounts = [rng.randint(5, 400) * 100 for _ in labels["items"]]
    total = sum(amounts)
    won = " 원" if language == "ko" else ""

    image = Image.new("RGB", (900, 1000), "white")
    draw = ImageDraw.Draw(image)
    draw.text((60, 50), labels[document_type], font=title, fill="black")
    number_label = labels["document_number" if document_type == "receipt" else "claim_number"]
    rows = [
        (labels["institution"], institution),
        (number_label, number),
        (labels["name"], name),
        (labels["date"], shown_date),
    ]
    y = 150
    for label, value in rows:
        draw.text((60, y), f"{label}: {value}", font=body, fill="black")
        y += 60
    y += 20
    draw.line((60, y, 840, y), fill="black", width=2)
    y += 30
    for item, amount in zip(labels["items"], amounts, strict=True):
        draw.text((80, y), item, font=body, fill="black")
        draw.text((560, y), f"{amount:,}{won}", font=body, fill="black")
        y += 55
    draw.line((60, y, 840, y), fill="black", width=2)
    y += 30
    draw.text((60, y), f"{labels['total_amount']}: {total:,}{won}", font=body, fill="black")

    image = image.rotate(
        rng.uniform(-1.5, 1.5), resample=Image.Resampling.BICUBIC, expand=False, fillcolor="white"
    )
    noise = np.random.default_rng(seed).normal(0, 8, (1000, 900, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return SyntheticDocument(
        png=buffer.getvalue(),
        language=language,
        document_type=document_type,
        name=name,
        date=date,
        total_amount=total,
        document_number=number,
        institution=institution,
    )
