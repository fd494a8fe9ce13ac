"""The held-out real documents stay held out: listed with their hashes, never in the develop
pile, and never opened by what the parser rules and the capture threshold were tuned with
(the develop transcripts, ``test_real_values.py``; the light measure on develop photos)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from modelplane_inference.documents.capture import light_evenness
from modelplane_models.training_data import recording
from serving.korean_text import KOREAN
from serving.real_documents import DATA, DOCUMENTS, HELDOUT_LIST, documents, heldout_files, sha256


def listed() -> dict[Path, str]:
    """Held-out path -> its listed sha256."""
    return {
        (DATA / path.strip()).resolve(): digest
        for digest, path in (
            line.split(maxsplit=1) for line in HELDOUT_LIST.read_text().split("\n") if line
        )
    }


def test_every_held_out_document_is_listed_with_its_hash() -> None:
    hashes = listed()
    held = [p for p in DOCUMENTS.glob("*/heldout/*") if p.is_file()]
    assert len(held) >= 108  # 40 receipts + 14 photos, image and label each
    for path in held:
        assert hashes.get(path.resolve()) == sha256(path), path


def test_every_held_out_korean_image_is_listed_with_its_hash() -> None:
    hashes = listed()
    held = [p for p in (KOREAN / "heldout").iterdir() if p.is_file()]
    assert len(held) >= 6  # 1 handwritten image + 2 document pages, image and label each
    for path in held:
        assert hashes.get(path.resolve()) == sha256(path), path
    develop = {sha256(p) for p in (KOREAN / "develop").iterdir() if p.is_file()}
    assert develop and not develop & {sha256(p) for p in held}


def test_no_held_out_file_is_in_the_develop_pile() -> None:
    held = {sha256(p) for p in heldout_files() if p.is_file()}
    develop = [p for p in DOCUMENTS.glob("*/develop/*") if p.is_file()]
    assert develop and not held & {sha256(p) for p in develop}


def test_tuning_opens_no_held_out_file() -> None:
    """What the rules and the capture threshold were chosen on reads the develop pile only."""
    with recording() as opened:
        docs = documents("develop")
        transcripts = [doc.label["lines"] for doc in docs]
        photos = [d.image.read_bytes() for d in docs if d.source == "photos"]  # open() audited
    light = [
        light_evenness(cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR)) for b in photos
    ]
    assert len(transcripts) == 265 and len(light) == 5
    assert any(p.is_relative_to(DOCUMENTS) for p in opened)  # the hook does see the reads
    assert not {p.resolve() for p in opened} & heldout_files()
