"""The institution that issued a page (shop, company, clinic, garage) when no label names it.

Real receipts (SROIE, develop pile) print it unlabelled on top, as a letterhead: the name block,
then the address, phone and tax number. A claim needs the registered company, which SROIE's
label names when the name block prints one under the shop's sign ("K I KU JAPANESE RESTAURANT"
over "TK DIVISION KITCHEN SDN BHD" and "1202152-P": the second).

Only the header is read: the page's first ``HEADER_ROWS`` printed lines (after a closing line
with a company's line under it: above it is the previous receipt's torn-off tail), up to the
first date, money amount (with decimals), item header or title / greeting (``not_name``) that
comes after a line that may be a name, read surely (a stamp's number, "TAX INVOICE" above the
name or a logo OCR read as noise, "Vavsar 2pux'", does not end it).
Its name block is the lines above the first address or contact line (``address``, ``contact``
words, a postcode and town, a phone number; above the first name, a line of digits alone is a
stamp's number, not a phone: "3 1802013"). A line under an address line that ends in a comma
goes on with the address ("RESTORAN JEJANTAS SG.BULOH," / "ARAH UTARA,PLUS BERHAD."): it is no
company. A mall ("... 1 UTAMA SHOPPING CENTRE") is an address. The line-by-line words are read
in ``institution_text.py``. In that order, the institution is:

1. in the name block, the topmost line with a legal form, then the topmost registered only by
   a company number (a brand's "JUWITA WEDDINGS (366310-U)" over "SAYANG YOU STATION SDN
   BHD"). Registered: a legal form (``registered``: ``SDN BHD`` as OCR garbles it, ``S/B``,
   ``SB``, ``BHD``, ``LTD``, ``GmbH``, ``주식회사``) or a company number
   (``REGISTRATION``: ``(519537-X)``, ``JM0325956-V``, ``Co. No:20154-T``) on the line, or a
   line under it that starts with one;
2. in the name block, the topmost line with a business word (``trade``: restaurant, 병원, 약국);
3. the name block's topmost name-like line, when a contact line (phone, fax, e-mail, tax
   number) or ``ADDRESS_LINES`` address lines (a line going on after one's comma counts)
   follow within ``CONTACT_LINES``: a letterhead, not a recipient's address block;
4. the header's topmost registered line (the company printed under the address): one with its
   own legal form or business word before rule 3 ("Esjay Fuel Enterprise" / "CO.REG.NO:..."
   under a petrol station's letterhead), one only over a company number ("MALAYSIA") after.

Stamps and handwriting (much taller than the header's usual line, and read unsurely or with no
capital letter) are no names. A page with none of these (a form, a letter, a page of text) has
no institution. A name is the line's text before its company number and after a caption's
colon, cut after its legal form, stars around it dropped ("**Royal tea**"). It takes the line
under it when it ends in "&", and the line right above it (about the same size) when that line
ends in "&" or this one starts with it ("THE COFFEE BEAN" / "&TEA LEAF(M)SDN.BHD"). It takes
the lines above it when it holds a legal form and at most one word more ("CO. (M) SDN BHD",
"RESTAURANT SDN BHD"; OCR's space inside one word does not make two: "STAT IONERY SDN.BHD",
"CORPORAT ION S/B") and they are printed about the same size right above (a bare "GmbH": any
size); a lone letter is OCR's bracket, no word ("ALAM X SBN BHT"). A line registered only by the
company number under it, with no legal form or business word of its own ("JIAWEI HOUSE" over
"002693074-K"), takes the line right above it printed the same size on the same axis
("RESTAURANT JIAWEI"): the number registers the whole block; a sign printed farther above
("FACE TO FACE NOODLE HOUSE" over "FTOF NOODLE HOUSE") or a mark beside it is not joined.
A line with a legal form is a name even with an address word in it ("BOOK TA.K(TAMAN DAYA)SDN
BHD"); a notice sentence is none (the previous receipt's "Goods Sold Are Not Returnable." on
top). The answer undoes OCR's misreads of the legal form ("SDN BHI", "S/9" too) and of letters
inside words (``repaired``).
"""

from __future__ import annotations

import re

from modelplane_inference.documents.parsing.amounts import parse_amount_text
from modelplane_inference.documents.parsing.institution_text import (
    REGISTRATION,
    company_words,
    contact,
    has,
    letterhead,
    name_like,
    name_of,
    plain,
    registration_first,
    repaired,
    words_beyond_form,
)
from modelplane_inference.documents.parsing.labels import is_item_header
from modelplane_inference.documents.parsing.layout import LEVEL, Cell, rows_of
from modelplane_inference.documents.parsing.values import parse_date

HEADER_ROWS = 14  # a letterhead is the page's first lines; a receipt's items start below
CONTACT_LINES = 6  # a letterhead's contact line is at most this many lines under its name block
ADDRESS_LINES = 2  # ... or this many address lines are (a recipient's block: fewer)
JOIN_GAP = 0.6  # x line height: the first line of a two-line name is right above the second
JOIN_SIZE = (0.7, 1.43)  # ... and printed about the same size (height ratio; a stamp: half)
ALIGN = 1.0  # x line height: two lines of one block share a centre or a left edge this closely
STAMP = 1.5  # x the usual height: a stamp or handwriting when also ...
SURE = 0.85  # ... read less surely than this or with no capital letter (large print is not)
READ_SURELY = 0.7  # a line read less surely is OCR's noise (a logo), no name that ends a header
# A receipt's closing words: lines above one on top of a page are the previous receipt's.
CLOSING = re.compile(r"(?<![a-z])(?:thank|come\s*again|visit\s*us)", re.IGNORECASE)


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
        named = named or (name_like(text) and min(c.score for c in line) >= READ_SURELY)
        out.append(line)
    return out


