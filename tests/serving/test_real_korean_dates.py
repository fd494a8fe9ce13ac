"""Korean dates (``parsing/values.py``) on text printed on real Korean pages: every line below
is checked to be in the transcript of a develop page of ``models/data/korean-text`` (a National
Assembly bill and the minutes of a committee meeting, labelled from the pages' own text layer),
so the rule is held by paper nobody here made, as test_real_values.py holds the Latin rules
with SROIE receipts. The expected dates are read off the printed lines by hand.

Two pages also go through the served ``documents`` endpoint, where the date must survive OCR:
the bill's ``발의연월일 : 2023. 11. 9.`` (year first with dots and spaces) and the minutes'
``2024년5월7일(화)`` (year, month, day words with no spaces, a weekday after).
"""

from __future__ import annotations

from functools import cache

import pytest
from modelplane_inference.documents.parsing.values import parse_date
from serving.calls import call
from serving.korean_text import images
from serving.servers import Server

pytestmark = pytest.mark.timeout(600)  # two real pages through Tesseract on a loaded machine


@cache
def printed(name: str) -> frozenset[str]:
    """The printed lines of one develop Korean page."""
    (page,) = [i for i in images("develop") if i.name == name]
    return frozenset(line["text"] for line in page.label["lines"])


@pytest.mark.parametrize(
    ("page", "line", "date"),
    [
        ("assembly-minutes-414-p1", "일 시 2024년5월7일(화)", "2024-05-07"),
        ("assembly-minutes-414-p1", "제414회-환경노동제1차(2024년5월7일) 1", "2024-05-07"),
        ("assembly-minutes-414-p18", "18 제414회-환경노동제1차(2024년5월7일)", "2024-05-07"),
        ("assembly-minutes-414-p6", "2024년 1월 31일 자로 녹색정의당의 양경규", "2024-01-31"),
        ("assembly-bill-2125318-p1", "발의연월일 : 2023. 11. 9.", "2023-11-09"),
    ],
)
def test_a_korean_date_printed_on_a_real_page(page: str, line: str, date: str) -> None:
    assert line in printed(page), f"{line!r} is not printed on {page}"
    assert parse_date(line) == date


@pytest.mark.parametrize(
    ("page", "line"),
    [
        # A year alone ("the 2023 audit") is no date; neither is a session number.
        ("assembly-minutes-414-p1", "1. 2023년도 국정감사 결과보고서 채택의 건"),
        ("assembly-minutes-414-p6", "오늘 회의는 먼저 2023년도 국정감사 결과보"),
    ],
)
def test_a_year_alone_on_a_real_page_is_no_date(page: str, line: str) -> None:
    assert line in printed(page), f"{line!r} is not printed on {page}"
    assert parse_date(line) is None


@pytest.mark.parametrize(
    ("page", "date"),
    [("assembly-bill-2125318-p1", "2023-11-09"), ("assembly-minutes-414-p1", "2024-05-07")],
)
def test_a_korean_date_comes_through_the_served_endpoint(
    examples_server: Server, page: str, date: str
) -> None:
    (image,) = [i for i in images("develop") if i.name == page]
    answer = call(examples_server, "grpc", "documents", image=image.image.read_bytes())
    assert answer["fields"]["date"] == date, answer["fields"]
