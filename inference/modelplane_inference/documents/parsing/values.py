"""Typed values: dates, amounts, document numbers and text, validated and normalised.

Each parser returns the normalised value or ``None`` when the text is not a value of that type,
so a label next to the wrong cell yields nothing rather than a wrong field.

Dates (the first valid one in the text wins):

- year first, four digits: ``2024.03.05``, ``2024-03-05``, ``2024/03/05``, ``2024년 3월 5일``
  (also ``24년 3월 5일``: 년 marks the year) are year-month-day;
- a month name: ``16 MAY 2018``, ``25/FEB/2017``, ``05-JAN-17``, ``May 16, 2018``,
  ``August 3 , 2014`` (a real invoice's text layer puts a space before the comma); a day
  followed by ``, 2014`` is never the two-digit year of a date before it (``July 1 - July 31 ,
  2014`` is 31 July 2014, not 1 July 2031);
- year last (``05/03/2024``, ``18-11-18``) is read **day/month/year** (the Korean, European and
  Malaysian form), unless no such day exists and month/day does (``03/25/2024``); a two-digit
  year is 2000-2069 or 1970-1999 (``24/03/25``, which a Korean card slip may mean as
  yy/mm/dd, reads 24 March 2025: a year printed first needs four digits or ``년``);
- ``20240305`` (eight digits) is year-month-day;
- a time OCR glued to the year or to a year-first date's day is not part of it
  (``18/03/201823:02:16``, ``11/03/1821:30``, ``2016/05/0114:11:20``), also with its colon
  read as a middle dot (``09May201818·24``) or printed as dots (``17/01/20188.08.53``);
- a month name with a zero for its O (``0ct 3,2016``, ``N0V``), and ``Oct 3,2016`` with no
  space after the comma;
- with a year 20xx printed in full, a date glued to what precedes it is still a date (tried
  after the rules above): to letters (``DATE28/05/2018``, a cashier's ``YUN02-12-2016``) or to a
  receipt number's digits, where the day is as wide as the month is printed
  (``100024911/03/2018`` is 11 March, ``C021027729/2/2017`` 9 February);
- with a year 20xx printed in full, two-digit day and month and one separator OCR lost
  (``18/092017``, ``Date:0803/2018``) are day/month/year (``CR 1803/1905``, a code, is none);
- a date inside a code is none: after a capital letter (an item code ``HA06HD01-3-70``), or
  with a two-digit year and a dash or slash and digits after it (an invoice number
  ``SP-nu11-18/06/09-1018481``); ``07/04/2018-18.10:59`` is a date and a time.

A date must exist (no 2021-02-30) and lie in 1900-2099.

Amounts: ``parsing/amounts.py`` (decimal marks, thousands separators, currencies).
"""

from __future__ import annotations

import datetime as dt
import re

from modelplane_inference.documents.parsing.amounts import parse_amount_text

# A time OCR glued to a date: "23:02", "18·24" (a colon read as a middle dot), "8.08.53".
_GLUED_TIME = r"\d{1,2}[:\u00b7]\d{2}|\d{1,2}\.\d{2}\.\d{2}(?!\d)"
YEAR_FIRST = re.compile(
    r"(?<!\d)((?:19|20)\d{2}|\d{2}(?=\s*년))\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})"
    rf"(?={_GLUED_TIME}|(?!\d))"
)
# After the year: no more digits, or a time OCR glued on ("18/03/201823:02:16").
_YEAR_END = rf"(?={_GLUED_TIME}|(?![\d.,:]?\d))"
# Not inside a code: after a capital letter ("HA06HD01-3-70", "HD03-04-06-5/40/160") or before
# a dash or slash and a digit when the year has two digits (an invoice number's
# "SP-nu11-18/06/09-1018481"); a "." before it only ends a word ("Date.28/12/2017"), after a
# digit it is a decimal point.
YEAR_LAST = re.compile(
    rf"(?<!\d)(?<!\d\.)(?<![A-Z])(\d{{1,2}})\s*([-./])\s*(\d{{1,2}})\s*\2\s*"
    rf"(\d{{4}}|\d{{2}}(?![-/]\d)){_YEAR_END}"
)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# OCR reads a capital O as a zero: "0ct 3,2016", "N0V".
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|[o0]ct|n[o0]v|dec)[a-z]*\.?"
# The last look-ahead: in "July 1 - July 31 , 2014", "1 - July 31" is no 1 July 2031 (the
# 31 is a day: its year follows).
DAY_MONTH_NAME = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\s*[-./ ]?\s*{_MONTH}"
    rf"\s*[-./, ]?\s*(\d{{4}}|\d{{2}}){_YEAR_END}(?!\s*,\s*\d{{4}})",
    re.IGNORECASE,
)
# "August 3, 2014" and, as a real AWS invoice's text layer prints it, "August 3 , 2014".
MONTH_NAME_DAY = re.compile(
    rf"{_MONTH}\s+(\d{{1,2}})\s*(?:,\s*|\s+)(\d{{4}})(?={_GLUED_TIME}|(?!\d))", re.IGNORECASE
)
# A year 20xx makes a date safe to read where a code guard would refuse it: glued to the
# digits of a receipt number before it ("100024911/03/201807:09PM") or to letters ("DATE28/05/
# 2018", "REG KER YUN02-12-2016"); not after a decimal point ("1.05/02/2018").
GLUED_DATE = re.compile(rf"(\d{{1,2}})([-./])(\d{{1,2}})\2(20\d{{2}}){_YEAR_END}")
# One separator OCR lost between a two-digit day and month and a year 20xx: "18/092017",
# "Date:0803/2018" (a code's "CR 1803/1905" is no 18 March 1905).
NO_SEPARATOR = re.compile(
    r"(?<![\w.])(?:(\d{2})[-./](\d{2})|(\d{2})(\d{2})[-./])(20\d{2})"
    rf"{_YEAR_END}"
)
COMPACT_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
NUMBER_TOKEN = re.compile(r"(?<![A-Z0-9])(?:[A-Z0-9]{1,6}(?:-[A-Z0-9]{2,12})+|[A-Z]{0,3}\d{5,14})")
# What a printed form says of itself, never a claim's number: its OMB control number ("APPROVED
# OMB-0938-1197", "OMB No. 1545-0074"), its revision date in brackets ("FORM 1500 (02-12)",
# "(08-05)") and its name after FORM ("FORM HCFA-1500", "FORM OWCP-1500"). A blank real CMS-1500
# (typed develop, rendered and read) answered "OMB-0938-1197FORM" as its number.
FORM_CODE = re.compile(
    r"\bOMB\W*(?:NO\b\W*)?\d{4}-\d{4}|\(\s*\d{2}\s*[-/]\s*\d{2}\s*\)"
    r"|\bFORM\W*(?!NO\b)[A-Z]{2,5}-\d{3,5}\b"
)


