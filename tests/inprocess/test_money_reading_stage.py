"""The served text-recognition stage's second reading of damaged amounts, in-process.

The stage is built as ``modelplane serve`` builds it (the examples' ``documents.yaml``, the
real CTC model of ``models/repository``, the real Tesseract); the page is a real SROIE develop
receipt with boxes the endpoint found on it. Held-out receipts are never opened here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from modelplane_inference.documents import money_reading
from modelplane_inference.serving.manifests import load_manifests
from modelplane_inference.serving.server import ServeOptions, build_models
from modelplane_inference.stages.base import Stage

ROOT = Path(__file__).resolve().parents[2]
RECEIPT = ROOT / "models" / "data" / "documents" / "sroie" / "develop" / "sroie-014.jpg"
# sroie-014: CTC reads the unit price 2.30 as "230"; the other lines print cents (a page
# needs 3 amounts with cents to be a cents page, the parser's CENTS_PAGE), and the item code
# at the left, in the code column, is not read again
BOXES = [
    [[351, 1003], [406, 1003], [406, 1033], [351, 1033]],  # "230"
    [[458, 1006], [513, 1006], [513, 1036], [458, 1036]],  # "2.44"
    [[608, 1008], [662, 1010], [660, 1040], [606, 1038]],  # "2.44"
    [[456, 1086], [511, 1086], [511, 1116], [456, 1116]],  # "1.60"
    [[62, 998], [134, 998], [134, 1023], [62, 1023]],  # "88880": an item code at the left
]


class RecordingPool(ThreadPoolExecutor):
    """A real thread pool that notes which functions it was given to run."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.given: list[Callable[..., Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.given.append(getattr(fn, "func", fn))  # off_loop hands over a functools.partial
        return super().submit(fn, *args, **kwargs)


@pytest.fixture(scope="module")
def recognition() -> Iterator[Stage]:
    deployments, _ = load_manifests(ROOT / "manifests" / "examples" / "documents.yaml")
    mine = [d for d in deployments if d.name == "doc-text-recognition"]
    options = ServeOptions(repository=ROOT / "models" / "repository", raw_models=False)
    (stage,) = build_models(mine, [], options)
    assert isinstance(stage, Stage)
    yield stage
    stage.stop()


def test_money_crops_are_cut_in_the_thread_pool(recognition: Stage) -> None:
    """The 9 crops per damaged line are cut by ``off_loop`` in the loop's thread pool, not on
    the event loop that serves every other request; the line is still repaired (2.30)."""
    pool = RecordingPool()

    async def read() -> dict[str, Any]:
        asyncio.get_running_loop().set_default_executor(pool)
        return await recognition.run({"image": RECEIPT.read_bytes(), "boxes": BOXES})

    try:
        answer = asyncio.run(read())
    finally:
        pool.shutdown()
    assert money_reading.second_crops in pool.given
    first, code = answer["lines"][0], answer["lines"][-1]
    assert (first["text"], first["recognizer"].endswith("-money")) == ("2.30", True), first
    assert code["recognizer"] == "ctc", code


# (receipt, its boxes as the endpoint found them, the damaged line first, then three lines
# with cents; the repaired text; a reader that must be among those that agreed)
REPAIRS = [
    # "4150" (printed 41.50): CTC reads the wider crops "41 50", the point as a gap;
    # Tesseract reads 41.56 there, which does not agree (a digit changed) and is not counted
    (
        "sroie-263",
        [
            [[575, 839], [645, 836], [646, 864], [576, 866]],
            [[576, 763], [644, 761], [645, 787], [577, 790]],
            [[590, 800], [645, 800], [645, 825], [590, 825]],
            [[580, 918], [645, 918], [645, 942], [580, 942]],
        ],
        "41.50",
        "ctc",
    ),
    # "15.0C" (printed 15.00, faint dot matrix): only CTC on the thickened crop reads 15.00
    (
        "sroie-008",
        [
            [[608, 546], [646, 546], [646, 565], [608, 565]],
            [[539, 545], [577, 545], [577, 564], [539, 564]],
            [[607, 587], [646, 587], [646, 606], [607, 606]],
            [[537, 628], [576, 628], [576, 647], [537, 647]],
        ],
        "15.00",
        "ctc-thick",
    ),
]


@pytest.mark.parametrize(("name", "boxes", "kept", "reader"), REPAIRS)
def test_the_stage_repairs_real_damaged_amounts(
    recognition: Stage, name: str, boxes: list[list[list[int]]], kept: str, reader: str
) -> None:
    image = (RECEIPT.parent / f"{name}.jpg").read_bytes()
    answer = asyncio.run(recognition.run({"image": image, "boxes": boxes}))
    first = answer["lines"][0]
    readers = first["recognizer"].removeprefix("ctc+").removesuffix("-money").split("+")
    assert (first["text"], reader in readers) == (kept, True), first
