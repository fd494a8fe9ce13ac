"""The institution that issued a page (shop, company, clinic, garage) when no label names it.

Real receipts (SROIE, develop pile) print it unlabelled on top, as a letterhead: the name block,
then the address, phone and tax number. A claim needs the registered company, which SROIE's
label names when the name block prints one under the shop's sign ("K I KU JAPANESE RESTAURANT"
over "TK DIVISION KITCHEN SDN BHD" and "1202152-P": the second).

Only the header is read: the page's first ``HEADER_ROWS`` printed lines (after a closing line
with a company's line under it: above it is the previous receipt's torn-off tail), up to the
first date, money amount (with decimals), item header or title / greeting (``not_name``) that
comes after a line that may be a name (a stamp's number or "TAX INVOICE" above the name does
not end it).
Its name block is the lines above the first address or contact line (``address``, ``contact``
words, a postcode and town, a phone number). In that order, the institution is:

1. in the name block, the topmost registered line: a legal form (``registered``: ``SDN BHD``
   as OCR garbles it, ``S/B``, ``BHD``, ``LTD``, ``GmbH``, ``주식회사``) or a company number
   (``REGISTRATION``: ``(519537-X)``, ``JM0325956-V``, ``Co. No:20154-T``) on the line, or a
   line under it that starts with one;
2. in the name block, the topmost line with a business word (``trade``: restaurant, 병원, 약국);
3. the name block's topmost name-like line, when a contact line (phone, fax, e-mail, tax
   number) or ``ADDRESS_LINES`` address lines follow within ``CONTACT_LINES``: a letterhead,
   not a recipient's address block;
4. the header's topmost registered line (the company printed under the address): one with its
   own legal form or business word before rule 3 ("Esjay Fuel Enterprise" / "CO.REG.NO:..."
   under a petrol station's letterhead), one only over a company number ("MALAYSIA") after.

Stamps and handwriting (much taller than the header's usual line, and read unsurely or with no
capital letter) are no names. A page with none of these (a form, a letter, a page of text) has
no institution. A name is the line's text before its company number and after a caption's
colon, cut after its legal form. It takes the line under it when it ends in "&", and the lines
above it when it holds a legal form and at most one word more ("CO. (M) SDN BHD", "RESTAURANT
SDN BHD") and they are printed the same size right above (a bare "GmbH": any size); a lone
letter is OCR's bracket, no word ("ALAM X SBN BHT"). A line with a legal form is a name even
with an address word in it ("BOOK TA.K(TAMAN DAYA)SDN BHD"); a notice sentence is none (the
previous receipt's "Goods Sold Are Not Returnable." on top). The answer undoes OCR's misreads
of the legal form and of letters inside words (``repaired``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache

from modelplane_inference.documents.parsing.amounts import parse_amount_text
from modelplane_inference.documents.parsing.doctypes import title_pattern
from modelplane_inference.documents.parsing.labels import is_item_header, table
from modelplane_inference.documents.parsing.layout import LEVEL, Cell, rows_of
from modelplane_inference.documents.parsing.values import parse_date, parse_text

HEADER_ROWS = 14  # a letterhead is the page's first lines; a receipt's items start below
CONTACT_LINES = 6  # a letterhead's contact line is at most this many lines under its name block
ADDRESS_LINES = 2  # ... or this many address lines are (a recipient's block: fewer)
JOIN_GAP = 0.6  # x line height: the first line of a two-line name is right above the second
JOIN_SIZE = (0.75, 1.33)  # ... and printed the same size (height ratio)
MIN_LETTERS = 3  # a name has at least this many letters
SENTENCE_WORDS = 4  # a notice line ("Goods Sold Are Not Returnable.") has this many words
NAME_DIGITS = 0.5  # a company's name prints at most this many digits a letter (a code, more)
STAMP = 1.5  # x the usual height: a stamp or handwriting when also ...
SURE = 0.85  # ... read less surely than this or with no capital letter (large print is not)
# A company number as Malaysian (SSM) and similar registries print it: up to two letters,
# 5-11 digits (OCR reads some as O, I, S, B), an optional dash and a check letter, bracketed
# or after "Co. No", "Company Reg. No.", "Co-Reg", "BR No", "REG.NO". A GST, phone or invoice
# number has no check letter.
REGISTRATION = re.compile(
    r"[(<\[]?\s*(?:(?:co\w{0,5}|br|roc|reg\w*)\W{0,4}(?:reg\w*\W{0,4})?(?:n[o0]\W{0,4})?)?"
    r"(?<![a-z0-9])[a-z]{0,2}\d[\doisb]{4,10}\s?-?\s?[a-z](?![a-z0-9])\s*[)>\]]?",
    re.IGNORECASE,
)
# "SDN BHD" (Sendirian Berhad) as OCR reads it on real receipts: "SON BHD", "Sdn.Rhd", "SEN
# 3HD", "SDN HHD", "SIN HHU", "SEN BD", "SBN BHT", "SDN EHU", "SUN BHO" (develop pile).
SDN_BHD = r"s[deioulb0]n?(?:\W*[b3r8he]h|\W+b)[dupot]"
# A postcode and town ("81100 JOHOR BAHRU", "33100 Paderborn", "3012 CN Rotterdam").
POSTCODE = re.compile(r"(?<!\w)\d{4,5}\s*(?:[A-Z]{2}\s+)?[^\W\d_]{3,}")
# A phone number: digits in groups ("05251/1809732", "(603)62435520", "016-7574666"), at
# least ``PHONE_DIGITS`` of them, not a date; one long run is an invoice or article number.
PHONE = re.compile(r"(?<![\d.,])\+?\(?\d+(?:[\s()/-]+\d+)+(?![\d.,])")
PHONE_DIGITS = 8
_LETTER = r"[^\W\d_]"
# OCR's "S/B" (Sendirian Berhad): "5/B" (also glued to the word before it), "S/R", "S/8".
S_B = rf"(?:(?<!{_LETTER})s|5)\s?/\s?[b8r]"
# A receipt's closing words: lines above one on top of a page are the previous receipt's.
CLOSING = re.compile(r"(?<![a-z])(?:thank|come\s*again|visit\s*us)", re.IGNORECASE)
# A digit OCR read for the letter it looks like, between letters ("KMF F00DICI0US SDN BHD").
DIGIT_LETTERS = str.maketrans("0158", "OISB")


def _words_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """Any of ``words`` as a whole word (no letter touching either end), spaces and punctuation
    between its parts free ("s/b" matches "S / B")."""
    parts = []
    for word in words:
        tokens = [re.escape(t) for t in re.findall(r"\w+|[^\w\s]", word.lower())]
        parts.append(r"\W*".join(tokens))
    return re.compile(rf"(?<!{_LETTER})(?:{'|'.join(parts)})(?!{_LETTER})", re.IGNORECASE)


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    """The ``institution_words`` lists as patterns; ``registered`` also matches ``SDN_BHD``."""
    words = table()["institution_words"]
    out = {kind: _words_pattern([str(w) for w in words[kind]]) for kind in words}
    registered = out["registered"].pattern
    out["registered"] = re.compile(
        rf"(?<!{_LETTER}){SDN_BHD}(?!{_LETTER})|{registered}", re.IGNORECASE
    )
    return out


def _plain(text: str) -> str:
    return text.replace("\uff08", "(").replace("\uff09", ")").replace("\uff1a", ":")


def has(kind: str, text: str) -> bool:
    """``text`` holds a word of ``institution_words[kind]``; a title or greeting (``not_name``)
    also with OCR's spaces inside it ("TAX INVOI CE")."""
    if kind == "not_name":
        words = table()["institution_words"][kind]
        return any(title_pattern(str(w)).search(text.lower()) for w in words)
    return _patterns()[kind].search(_plain(text)) is not None