def _registered(texts: list[str], index: int) -> bool:
    text = texts[index]
    if registration_first(text) or not name_like(text):
        return False
    below = index + 1 < len(texts) and registration_first(texts[index + 1])
    return has("registered", text) or REGISTRATION.search(plain(text)) is not None or below


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


def _numbered_only(texts: list[str], index: int) -> bool:
    """Line ``index`` is registered only by the company number under it: no legal form or
    business word of its own ("JIAWEI HOUSE" over "002693074-K")."""
    below = index + 1 < len(texts) and registration_first(texts[index + 1])
    return index > 0 and below and not company_words(texts[index])


def _span(line: list[Cell]) -> tuple[float, float]:
    return min(c.x0 for c in line), max(c.x1 for c in line)


def _aligned(upper: list[Cell], lower: list[Cell]) -> bool:
    """Two lines printed as one block: centred on one axis or starting at one edge (a mark
    beside the name is neither)."""
    (x0, x1), (u0, u1) = _span(lower), _span(upper)
    left, centre = abs(u0 - x0), abs(u0 + u1 - x0 - x1) / 2
    height = max(c.height for c in lower)
    return min(left, centre) <= ALIGN * height


def _name_at(lines: list[list[Cell]], index: int) -> str | None:
    """The name on line ``index``, with the line under it after an "&", the line right above
    it before an "&" ("THE COFFEE BEAN" / "&TEA LEAF(M)SDN.BHD"), or the lines above it when
    this line is a legal form and at most one word more."""
    texts = [_text(line) for line in lines]
    name = name_of(texts[index]) or ""
    if name.endswith("&") and index + 1 < len(lines) and name_like(texts[index + 1]):
        return name_of(f"{name} {texts[index + 1]}")
    above = texts[index - 1].rstrip() if index > 0 else ""
    if (name.startswith("&") or above.endswith("&")) and _continues(
        lines[index - 1], lines[index], sized=True
    ):
        return name_of(f"{above} {name}")
    if (
        _numbered_only(texts, index)
        and _continues(lines[index - 1], lines[index], sized=True)
        and _aligned(lines[index - 1], lines[index])
    ):
        return name_of(f"{texts[index - 1]} {name}")
    start, words = index, words_beyond_form(name)
    if words <= 1:
        while start > 0 and _continues(lines[start - 1], lines[start], sized=words > 0):
            start -= 1
    return name_of(" ".join([*texts[start:index], name])) if start < index else name or None


def _letterhead_below(below: list[str]) -> bool:
    """The lines under a name block are a letterhead's: a contact line, or ``ADDRESS_LINES``
    address lines (a petrol station's chit prints its lot, road, postcode and town, no phone).
    A recipient's block prints one (the street is no address word: "27 rue Henri Rolland").
    A line that goes on with an address after its comma is one ("lot I-015b,Level 3," /
    "Mid Valley City,")."""
    going_on = _continued_address(below)
    addresses = sum(letterhead(t) or i in going_on for i, t in enumerate(below))
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


def _block_end(texts: list[str], stamped: set[int]) -> int:
    """Where the name block ends: at the first address or contact line. Above the first name,
    a line of digits alone is a stamp's or scanner's number ("3 1802013"), not a phone."""
    first = next((i for i, t in enumerate(texts) if name_like(t) and i not in stamped), 0)
    return next(
        (
            i
            for i, t in enumerate(texts)
            if letterhead(t) and (i >= first or any(c.isalpha() for c in t))
        ),
        len(texts),
    )


def _continued_address(texts: list[str]) -> set[int]:
    """Lines that go on with an address: under an address line that ends in a comma ("LOT
    S10NB&S12NB," / "RESTORAN JEJANTAS SG.BULOH," / "ARAH UTARA,PLUS BERHAD.": a highway rest
    area's operator is part of the shop's address, not its company)."""
    out: set[int] = set()
    for i in range(1, len(texts)):
        above = texts[i - 1].rstrip()
        if above.endswith(",") and (letterhead(above) or i - 1 in out):
            out.add(i)
    return out


def business_name(boxes: list[Cell]) -> str | None:
    """The institution a page's header names (module docstring), or ``None``."""
    lines = rows_of(boxes, LEVEL)  # printed lines: stricter than the page's rows
    lines = lines[_after_closing(lines) :]
    top = header(lines)
    texts = [_text(line) for line in top]
    stamped = _stamped(top)
    block = _block_end(texts, stamped)
    address = _continued_address(texts)
    registered = [i for i in range(len(texts)) if _registered(texts, i) and i not in address]
    names = [i for i in range(block) if name_like(texts[i]) and i not in stamped]
    trade = [i for i in names if has("trade", texts[i])]
    below = [_text(line) for line in lines[block : block + CONTACT_LINES]]
    headed = names[:1] if _letterhead_below(below) else []
    companies = [i for i in registered if company_words(texts[i])]
    formed = [i for i in registered if i < block and has("registered", texts[i])]
    chosen = formed + [i for i in registered if i < block] + trade + companies + headed + registered
    name = _name_at(top, chosen[0]) if chosen else None
    return repaired(name) if name else None
