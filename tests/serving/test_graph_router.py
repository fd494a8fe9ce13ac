"""Stages chained the way KServe's InferenceGraph router chains them in a cluster.

The router POSTs the client's body to the first step and, for ``data: $response``, the previous
step's response body as is to the next, on the V1 endpoint (``/v1/models/<name>:predict``). A
modelplane stage therefore takes ``{"instances": [...]}`` or a previous ``{"predictions": [...]}``
and answers ``{"predictions": [...]}`` carrying the request's fields forward, so each step still
has the image or features it needs. These tests play the router's part with plain HTTP posts.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

from serving.calls import blank_frame, dog_photo
from serving.documents import render_document
from serving.servers import Server


def v1(server: Server, model: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://{server.http}/v1/models/{model}:predict",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_documents_sequence_over_responses(examples_server: Server) -> None:
    doc = render_document(seed=77, language="en", document_type="receipt")
    status, detected = v1(
        examples_server, "doc-text-detection", {"instances": [{"image": b64(doc.png)}]}
    )
    assert status == 200 and detected["predictions"][0]["boxes"]
    status, recognised = v1(examples_server, "doc-text-recognition", detected)  # $response
    assert status == 200 and recognised["predictions"][0]["lines"]
    status, parsed = v1(examples_server, "doc-parse", recognised)  # $response
    assert status == 200
    fields = parsed["predictions"][0]["fields"]
    assert fields["total_amount"] == doc.total_amount
    assert fields["document_number"] == doc.document_number


def test_pet_sequence_carries_the_features(examples_server: Server) -> None:
    features = {"age_years": 5, "weight_kg": 30.0, "sex": "male", "neutered": False, "region": 0}
    status, breed = v1(
        examples_server,
        "pet-breed",
        {"instances": [{"image": b64(dog_photo(seed=12)), "features": features}]},
    )
    assert status == 200 and breed["predictions"][0]["features"] == features
    status, premium = v1(examples_server, "pet-premium-regressor", breed)  # $response
    assert status == 200
    row = premium["predictions"][0]
    assert row["premium"] > 0 and row["breed"] == breed["predictions"][0]["breed"]


def test_gate_answer_is_what_a_condition_reads(examples_server: Server) -> None:
    status, gate = v1(
        examples_server, "car-quality-gate", {"instances": [{"image": b64(blank_frame())}]}
    )
    assert status == 200 and gate["predictions"][0]["estimable"] is False
    status, error = v1(examples_server, "car-quality-gate", {"instances": [{"image": "@@"}]})
    assert status == 400 and "base64" in error["error"]
    status, error = v1(examples_server, "car-quality-gate", {"rows": []})
    assert status == 400 and "instances" in error["error"]