def contact(text: str) -> bool:
    """A phone, fax, e-mail, web or tax-number line: what a letterhead has and an address
    block (a recipient's) has not."""
    if has("contact", text):
        return True
    numbers = PHONE.finditer(REGISTRATION.sub(" ", _plain(text)))
    return any(
        sum(c.isdigit() for c in m[0]) >= PHONE_DIGITS and parse_date(m[0]) is None for m in numbers
    )


def company_words(text: str) -> bool:
    """The line names a company by its words: a legal form or a business word."""
    return has("registered", text) or has("trade", text)


def letterhead(text: str) -> bool:
    """An address or contact line: the name block ended above it. A line with a legal form is
    a name, address words in it or not ("BOOK TA.K(TAMAN DAYA)SDN BHD")."""
    address = has("address", text) or POSTCODE.search(text) is not None
    return contact(text) or (address and not has("registered", text))


def registration_first(text: str) -> bool:
    """A line that starts with a company number ("(1097826-H)", "Co-REG:860671-D")."""
    found = REGISTRATION.search(_plain(text))
    return found is not None and not any(c.isalpha() for c in text[: found.start()])


def name_of(text: str) -> str | None:
    """The name a line prints: its text before a company number and after a caption's colon,
    cut after its legal form."""
    text = _plain(text)
    found = REGISTRATION.search(text)
    if found is not None:
        before = text[: found.start()]
        text = before if any(c.isalpha() for c in before) else REGISTRATION.sub(" ", text)
    _, colon, after = text.rpartition(":")
    if colon and sum(c.isalpha() for c in after) >= MIN_LETTERS:
        text = after  # "Owned by: ... SDN BHD": the name is after its caption
    legal = list(_patterns()["registered"].finditer(text))
    if legal:
        text = text[: legal[-1].end()]
    # A line that says it is a company (a legal form, company number or business word) prints
    # its digits as a name does ("Triple Six Point Enterprise 666", OCR's "KMF F00DICI0US SDN
    # BHD"); a unit number ("K3-113,JL IBRAHIM SULTAN") stays no name.
    company = found is not None or bool(legal) or has("trade", text)
    return parse_text(" ".join(text.split()), NAME_DIGITS if company else 0.0)