def _year(text: str) -> int:
    """A printed year; two digits are 2000-2069 or 1970-1999."""
    year = int(text)
    if len(text) > 2:
        return year
    return year + (2000 if year < 70 else 1900)


def _date(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= 2099:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _named(match: re.Match[str], day: int, month: int, year: int) -> str | None:
    name, number, printed = match[month], match[day], match[year]
    month = MONTHS.index(name[:3].lower().replace("0", "o")) + 1
    return _date(_year(printed), month, int(number))


def _glued(match: re.Match[str], text: str) -> str | None:
    """Day/month/year of a date glued to the digits before it: the day is as wide as the month
    is printed ("...729/2/2017" is 9 February, "...4911/03/2018" 11 March); none after a
    decimal point ("1.05/02/2018")."""
    if re.search(r"\d[.,]\d*$", text[: match.start()]):
        return None  # a decimal's digits
    day, month, year = match[1], match[3], int(match[4])
    if match.start() > 0 and text[match.start() - 1].isdigit() and len(day) > len(month):
        day = day[-1]
    return _date(year, int(month), int(day)) or _date(year, int(day), int(month))


def parse_date(text: str) -> str | None:
    """ISO date (YYYY-MM-DD) of the first valid date in ``text`` (rules in the module doc)."""
    text = text.replace("\u00a0", " ")
    for match in YEAR_FIRST.finditer(text):
        if found := _date(_year(match[1]), int(match[2]), int(match[3])):
            return found
    for match in DAY_MONTH_NAME.finditer(text):
        if found := _named(match, 1, 2, 3):
            return found
    for match in MONTH_NAME_DAY.finditer(text):
        if found := _named(match, 2, 1, 3):
            return found
    for match in YEAR_LAST.finditer(text):
        first, second, year = int(match[1]), int(match[3]), _year(match[4])
        if found := _date(year, second, first) or _date(year, first, second):
            return found
    for match in GLUED_DATE.finditer(text):
        if found := _glued(match, text):
            return found
    for match in NO_SEPARATOR.finditer(text):
        day, month = (match[1], match[2]) if match[1] else (match[3], match[4])
        if found := _date(int(match[5]), int(month), int(day)):
            return found
    for match in COMPACT_DATE.finditer(text):
        if found := _date(int(match[1]), int(match[2]), int(match[3])):
            return found
    return None


def parse_amount(text: str) -> int | float | None:
    """The amount of a value cell (``parsing/amounts.py``); ``None`` when absent or ambiguous."""
    found = parse_amount_text(text)
    return found.json() if found is not None else None


def parse_number(text: str) -> str | None:
    """A document number: letters/digits in dash-separated groups, or a long digit run; not a
    form's own control number or revision date (``FORM_CODE``)."""
    cleaned = text.upper().replace("\u2014", "-").replace("\u2013", "-")
    cleaned = re.sub(r"\s*-\s*", "-", cleaned)  # OCR spaces around a dash
    match = NUMBER_TOKEN.search(FORM_CODE.sub(" ", cleaned))
    if match is None or not any(c.isdigit() for c in match[0]):
        return None
    return match[0]


def parse_text(text: str, digit_share: float = 0.0) -> str | None:
    """A name or an institution: some letters, at most two digits, or ``digit_share`` digits a
    letter where that is more (a company's name prints its digits: "Triple Six Point
    Enterprise 666", ``parsing/institution.py``)."""
    cleaned = text.strip(" .,:;-|")
    letters = sum(c.isalpha() for c in cleaned)
    digits = sum(c.isdigit() for c in cleaned)
    if letters < 2 or digits > max(2, digit_share * letters):
        return None
    return cleaned


PARSERS = {"date": parse_date, "amount": parse_amount, "number": parse_number, "text": parse_text}


def parse_value(kind: str, text: str) -> str | int | float | None:
    """The value of type ``kind`` (date, amount, number, text) in ``text``, or None."""
    value: str | int | float | None = PARSERS[kind](text)
    return value
