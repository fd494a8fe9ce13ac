"""The REST surface under hostile input: fixed bad requests, then hypothesis-generated ones.

Every answer is either a success or the V2 error JSON ``{"error": "..."}`` with a documented
status: 400 (bad request), 404 (no such model or route), 405, 413 (body over the limit), 429
(model full), 504 (timeout). A 500 is a bug: the server failed to say what was wrong. After each
batch of inputs the server must still serve a good request.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability.servers import Reply, premium_body, request
from reliability.test_limits import still_serving
from serving.servers import Server

DOCUMENTED = {200, 400, 404, 405, 413, 429, 504}
MODELS = ["car-claims", "pet-premium", "pet-premium-regressor", "quality-gate", "premium", "nope"]
DATATYPES = ["BOOL", "UINT8", "INT8", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"]
INPUT_NAMES = ["image", "features", "lines", "boxes", "breed", "age_years", "x"]


def assert_documented(reply: Reply) -> None:
    assert reply.status in DOCUMENTED, (reply.status, reply.body)
    if reply.status != 200:
        assert isinstance(reply.body, dict) and isinstance(reply.body.get("error"), str), reply


def infer(server: Server, model: str, body: bytes, content_type: str | None) -> Reply:
    headers = {"Content-Type": content_type} if content_type else {}
    return request(server, "POST", f"/v2/models/{model}/infer", body, headers)


FIXED: list[tuple[str, str, bytes | None, int]] = [
    ("GET", "/no/such/route", None, 404),
    ("DELETE", "/v2/models/car-claims/infer", None, 405),
    ("POST", "/v2/models/nope/infer", json.dumps(premium_body()).encode(), 404),
    ("GET", "/v2/models/nope/ready", None, 404),
    ("POST", "/v2/models/car-claims/infer", b"{", 400),
    ("POST", "/v2/models/car-claims/infer", b"[1, 2]", 400),
    ("POST", "/v2/models/car-claims/infer", b'{"inputs": 7}', 400),
    ("POST", "/v2/models/car-claims/infer", b'{"inputs": []}', 400),
    (
        "POST",
        "/v2/models/premium/infer",
        b'{"inputs": [{"name": "breed", "shape": [2, 2], "datatype": "INT64", "data": [1]}]}',
        400,
    ),
    (
        "POST",
        "/v2/models/premium/infer",
        b'{"inputs": [{"name": "breed", "shape": [1099511627776],'
        b' "datatype": "FP32", "data": [1]}]}',
        400,
    ),
    ("POST", "/v1/models/car-claims:predict", b'{"instances": "x"}', 400),
    ("POST", "/v1/models/car-claims:predict", b'{"instances": [{"image": "%%%"}]}', 400),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), FIXED)
def test_fixed_bad_requests(
    limited_server: Server, method: str, path: str, body: bytes | None, status: int
) -> None:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    reply = request(limited_server, method, path, body, headers)
    assert reply.status == status, (reply.status, reply.body)
    assert isinstance(reply.body, dict) and isinstance(reply.body.get("error"), str), reply.body
    still_serving(limited_server)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
garbage_base64 = st.binary(max_size=512).map(lambda b: base64.b64encode(b).decode())
element = st.one_of(json_values, garbage_base64, st.text(max_size=40))
tensor = st.fixed_dictionaries(
    {
        "name": st.sampled_from(INPUT_NAMES) | st.text(max_size=8),
        "shape": st.lists(st.integers(-2, 70) | st.sampled_from([2**31, 2**40]), max_size=4),
        "datatype": st.sampled_from(DATATYPES) | st.text(max_size=6),
        "data": st.lists(element, max_size=6) | element,
    },
    optional={"parameters": st.dictionaries(st.text(max_size=8), json_values, max_size=3)},
)
v2_body = st.fixed_dictionaries(
    {"inputs": st.lists(tensor, max_size=3)},
    optional={
        "id": json_values,
        "outputs": st.lists(st.fixed_dictionaries({"name": st.text(max_size=8)}), max_size=2),
        "parameters": json_values,
    },
)


@given(st.sampled_from(MODELS), v2_body)
def test_fuzz_v2_requests(limited_server: Server, model: str, body: dict[str, Any]) -> None:
    assert_documented(infer(limited_server, model, json.dumps(body).encode(), "application/json"))


@given(st.sampled_from(MODELS), json_values)
def test_fuzz_json_bodies(limited_server: Server, model: str, body: Any) -> None:
    assert_documented(infer(limited_server, model, json.dumps(body).encode(), "application/json"))


@given(
    st.sampled_from(MODELS),
    st.binary(max_size=2048),
    st.sampled_from([None, "application/json", "application/octet-stream", "text/plain"]),
)
def test_fuzz_raw_bytes(limited_server: Server, model: str, body: bytes, kind: str | None) -> None:
    assert_documented(infer(limited_server, model, body, kind))


@given(st.sampled_from(MODELS), st.binary(min_size=1, max_size=4096))
def test_fuzz_random_bytes_as_images(limited_server: Server, model: str, data: bytes) -> None:
    body = {
        "inputs": [
            {
                "name": "image",
                "shape": [1],
                "datatype": "BYTES",
                "data": [base64.b64encode(data).decode()],
            }
        ]
    }
    assert_documented(infer(limited_server, model, json.dumps(body).encode(), "application/json"))


@given(st.sampled_from(MODELS), json_values)
def test_fuzz_v1_bodies(limited_server: Server, model: str, body: Any) -> None:
    reply = request(
        limited_server,
        "POST",
        f"/v1/models/{model}:predict",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    assert_documented(reply)


def test_still_serving_after_fuzzing(limited_server: Server) -> None:
    """Runs after the fuzzers in this module: the process survived all of them."""
    assert limited_server.process.poll() is None
    still_serving(limited_server)
