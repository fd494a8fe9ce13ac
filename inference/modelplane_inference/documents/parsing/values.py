"""Typed values: dates, amounts, document numbers and text, validated and normalised.

Each parser returns the normalised value or ``None`` when the text is not a value of that type,
so a label next to the wrong cell yields nothing rather than a wrong field.

Dates: ``2024.03.05``, ``2024-03-05``, ``2024/03/05``, ``20240305`` and ``2024년 3월 5일`` are
year-month-day. A date with the year LAST (``05/03/2024``, ``05.03.2024``) is read
**day/month/year** (the Korean and European form), unless the first number cannot be a month
day pair that way and can the other way round (``03/25/2024`` has no month 25: month/day). A
date must exist (no 2021-02-30) and lie in 1900-2099.

Amounts: digits with ``,`` (or ``.``) thousands separators, optionally ``원``, ``₩``, ``KRW``
or ``W`` around them; the integer number of won.
"""

from __future__ import annotations

import datetime as dt
import re

YEAR_FIRST = re.compile(r"((?:19|20)\d{2})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})")
YEAR_LAST = re.compile(r"(?<!\d)(\d{1,2})\s*[-./]\s*(\d{1,2})\s*[-./]\s*((?:19|20)\d{2})(?!\d)")
COMPACT_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
AMOUNT = re.compile(r"(?<![\d-])\d{1,3}(?:[,.]\d{3})+(?![\d.,]?\d)|(?<![\d-])\d+(?![\d-])")
CURRENCY = re.compile(r"(KRW|₩|원|W)", re.IGNORECASE)
NUMBER_TOKEN = re.compile(r"(?<![A-Z0-9])(?:[A-Z0-9]{1,6}(?:-[A-Z0-9]{2,12})+|[A-Z]{0,3}\d{5,14})")


def _date(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(text: str) -> str | None:
    """ISO date (YYYY-MM-DD) of the first valid date in ``text`` (rules in the module doc)."""
    text = text.replace("\u00a0", " ")
    for match in YEAR_FIRST.finditer(text):
        if found := _date(int(match[1]), int(match[2]), int(match[3])):
            return found
    for match in YEAR_LAST.finditer(text):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        found = _date(year, second, first) or _date(year, first, second)
        if found:
            return found
    for match in COMPACT_DATE.finditer(text):
        if found := _date(int(match[1]), int(match[2]), int(match[3])):
            return found
    return None


def parse_amount(text: str) -> int | None:
    """Won as an int: the largest separated number, or the only plain number, in ``text``."""
    cleaned = CURRENCY.sub(" ", text)
    cleaned = re.sub(r"(?<=\d)\s+(?=\d{3}(?!\d))", "", cleaned)  # "12 300" -> "12300"
    found = [int(re.sub(r"[,.]", "", m[0])) for m in AMOUNT.finditer(cleaned)]
    if not found or any(c.isalpha() for c in cleaned.replace(" ", "")):
        return None
    return max(found)


def parse_number(text: str) -> str | None:
    """A document number: letters/digits in dash-separated groups, or a long digit run."""
    cleaned = text.upper().replace("\u2014", "-").replace("\u2013", "-")
    cleaned = re.sub(r"\s*-\s*", "-", cleaned)  # OCR spaces around a dash
    match = NUMBER_TOKEN.search(cleaned)
    if match is None or not any(c.isdigit() for c in match[0]):
        return None
    return match[0]


def parse_text(text: str) -> str | None:
    """A name or an institution: some letters, at most a few digits."""
    cleaned = text.strip(" .,:;-|")
    letters = sum(c.isalpha() for c in cleaned)
    if letters < 2 or sum(c.isdigit() for c in cleaned) > 2:
        return None
    return cleaned


PARSERS = {"date": parse_date, "amount": parse_amount, "number": parse_number, "text": parse_text}


def parse_value(kind: str, text: str) -> str | int | None:
    """The value of type ``kind`` (date, amount, number, text) in ``text``, or None."""
    value: str | int | None = PARSERS[kind](text)
    return value
