"""Every example pipeline and stage over tritonclient HTTP and gRPC against ``modelplane serve``.

Answers are checked for their contract (fields, types), for agreement between the two
protocols on the same input, and against what the input itself implies (a blank frame has no
edges, so no gate may call it estimable).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from serving.calls import (
    PROTOCOLS,
    blank_frame,
    call,
    dog_photo,
    infer_raw,
    jpeg,
    textured_frame,
)
from serving.documents import render_document
from serving.servers import Server

FEATURES = {"age_years": 4, "weight_kg": 18.5, "sex": "female", "neutered": True, "region": 0}


def labels(repository: Path, model: str, name: str = "labels.txt") -> list[str]:
    return (repository / model / name).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_server_health_and_model_list(examples_server: Server, protocol: str) -> None:
    client = examples_server.grpc_client() if protocol == "grpc" else examples_server.http_client()
    try:
        assert client.is_server_live() and client.is_server_ready()
        for model in (
            "car-claims",
            "documents",
            "documents-korean",
            "pet-premium",
            "car-quality-gate",
            "doc-parse",
            "text-detection",
        ):
            assert client.is_model_ready(model), model
    finally:
        client.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_car_claims_rejects_blank_frame(examples_server: Server, protocol: str) -> None:
    result = call(examples_server, protocol, "car-claims", image=blank_frame())
    assert set(result) == {"estimable", "reasons", "sharpness", "distance"}
    assert result["estimable"] is False
    assert result["reasons"], "a rejected photo must carry its reasons"
    assert isinstance(result["sharpness"], float) and isinstance(result["distance"], float)


def test_car_claims_same_answer_over_both_protocols(examples_server: Server) -> None:
    photo = jpeg(np.random.default_rng(3).integers(0, 256, (300, 400, 3)))
    over_http = call(examples_server, "http", "car-claims", image=photo)
    over_grpc = call(examples_server, "grpc", "car-claims", image=photo)
    assert over_http == over_grpc


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_pet_premium_contract(examples_server: Server, repository: Path, protocol: str) -> None:
    photo = dog_photo(seed=5)
    result = call(examples_server, protocol, "pet-premium", image=photo, features=FEATURES)
    assert set(result) == {"breed", "breed_score", "premium"}
    assert result["breed"] in labels(repository, "breed")
    assert 0.0 < result["breed_score"] <= 1.0
    assert result["premium"] > 0
    other = call(
        examples_server,
        "grpc" if protocol == "http" else "http",
        "pet-premium",
        image=photo,
        features=FEATURES,
    )
    assert other == result


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_documents_pipeline_reads_a_receipt(examples_server: Server, protocol: str) -> None:
    doc = render_document(seed=7, language="en", document_type="receipt")
    result = call(examples_server, protocol, "documents", image=doc.png)
    assert set(result) == {
        "document_type",
        "fields",
        "confidence",
        "currency",
        "needs_review",
        "line_items",
        "lines",
        "orientation",
        "exif_orientation",
    }
    assert (result["orientation"], result["exif_orientation"]) == (0, 1)  # upright, no EXIF
    assert result["document_type"] == "receipt"
    assert result["fields"]["total_amount"] == doc.total_amount
    assert result["fields"]["date"] == doc.date
    line = result["lines"][0]
    assert set(line) == {"text", "box", "score", "recognizer", "script"}
    assert len(line["box"]) == 4 and all(len(p) == 2 for p in line["box"])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_single_stages(examples_server: Server, repository: Path, protocol: str) -> None:
    """Each ModelDeployment is a model of its own, with the same wire contract."""
    doc = render_document(seed=11, language="en", document_type="claim_form")
    detected = call(examples_server, protocol, "doc-text-detection", image=doc.png)
    assert len(detected["boxes"]) == len(detected["scores"]) >= 10
    recognised = call(
        examples_server, protocol, "doc-text-recognition", image=doc.png, boxes=detected["boxes"]
    )
    texts = [line["text"] for line in recognised["lines"]]
    assert any(doc.document_number in text for text in texts), texts
    parsed = call(examples_server, protocol, "doc-parse", lines=recognised["lines"])
    assert parsed["fields"]["document_number"] == doc.document_number
    gate = call(examples_server, protocol, "car-quality-gate", image=blank_frame())
    assert gate["estimable"] is False
    breed = call(examples_server, protocol, "pet-breed", image=dog_photo(seed=3))
    assert breed["breed"] in labels(repository, "breed")
    assert breed["top"][0]["breed"] == breed["breed"]
    premium = call(
        examples_server,
        protocol,
        "pet-premium-regressor",
        features={**FEATURES, "breed": breed["breed"]},
    )
    assert premium["premium"] > 0 and premium["breed"] == breed["breed"]


def test_raw_model_speaks_triton_tensors(examples_server: Server, repository: Path) -> None:
    """Repository models are served under their Triton names with tensors in and out, as
    Triton serves them (what a modelplane-transformer calls)."""
    import tritonclient.grpc as grpcclient

    client = examples_server.grpc_client()
    meta = client.get_model_metadata("quality-gate", as_json=True)
    client.close()
    assert [i["name"] for i in meta["inputs"]] == ["image"]
    shape = [int(d) for d in meta["inputs"][0]["shape"]]
    assert shape[0] == -1
    dims = shape[1:]
    batch = np.full((2, *dims), 0.5, dtype=np.float32)
    tensor = grpcclient.InferInput("image", list(batch.shape), "FP32")
    tensor.set_data_from_numpy(batch)
    result = infer_raw(examples_server, "grpc", "quality-gate", [tensor])
    assert result.as_numpy("estimable").shape == (2, 1)
    assert not result.as_numpy("estimable").any()  # a flat grey tensor has no edges
    assert result.as_numpy("reasons").shape[0] == 2


def test_batch_of_items_in_one_request(examples_server: Server) -> None:
    """A BYTES input with several elements is several items; the answer keeps their order."""
    import tritonclient.grpc as grpcclient

    frames = [blank_frame(), textured_frame(seed=1), blank_frame(40)]
    tensor = grpcclient.InferInput("image", [len(frames)], "BYTES")
    tensor.set_data_from_numpy(np.array(frames, dtype=np.object_))
    out = infer_raw(examples_server, "grpc", "car-quality-gate", [tensor]).as_numpy("result")
    results = [json.loads(raw) for raw in out]
    assert len(results) == 3
    singles = [call(examples_server, "grpc", "car-quality-gate", image=f) for f in frames]
    assert results == singles
