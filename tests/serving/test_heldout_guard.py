"""The held-out real documents stay held out: listed with their hashes, never in the develop
pile, and never opened by what the parser rules and the capture threshold were tuned with
(the develop transcripts, ``test_real_values.py``; the light measure on develop photos).

Hashes see bytes only: a held-out source re-encoded into another pile escapes them (SROIE 324,
held-out as ``typed/heldout/pharmacy-sroie-324``, was drawn re-encoded into ``sroie/develop``
in session 28 and tuned on). So every label also names its source, and no source is in a
held-out pile and in another pile (``test_no_held_out_source_is_in_another_pile``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
from modelplane_inference.documents.capture import light_evenness
from modelplane_models.training_data import recording
from serving.korean_text import KOREAN
from serving.real_documents import (
    DATA,
    DOCUMENTS,
    HELDOUT_LIST,
    documents,
    heldout_files,
    sha256,
    sroie_test_split,
)

LABELLED = (DOCUMENTS, KOREAN)  # the labelled sets: every <set>/<pile>/<name>.json is a label
LABEL_PILES = ("develop", "heldout")
# A source written as a bare path names its repository by its first folder (the piles'
# PROVENANCE.md): SROIE's ``data/img/<key>.jpg``, the German till scans, the worksheets.
REPOSITORY_OF_PATH = {
    "data/img/": "zzzDavid/ICDAR-2019-SROIE",
    "2D/Receipts/": "softmatic/vision-data",
    "Exemples/": "dataforgoodfr/batch9_dyslexia",
}
SROIE_NAME = re.compile(r"sroie-(\d{3})$")  # sroie-324, pharmacy-sroie-324: the SROIE key


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
    assert len(transcripts) == 428 and len(light) == 5
    assert any(p.is_relative_to(DOCUMENTS) for p in opened)  # the hook does see the reads
    assert not {p.resolve() for p in opened} & heldout_files()


def labels() -> dict[Path, dict[str, object]]:
    """Every label of the labelled piles (``<set>/<pile>/<name>.json``), by path."""
    paths = [p for root in LABELLED for p in root.glob("**/*.json") if p.parent.name in LABEL_PILES]
    return {p: json.loads(p.read_text("utf-8")) for p in sorted(paths)}


def identity(source: str) -> str:
    """``repository: path`` of a source, without the commit (one file at two commits is one
    source): ``owner/repo@commit: path`` and ``owner/repo: path`` as written, a bare path with
    the repository its first folder names (``REPOSITORY_OF_PATH``)."""
    repository, named, path = source.partition(": ")
    if named:
        return f"{repository.split('@')[0]}: {path.strip()}"
    found = [repo for prefix, repo in REPOSITORY_OF_PATH.items() if source.startswith(prefix)]
    assert found, f"a source that names no known repository: {source!r}"
    return f"{found[0]}: {source}"


def sources() -> dict[Path, str]:
    """Each label's source identity, from the ``source`` every label names."""
    out = {}
    for path, label in labels().items():
        source = label.get("source")
        assert isinstance(source, str), f"{path}: a label must name its source"
        out[path] = identity(source)
    return out


def test_every_label_names_its_source() -> None:
    """Labels of every labelled pile name their source; a SROIE copy's name and source agree."""
    found = sources()
    assert len(found) >= 577  # 520 SROIE, 19 photos, 25 typed, 13 Korean
    for path, source in found.items():
        key = SROIE_NAME.search(path.stem)  # a SROIE copy's name and source say one key
        assert key is None or source == identity(f"data/img/{key[1]}.jpg"), path


def test_no_held_out_source_is_in_another_pile() -> None:
    """By source, not bytes: a held-out page re-encoded, renamed or moved to a set of another
    kind (a SROIE receipt in ``typed/``) is still the held-out page."""
    found = sources()
    held = {s for p, s in found.items() if p.parent.name == "heldout"}
    others = {s: p for p, s in found.items() if p.parent.name != "heldout"}
    assert len(held) >= 150 and len(others) >= 350
    leaked = sorted(str(others[s].relative_to(DATA)) for s in held & set(others))
    assert not leaked, f"held-out sources also in another pile: {leaked}"


def test_no_held_out_receipt_is_in_the_test_split() -> None:
    """The SROIE test split (a develop pile, lines only) shares receipts with the train split
    our piles come from: byte-identical images and company + date + total twins were left out
    when it was made (``models/data/ingest_sroie_test.py``). Checked here against the held-out
    labels themselves: no held-out SROIE receipt's company, date and total are a test-split
    receipt's."""

    def key(label: dict[str, object]) -> tuple[object, ...]:
        fields = label["fields"]
        assert isinstance(fields, dict)
        return fields["institution"], fields["date"], fields["total_amount"]

    held = {
        key(label)
        for path, label in labels().items()
        if path.parent.name == "heldout" and str(label.get("source", "")).startswith("data/img/")
    }
    split = {name: key(receipt["label"]) for name, receipt in sroie_test_split().items()}
    assert len(held) >= 150 and len(split) == 332
    twins = sorted(name for name, fields in split.items() if fields in held)
    assert not twins, f"test-split receipts that are held-out receipts: {twins}"
