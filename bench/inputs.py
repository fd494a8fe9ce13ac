"""The inputs every bench mode sends: the same encoded bytes for the server and the baselines.

Car and dog photos come from the synthetic generators the models were trained on
(``modelplane_models.synth``), upscaled to 1280x960 JPEG so decode costs what a phone upload
costs; documents are the tests' rendered receipts and claim forms (``tests/serving/documents``),
PNG as a scanner app sends them.
"""

from __future__ import annotations

import io
import sys
from functools import cache

import numpy as np
from PIL import Image

from bench.common import ROOT

PHOTO_SIZE = (1280, 960)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").resize(PHOTO_SIZE, Image.Resampling.BILINEAR).save(
        buffer, format="JPEG", quality=90
    )
    return buffer.getvalue()


@cache
def car_photos(count: int = 8) -> tuple[bytes, ...]:
    from modelplane_models.synth import cars

    rng = np.random.default_rng(7)
    return tuple(_jpeg(cars.accepted(rng)) for _ in range(count))


@cache
def dog_photos(count: int = 8) -> tuple[bytes, ...]:
    from modelplane_models.synth import dogs

    rng = np.random.default_rng(11)
    makers = list(dogs.generators().values())
    return tuple(_jpeg(makers[i % len(makers)](rng)) for i in range(count))


@cache
def documents(count: int = 4) -> tuple[bytes, ...]:
    """English receipts and claim forms, alternating (Korean goes through Tesseract instead)."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from serving.documents import render_document

    kinds = ("receipt", "claim_form")
    return tuple(render_document(100 + i, "en", kinds[i % 2]).png for i in range(count))


@cache
def receipts(count: int = 4) -> tuple[bytes, ...]:
    """Real scanned receipts (ICDAR-2019 SROIE, the develop half of models/data/documents/sroie;
    provenance there), as the scanner sent them (JPEG): the documents issue's real pages."""
    folder = ROOT / "models" / "data" / "documents" / "sroie" / "develop"
    files = sorted(folder.glob("*.jpg"))[:count]
    if len(files) < count:
        raise FileNotFoundError(f"{folder} holds {len(files)} receipts, {count} needed")
    return tuple(path.read_bytes() for path in files)


# pages a document benchmark can be run on: the generator's, or real scanned receipts
PAGES = {"documents": documents, "receipts": receipts}
# bench target (a ModelDeployment or ModelPipeline of manifests/examples) -> its inputs
TARGETS = {
    "car-quality-gate": car_photos,
    "pet-breed": dog_photos,
    "documents": documents,
}
