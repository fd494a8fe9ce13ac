"""Bad requests get a 4xx with a JSON error naming the problem, and the server keeps serving.

Each case sends the bad request, checks the status and the message, then sends a good request
to the same model and checks it succeeds.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from serving.calls import PROTOCOLS, blank_frame, bytes_input, call, call_error, dog_photo, png
from serving.servers import Server

HUGE_SIDE = 7000  # 49 MP: over the 40 MP default limit, small as a PNG of one colour
FEATURES = {"age_years": 2, "weight_kg": 9.0, "sex": "male", "neutered": False, "region": 0}


def post(server: Server, model: str, body: Any, v1: bool = False) -> tuple[int, dict[str, Any]]:
    """A raw REST call (v2, or KServe's V1 ``:predict``), to see the status code and the JSON
    body themselves."""
    path = f"v1/models/{model}:predict" if v1 else f"v2/models/{model}/infer"
    request = urllib.request.Request(
        f"http://{server.http}/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def still_serving(server: Server, protocol: str) -> None:
    result = call(server, protocol, "car-claims", image=blank_frame())
    assert result["estimable"] is False


def truncated_png() -> bytes:
    data = png(np.random.default_rng(0).integers(0, 256, (200, 200, 3)))
    return data[: len(data) // 2]


def huge_png() -> bytes:
    return png(np.zeros((HUGE_SIDE, HUGE_SIDE, 3), dtype=np.uint8))


IMAGE_CASES = {
    "not-an-image": (b"%PDF-1.4 this is not a picture", "not an image"),
    "empty": (b"", "empty"),
    "truncated": (truncated_png(), "truncated"),
    "huge": (huge_png(), "too large"),
}


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", sorted(IMAGE_CASES))
def test_bad_images(examples_server: Server, protocol: str, case: str) -> None:
    data, words = IMAGE_CASES[case]
    status, message = call_error(
        examples_server, protocol, "car-claims", [bytes_input(protocol, "image", data, image=True)]
    )
    assert status in ("400", "StatusCode.INVALID_ARGUMENT"), (status, message)
    assert words in message, message
    still_serving(examples_server, protocol)


def test_rest_error_is_json_with_status_400(examples_server: Server) -> None:
    status, body = post(
        examples_server,
        "documents",
        {
            "inputs": [
                {"name": "image", "shape": [1], "datatype": "BYTES", "data": ["bm90IGFuIGltYWdl"]}
            ]
        },
    )
    assert status == 400
    assert "not an image" in body["error"]
    still_serving(examples_server, "http")


def test_wrong_datatype(examples_server: Server) -> None:
    status, body = post(
        examples_server,
        "car-claims",
        {"inputs": [{"name": "image", "shape": [3], "datatype": "FP32", "data": [1.0, 2.0, 3.0]}]},
    )
    assert status == 400
    assert "BYTES" in body["error"] and "image" in body["error"]
    still_serving(examples_server, "http")


def test_wrong_input_name(examples_server: Server) -> None:
    status, body = post(
        examples_server,
        "car-quality-gate",
        {"inputs": [{"name": "picture", "shape": [1], "datatype": "BYTES", "data": ["eA=="]}]},
    )
    assert status == 400
    assert "missing input 'image'" in body["error"]
    still_serving(examples_server, "http")


IMAGE_TENSOR = {"name": "image", "shape": [1], "datatype": "BYTES", "data": ["eA=="]}
PIPELINE_CASES = {
    "unknown-input": ({"inputs": [{**IMAGE_TENSOR, "name": "picture"}]}, False, "takes inputs"),
    "extra-input": ({"inputs": [IMAGE_TENSOR, {**IMAGE_TENSOR, "name": "x"}]}, False, "takes"),
    "no-input": ({"inputs": []}, False, "takes inputs"),
    "v1-body": ({"instances": [{"image": {"b64": "eA=="}}]}, True, "Open Inference Protocol v2"),
}


@pytest.mark.parametrize("case", PIPELINE_CASES)
def test_pipeline_input_contract(examples_server: Server, case: str) -> None:
    """A pipeline takes any of its inputs, at least one and none other, over v2 only (a stage
    also speaks V1 for the graph router): what PipelineModel changes of the stages' wire side."""
    body, v1, words = PIPELINE_CASES[case]
    status, answer = post(examples_server, "car-claims", body, v1)
    assert status == 400, answer
    assert words in answer["error"], answer
    still_serving(examples_server, "http")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_wrong_tensor_shape_on_a_raw_model(examples_server: Server, protocol: str) -> None:
    import tritonclient.http as httpclient

    module = grpcclient if protocol == "grpc" else httpclient
    bad = np.zeros((1, 3, 17, 17), dtype=np.float32)
    tensor = module.InferInput("image", list(bad.shape), "FP32")
    tensor.set_data_from_numpy(bad)
    status, message = call_error(examples_server, protocol, "quality-gate", [tensor])
    assert status in ("400", "StatusCode.INVALID_ARGUMENT"), (status, message)
    assert "shape" in message and "image" in message, message
    wrong_type = module.InferInput("image", list(bad.shape), "INT64")
    wrong_type.set_data_from_numpy(bad.astype(np.int64))
    status, message = call_error(examples_server, protocol, "quality-gate", [wrong_type])
    assert "int64" in message and "float32" in message, message
    still_serving(examples_server, protocol)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unknown_model(examples_server: Server, protocol: str) -> None:
    status, message = call_error(
        examples_server,
        protocol,
        "no-such-pipeline",
        [bytes_input(protocol, "image", blank_frame(), image=True)],
    )
    assert status in ("404", "StatusCode.NOT_FOUND"), (status, message)
    assert "no-such-pipeline" in message
    still_serving(examples_server, protocol)


@pytest.mark.parametrize(
    ("features", "words"),
    [
        ({k: v for k, v in FEATURES.items() if k != "weight_kg"}, "weight_kg"),
        ({**FEATURES, "region": "atlantis"}, "region"),
        ({**FEATURES, "age_years": "old"}, "age_years"),
        ({**FEATURES, "sex": "unknown"}, "sex"),
    ],
)
def test_bad_features(examples_server: Server, features: dict[str, Any], words: str) -> None:
    status, message = call_error(
        examples_server,
        "grpc",
        "pet-premium",
        [
            bytes_input("grpc", "image", blank_frame(), image=True),
            bytes_input("grpc", "features", json.dumps(features).encode()),
        ],
    )
    assert status == "StatusCode.INVALID_ARGUMENT"
    assert words in message, message
    # A dog of a known breed still gets a price (a blank frame gets no quote since the open set).
    assert (
        call(examples_server, "grpc", "pet-premium", image=dog_photo(seed=5), features=FEATURES)[
            "premium"
        ]
        > 0
    )


def test_features_not_json(examples_server: Server) -> None:
    status, message = call_error(
        examples_server,
        "http",
        "pet-premium",
        [
            bytes_input("http", "image", blank_frame(), image=True),
            bytes_input("http", "features", b"{age: 3"),
        ],
    )
    assert status == "400"
    assert "features" in message and "JSON" in message
    still_serving(examples_server, "http")
