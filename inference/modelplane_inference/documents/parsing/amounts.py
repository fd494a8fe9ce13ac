"""Money as people print it: ``31.00``, ``RM 112.45``, ``72,300 원``, ``1.234,56 €``.

A separator is read, never dropped, and never silently scales a number:

- the last ``.`` or ``,`` followed by one or two digits is the decimal mark (``30.90``,
  ``12,50``); every other separator must then group exactly three digits, and be the other mark
  (``1,234.56``, ``1.234,56``), else the amount is ambiguous;
- a ``,`` grouping three digits is a thousands separator (``72,300``, ``1,234,567``), so is a
  ``.`` when it groups more than once (``1.234.567``) or the currency has no minor unit (``₩``,
  ``원``, ``KRW``, ``円``: ``72.300 원``); a lone ``.ddd`` in any other currency (``1.234``: 1234 or
  1.234?) is ambiguous;
- digits in groups of three split by spaces are one number (``12 300``);
- a number followed by ``%`` is a rate, not an amount;
- on a receipt's money line (``signed_amount``, for ``parsing/totals.py``) a minus is kept,
  before the number or after it (``-0.01``, ``RM-0.45``, ``20.00-``), an ``O`` right after a
  currency is a zero (OCR's ``RMO.20``), and cents printed or read without their leading zero
  are cents (``.02`` is 0.02: 99 Speed Mart's ``Rounding Adjustment RM .02``, ``CHANGE RM .10``;
  ``money_text``).

An ambiguous amount reads as ``None`` (the field is then null and the document needs review),
never as a guess. The currency is the one printed next to the number (symbols and codes in
``CURRENCIES``): an ISO 4217 code where the mark names one currency (``RM`` MYR, ``₩``/``원``
KRW, ``€`` EUR), the mark itself where it names several (``$`` is printed on Malaysian
receipts too: real paper, sroie-428); whole amounts come back as ``int``, amounts with a
decimal mark as ``float`` rounded to the printed digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# Printed marker -> ISO 4217 code. Longer markers first, so "S$" is not read as "$".
CURRENCIES = {
    "KRW": "KRW",
    "₩": "KRW",
    "원": "KRW",
    "MYR": "MYR",
    "RM": "MYR",
    "SGD": "SGD",
    "S$": "SGD",
    "USD": "USD",
    "US$": "USD",
    "$": "$",
    "EUR": "EUR",
    "€": "EUR",
    "GBP": "GBP",
    "£": "GBP",
    "JPY": "JPY",
    "円": "JPY",
    "¥": "¥",
}
NOISE = re.compile(r"(?<![^\W\d_])[^\W\d_]{1,2}(?![^\W\d_])")  # a lone 1-2 letter token
LOOSE_CENTS = re.compile(r"(?<=\d)([.,]) (?=\d{2}(?![\d.,]))")  # OCR's "72. 00" is 72.00
LETTER_ZERO = re.compile(r"(?:(?<=RM)|(?<=[$-]))O(?=[.,]\d)")  # OCR's "RMO.20" is RM0.20
BARE_CENTS = re.compile(r"(?<![\w.,])(?=[.,]\d{2}(?![\d.,]))")  # ".02": where its 0 goes
TRAILING_MINUS = re.compile(r"(?<=\d)\s*-\s*$")  # "20.00-": a minus printed after the number
NEGATIVE = re.compile(r"(?:RM|MYR|\$)?\s*-\s*(?:RM|MYR|\$)?\s*\d")  # "-0.01", "-RMO.01", "RM-0.45"
NO_MINOR_UNIT = frozenset({"KRW", "JPY"})
_MARKERS = sorted(CURRENCIES, key=len, reverse=True)
CURRENCY = re.compile(
    "|".join(
        re.escape(m) if not m.isalpha() or not m.isascii() else rf"(?<![A-Za-z]){m}(?![A-Za-z])"
        for m in _MARKERS
    )
)
# A digit run with its separators; not part of a date, a time or a code ("25/12", "13:05", "A-12").
NUMBER = re.compile(
    r"(?<![\d.,/:\-])(?:\d{1,3}(?:[ ]\d{3})+(?![\d.,/:\-])|\d[\d.,]*(?<=\d)(?![\d/:\-]))"
)


@dataclass(frozen=True)
class Amount:
    """One number read from text: its value (``None`` when ambiguous) and printed currency."""

    value: Decimal | None
    currency: str | None
    decimals: int = 0

    def json(self) -> int | float | None:
        """The value as a JSON number (``json_number``); ``None`` when ambiguous."""
        return None if self.value is None else json_number(self.value)


def json_number(value: Decimal) -> int | float:
    """An amount as an answer's JSON number: ``int`` when printed whole, else ``float`` (a
    ``Decimal`` keeps the printed decimals as its exponent: 30.90, not 3090; the checked total
    of ``parsing/totals.py`` and every ``Amount`` answer through this one way)."""
    exponent = value.as_tuple().exponent
    return float(value) if isinstance(exponent, int) and exponent < 0 else int(value)


def currency_of(text: str) -> str | None:
    """The ISO code of the first currency marker printed in ``text``, if any."""
    found = CURRENCY.search(text)
    return CURRENCIES[found[0]] if found else None


def only_currency(text: str) -> bool:
    """The text is a currency mark and nothing else (a receipt's "RM" column)."""
    return CURRENCY.fullmatch(text.strip()) is not None


def _grouped(groups: list[str]) -> bool:
    """Groups after the first are exactly three digits; the first one to three."""
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def read_number(token: str, currency: str | None) -> tuple[Decimal | None, int]:
    """(value, printed decimals) of one digit token; value ``None`` when ambiguous."""
    token = token.replace(" ", "")
    marks = [c for c in token if c in ".,"]
    if not marks:
        return Decimal(token), 0
    head, mark, tail = token.rpartition(marks[-1])
    if len(tail) in (1, 2):  # the last mark is a decimal mark
        groups = re.split(r"[.,]", head)
        if any(c == mark for c in head) or not _grouped(groups):
            return None, 0
        return Decimal(f"{''.join(groups)}.{tail}"), len(tail)
    groups = re.split(r"[.,]", token)
    if len(set(marks)) > 1 or not _grouped(groups):
        return None, 0
    if marks[0] == "." and len(marks) == 1 and currency not in NO_MINOR_UNIT:
        return None, 0  # "1.234": a thousand or one and a bit
    return Decimal("".join(groups)), 0


def read_amounts(text: str) -> list[Amount]:
    """Every number in ``text`` with the currency printed in it; rates (``6%``) left out."""
    currency = currency_of(text)
    cleaned = CURRENCY.sub(" ", text.replace("\u00a0", " "))
    cleaned = LOOSE_CENTS.sub(r"\1", cleaned)
    out = []
    for match in NUMBER.finditer(cleaned):
        if cleaned[match.end() :].lstrip().startswith("%"):
            continue
        value, decimals = read_number(match[0], currency)
        out.append(Amount(value, currency, decimals))
    return out


def parse_amount_text(text: str) -> Amount | None:
    """The amount a value cell states: its largest number (``7.00 3.50`` -> 7.00).

    ``None`` when there is no number or the cell has words besides a currency (a value cell
    holds a number; a separate token of one or two letters is not a word: receipts print tax
    codes beside amounts, "RM62.50 Z", and OCR misreads a currency, "RK 141.50"); an
    ``Amount`` with value ``None`` when any number in it is ambiguous.
    """
    cleaned = CURRENCY.sub(" ", text)
    if any(c.isalpha() for c in NOISE.sub(" ", cleaned)):
        return None
    amounts = read_amounts(text)
    if not amounts:
        return None
    if any(a.value is None for a in amounts):
        return Amount(None, amounts[0].currency)
    return max(amounts, key=lambda a: a.value or Decimal(0))


def money_text(text: str) -> str:
    """A receipt money line's text with OCR's ``O`` after a currency as 0 ("RMO.20") and cents
    without their leading zero given it (".02" -> "0.02"; not "RM.02" or "1.02")."""
    return BARE_CENTS.sub("0", LETTER_ZERO.sub("0", text))


def signed_amount(text: str, cents: bool) -> tuple[Decimal, int] | None:
    """(value, decimals) of the first amount of a receipt's money line, its minus sign kept
    ("-0. 04", "-RMO.01", "20.00-"; ``money_text``); ``None`` when there is none that reads
    unambiguously: a rate, or, when the page prints cents (``cents``), a whole number (a
    quantity, or an amount whose decimal mark OCR lost). Dates are the caller's to leave out
    (``values.parse_date``)."""
    if not text.strip():
        return None
    text = money_text(text)
    trailing = TRAILING_MINUS.search(text) is not None
    text = TRAILING_MINUS.sub("", text)
    negative = trailing or NEGATIVE.match(text.strip()) is not None
    amounts = read_amounts(text.replace("-", " ", 1) if negative else text)
    if not amounts or amounts[0].value is None or (cents and amounts[0].decimals != 2):
        return None
    value, decimals = amounts[0].value, amounts[0].decimals
    return (-value if negative else value), decimals