def name_like(text: str) -> bool:
    """A line that may be a name: letters, few digits, no title, greeting, address or contact."""
    name = name_of(text)
    if name is None or sum(c.isalpha() for c in name) < MIN_LETTERS:
        return False
    return not has("not_name", text) and not letterhead(text) and not sentence(text)


def sentence(text: str) -> bool:
    """A notice printed as a sentence: ``SENTENCE_WORDS`` words or more, the last a long word
    followed by a full stop or "!" ("Goods Sold Are Not Returnable.", the previous receipt's
    footer above the name). A name ends in its legal form ("CO.", "SDN. BHD.") or none, and a
    line with a business word is none ("... TRADING ENTERPRISE.")."""
    found = re.search(rf"({_LETTER}+)\s*[.!]\W*$", text)
    words = len(re.findall(rf"{_LETTER}{{2,}}", text))
    return (
        found is not None
        and len(found[1]) > 3
        and words >= SENTENCE_WORDS
        and not company_words(text)
    )


def _text(line: list[Cell]) -> str:
    return " ".join(c.text for c in line)


def _stamped(lines: list[list[Cell]]) -> set[int]:
    """Lines far taller than the header's usual line and read unsurely or with no capital: a
    stamp or handwriting ("OUA LER", "tan woon yann"), not a sign in large print ("Westfalen
    Tankstelle", read surely)."""
    heights = sorted(min(c.height for c in line) for line in lines)
    usual = heights[len(heights) // 2] if heights else 0.0
    return {
        i
        for i, line in enumerate(lines)
        if min(c.height for c in line) > STAMP * usual
        and (min(c.score for c in line) < SURE or not any(ch.isupper() for ch in _text(line)))
    }


def _ends_header(text: str) -> bool:
    """A date, money, item-header or title line: the header ended above it."""
    money = parse_amount_text(text)
    return (
        parse_date(text) is not None
        or (money is not None and money.decimals > 0)
        or is_item_header(text)
        or has("not_name", text)
    )


def header(lines: list[list[Cell]]) -> list[list[Cell]]:
    """The page's first lines, up to one that ``_ends_header`` after a name-like line."""
    out: list[list[Cell]] = []
    named = False
    for line in lines[:HEADER_ROWS]:
        text = _text(line)
        if named and _ends_header(text):
            break
        named = named or name_like(text)
        out.append(line)
    return out


def _registered(texts: list[str], index: int) -> bool:
    text = texts[index]
    if registration_first(text) or not name_like(text):
        return False
    below = index + 1 < len(texts) and registration_first(texts[index + 1])
    return has("registered", text) or REGISTRATION.search(_plain(text)) is not None or below


def _continues(upper: list[Cell], lower: list[Cell], sized: bool) -> bool:
    """``upper`` is the first line of the name ``lower`` ends: right above and, if ``sized``,
    printed the same size."""
    top, bottom = max(c.height for c in upper), max(c.height for c in lower)
    gap = min(c.y0 for c in lower) - max(c.y1 for c in upper)
    low, high = JOIN_SIZE
    text = _text(upper)
    return (
        gap < JOIN_GAP * max(top, bottom)
        and (not sized or low <= bottom / top <= high)
        and name_like(text)
        and not has("registered", text)
    )


def _name_at(lines: list[list[Cell]], index: int) -> str | None:
    """The name on line ``index``, with the line under it after an "&", or the lines above it
    when this line is a legal form and at most one word more."""
    texts = [_text(line) for line in lines]
    name = name_of(texts[index]) or ""
    if name.endswith("&") and index + 1 < len(lines) and name_like(texts[index + 1]):
        return name_of(f"{name} {texts[index + 1]}")
    rest = _patterns()["registered"].sub(" ", name).split()
    start, words = index, sum(sum(c.isalpha() for c in w) > 1 for w in rest)
    if words <= 1:
        while start > 0 and _continues(lines[start - 1], lines[start], sized=words > 0):
            start -= 1
    return name_of(" ".join([*texts[start:index], name])) if start < index else name or None


def _legal(form: str) -> Callable[[re.Match[str]], str]:
    """``form`` for a misread of it; a legal form read right stays as printed ("Sdn. Bhd")."""

    def replace(found: re.Match[str]) -> str:
        letters = "".join(c for c in found[0] if c.isalpha()).upper()
        if letters == "".join(c for c in form if c.isalpha()):
            return found[0]
        glued = found.start() > 0 and found.string[found.start() - 1].isalpha()
        return f" {form}" if glued else form

    return replace


def repaired(name: str) -> str:
    """A name as printed, OCR's misreads of its legal form and of letters inside its words
    undone: "SON BHD", "SIN HHU" -> "SDN BHD", "5/B", "S/R" -> "S/B", "F00DICI0US" ->
    "FOODICIOUS" (a digit between letters; "99 SPEED", "OLIVE9", "AMPANG 210" keep theirs)."""
    name = re.sub(rf"(?<!{_LETTER}){SDN_BHD}(?!{_LETTER})", _legal("SDN BHD"), name, flags=re.I)
    name = re.sub(rf"{S_B}(?!{_LETTER})", _legal("S/B"), name, flags=re.I)
    return re.sub(
        rf"(?<={_LETTER})[0158]+(?={_LETTER})", lambda m: m[0].translate(DIGIT_LETTERS), name
    )


def _letterhead_below(below: list[str]) -> bool:
    """The lines under a name block are a letterhead's: a contact line, or ``ADDRESS_LINES``
    address lines (a petrol station's chit prints its lot, road, postcode and town, no phone).
    A recipient's block prints one (the street is no address word: "27 rue Henri Rolland")."""
    addresses = sum(letterhead(t) for t in below)
    return any(contact(t) for t in below) or addresses >= ADDRESS_LINES


def _after_closing(lines: list[list[Cell]]) -> int:
    """Where the page's own lines start: after a closing line ("THANK YOU AND DO VISIT US
    AGAIN") that has a company's line under it in the first ``HEADER_ROWS``: what is above is
    the previous receipt's tail, torn off with this one."""
    texts = [_text(line) for line in lines[:HEADER_ROWS]]
    for i, text in enumerate(texts):
        if CLOSING.search(text) and any(
            _registered(texts, j) or has("trade", texts[j]) for j in range(i + 1, len(texts))
        ):
            return i + 1
    return 0


def business_name(boxes: list[Cell]) -> str | None:
    """The institution a page's header names (module docstring), or ``None``."""
    lines = rows_of(boxes, LEVEL)  # printed lines: stricter than the page's rows
    lines = lines[_after_closing(lines) :]
    top = header(lines)
    texts = [_text(line) for line in top]
    block = next((i for i, t in enumerate(texts) if letterhead(t)), len(texts))
    stamped = _stamped(top)
    registered = [i for i in range(len(texts)) if _registered(texts, i)]
    names = [i for i in range(block) if name_like(texts[i]) and i not in stamped]
    trade = [i for i in names if has("trade", texts[i])]
    below = [_text(line) for line in lines[block : block + CONTACT_LINES]]
    headed = names[:1] if _letterhead_below(below) else []
    companies = [i for i in registered if company_words(texts[i])]
    chosen = [i for i in registered if i < block] + trade + companies + headed + registered
    name = _name_at(top, chosen[0]) if chosen else None
    return repaired(name) if name else None
