"""What one line of a page's header says about the institution that issued it, by its text
alone: a legal form or company number, a business word, an address or contact, a name (and
OCR's misreads of one undone). ``institution.py`` reads the layout (which lines, in what order,
joined how) with these.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache

from modelplane_inference.documents.parsing.doctypes import title_pattern
from modelplane_inference.documents.parsing.labels import table
from modelplane_inference.documents.parsing.values import parse_date, parse_text

MIN_LETTERS = 3  # a name has at least this many letters
SENTENCE_WORDS = 4  # a notice line ("Goods Sold Are Not Returnable.") has this many words
NAME_DIGITS = 0.5  # a company's name prints at most this many digits a letter (a code, more)
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
# 3HD", "SDN HHD", "SIN HHU", "SEN BD", "SBN BHT", "SDN EHU", "SUN BHO" (develop pile), "SDN BHI"
# (test split).
SDN_BHD = r"s[deioulb0]n?(?:\W*[b3r8he]h|\W+b)[dupoti]"
# A postcode and town ("81100 JOHOR BAHRU", "33100 Paderborn", "3012 CN Rotterdam").
POSTCODE = re.compile(r"(?<!\w)\d{4,5}\s*(?:[A-Z]{2}\s+)?[^\W\d_]{3,}")
# A phone number: digits in groups ("05251/1809732", "(603)62435520", "016-7574666"), at
# least ``PHONE_DIGITS`` of them, not a date; one long run is an invoice or article number.
PHONE = re.compile(r"(?<![\d.,])\+?\(?\d+(?:[\s()/-]+\d+)+(?![\d.,])")
PHONE_DIGITS = 8
_LETTER = r"[^\W\d_]"
# OCR's "S/B" (Sendirian Berhad): "5/B" (also glued to the word before it), "S/R", "S/8", "S/9".
S_B = rf"(?:(?<!{_LETTER})s|5)\s?/\s?[b8r9]"
# A digit OCR read for the letter it looks like, between letters ("KMF F00DICI0US SDN BHD").
DIGIT_LETTERS = str.maketrans("0158", "OISB")
# Stars and rules printed around a sign ("**Royal tea**", "==KEDAI=="): no part of its name.
DECORATION = "*=~#_ "


def _words_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """Any of ``words`` as a whole word (no letter touching either end), spaces and punctuation
    between its parts free ("s/b" matches "S / B")."""
    parts = []
    for word in words:
        tokens = [re.escape(t) for t in re.findall(r"\w+|[^\w\s]", word.lower())]
        parts.append(r"\W*".join(tokens))
    return re.compile(rf"(?<!{_LETTER})(?:{'|'.join(parts)})(?!{_LETTER})", re.IGNORECASE)


@cache
def patterns() -> dict[str, re.Pattern[str]]:
    """The ``institution_words`` lists as patterns; ``registered`` also matches ``SDN_BHD``."""
    words = table()["institution_words"]
    out = {kind: _words_pattern([str(w) for w in words[kind]]) for kind in words}
    registered = out["registered"].pattern
    out["registered"] = re.compile(
        rf"(?<!{_LETTER}){SDN_BHD}(?!{_LETTER})|{registered}", re.IGNORECASE
    )
    return out


def plain(text: str) -> str:
    return text.replace("\uff08", "(").replace("\uff09", ")").replace("\uff1a", ":")


def has(kind: str, text: str) -> bool:
    """``text`` holds a word of ``institution_words[kind]``; a title or greeting (``not_name``)
    also with OCR's spaces inside it ("TAX INVOI CE")."""
    if kind == "not_name":
        words = table()["institution_words"][kind]
        return any(title_pattern(str(w)).search(text.lower()) for w in words)
    return patterns()[kind].search(plain(text)) is not None


def contact(text: str) -> bool:
    """A phone, fax, e-mail, web or tax-number line: what a letterhead has and an address
    block (a recipient's) has not."""
    if has("contact", text):
        return True
    numbers = PHONE.finditer(REGISTRATION.sub(" ", plain(text)))
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
    found = REGISTRATION.search(plain(text))
    return found is not None and not any(c.isalpha() for c in text[: found.start()])


def name_of(text: str) -> str | None:
    """The name a line prints: its text before a company number and after a caption's colon,
    cut after its legal form."""
    text = plain(text)
    found = REGISTRATION.search(text)
    if found is not None:
        before = text[: found.start()]
        text = before if any(c.isalpha() for c in before) else REGISTRATION.sub(" ", text)
    _, colon, after = text.rpartition(":")
    if colon and sum(c.isalpha() for c in after) >= MIN_LETTERS:
        text = after  # "Owned by: ... SDN BHD": the name is after its caption
    legal = list(patterns()["registered"].finditer(text))
    if legal:
        text = text[: legal[-1].end()]
    # A line that says it is a company (a legal form, company number or business word) prints
    # its digits as a name does ("Triple Six Point Enterprise 666", OCR's "KMF F00DICI0US SDN
    # BHD"); a unit number ("K3-113,JL IBRAHIM SULTAN") stays no name.
    company = found is not None or bool(legal) or has("trade", text)
    text = " ".join(text.split()).strip(DECORATION)  # "**Royal tea**": a sign's stars
    return parse_text(text, NAME_DIGITS if company else 0.0)


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


def words_beyond_form(name: str) -> int:
    """How many words a name prints besides its legal form: 0 for a bare legal form, 1 for one
    word more. OCR's space inside one legal form or business word ("CORPORAT ION S/B", "STAT
    IONERY SDN.BHD") does not make it two."""
    registered, trade = patterns()["registered"], patterns()["trade"]
    rest = registered.sub(" ", name)
    glued = re.sub(r"\W", "", rest)
    if glued and registered.fullmatch(glued):
        return 0
    if glued and trade.fullmatch(glued):
        return 1
    return sum(sum(c.isalpha() for c in w) > 1 for w in rest.split())


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
