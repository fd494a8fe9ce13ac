"""REST with Triton's binary data extension, as stock ``tritonclient.http`` sends it by default.

``set_data_from_numpy`` defaults to ``binary_data=True`` and ``infer`` without outputs asks for
``binary_data_output``: the image travels as a 4-byte little-endian length plus the bytes after
the JSON header, and the answer comes back the same way. Each answer is checked against what
gRPC answers for the same input, and malformed bodies against the documented 400s.
"""

from __future__ import annotations

import json
import struct
import urllib.error
import urllib.request

import numpy as np
import pytest
import tritonclient.http as httpclient
from serving.calls import blank_frame, call, textured_frame
from serving.documents import render_document
from serving.servers import Server


def stock_http(server: Server, model: str, inputs: dict[str, bytes]) -> dict[str, object]:
    """tritonclient.http with every default: binary inputs, binary outputs."""
    client = server.http_client()
    try:
        tensors = []
        for name, value in inputs.items():
            tensor = httpclient.InferInput(name, [1], "BYTES")
            tensor.set_data_from_numpy(np.array([value], dtype=np.object_))
            tensors.append(tensor)
        raw = client.infer(model, tensors).as_numpy("result").reshape(-1)[0]
    finally:
        client.close()
    parsed: dict[str, object] = json.loads(raw)
    return parsed


@pytest.mark.parametrize("frame", [blank_frame(), textured_frame(seed=3)])
def test_stock_client_image_matches_grpc(examples_server: Server, frame: bytes) -> None:
    assert stock_http(examples_server, "car-claims", {"image": frame}) == call(
        examples_server, "grpc", "car-claims", image=frame
    )


def test_stock_client_document_and_json_input_match_grpc(examples_server: Server) -> None:
    doc = render_document(seed=61, language="en", document_type="receipt")
    over_rest = stock_http(examples_server, "documents", {"image": doc.png})
    assert over_rest == call(examples_server, "grpc", "documents", image=doc.png)
    assert over_rest["fields"]["total_amount"] == doc.total_amount  # type: ignore[index]
    features = {"age_years": 3, "weight_kg": 12.0, "sex": "male", "neutered": False, "region": 1}
    frame = textured_frame(seed=5, colour=(200, 60, 50))
    premium = stock_http(
        examples_server, "pet-premium", {"image": frame, "features": json.dumps(features).encode()}
    )
    assert premium == call(examples_server, "grpc", "pet-premium", image=frame, features=features)


def test_stock_client_raw_tensors_both_ways(examples_server: Server) -> None:
    """Raw repository models (the Triton stand-in): FP32 in binary; FP16 (detection map, which
    Triton only sends binary), INT32 and FP32 (recognition) back binary, and the same values
    when the client asks for JSON outputs."""
    client = examples_server.http_client()
    try:
        page = httpclient.InferInput("x", [1, 3, 64, 96], "FP32")
        page.set_data_from_numpy(np.random.default_rng(2).random((1, 3, 64, 96), np.float32))
        name = client.get_model_metadata("text-detection")["outputs"][0]["name"]
        prob = client.infer("text-detection", [page]).as_numpy(name)
        line = httpclient.InferInput("x", [1, 3, 48, 160], "FP32")
        line.set_data_from_numpy(np.random.default_rng(3).random((1, 3, 48, 160), np.float32))
        binary = client.infer("text-recognition", [line])
        requested = [httpclient.InferRequestedOutput(n, False) for n in ("indices", "scores")]
        as_json = client.infer("text-recognition", [line], outputs=requested)
    finally:
        client.close()
    assert prob.dtype == np.float16 and prob.shape == (1, 1, 64, 96)
    assert float(prob.min()) >= 0.0 and float(prob.max()) <= 1.0
    indices = binary.as_numpy("indices")
    assert indices.dtype == np.int32 and indices.shape == (1, 20)  # 160 px / 8 per time step
    assert binary.get_response()["outputs"][0]["parameters"]["binary_data_size"] == 20 * 4
    assert not as_json.get_response()["outputs"][0].get("parameters")  # no binary_data_size
    np.testing.assert_array_equal(as_json.as_numpy("indices"), indices)
    np.testing.assert_allclose(as_json.as_numpy("scores"), binary.as_numpy("scores"), rtol=1e-6)


def post(server: Server, model: str, header: dict[str, object], tail: bytes) -> tuple[int, str]:
    head = json.dumps(header).encode()
    request = urllib.request.Request(
        f"http://{server.http}/v2/models/{model}/infer",
        data=head + tail,
        headers={"Inference-Header-Content-Length": str(len(head))},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def image_header(size: int, shape: list[int] | None = None) -> dict[str, object]:
    return {
        "inputs": [
            {
                "name": "image",
                "shape": shape or [1],
                "datatype": "BYTES",
                "parameters": {"binary_data_size": size},
            }
        ]
    }


@pytest.mark.parametrize(
    "case,header,tail,needle",
    [
        (
            "size past the body",
            image_header(999),
            struct.pack("<I", 3) + b"abc",
            "binary_data_size",
        ),
        ("length past the tensor", image_header(7), struct.pack("<I", 9) + b"abc", "runs past"),
        ("cut length prefix", image_header(2), b"\x01\x00", "cut short"),
        ("trailing bytes", image_header(7), struct.pack("<I", 3) + b"abcXYZ", "after the last"),
        ("element count", image_header(7, [2]), struct.pack("<I", 3) + b"abc", "BYTES elements"),
    ],
)
def test_malformed_binary_bodies_get_400(
    examples_server: Server, case: str, header: dict[str, object], tail: bytes, needle: str
) -> None:
    status, body = post(examples_server, "car-claims", header, tail)
    assert status == 400, (case, body)
    assert needle in json.loads(body)["error"], (case, body)


def test_hand_written_binary_body_is_served(examples_server: Server) -> None:
    """The wire form written by hand (no client library): a length-prefixed PNG; no
    ``binary_data_output`` asked, so the answer is JSON."""
    frame = blank_frame()
    status, body = post(
        examples_server,
        "car-claims",
        image_header(4 + len(frame)),
        struct.pack("<I", len(frame)) + frame,
    )
    assert status == 200, body
    result = json.loads(json.loads(body)["outputs"][0]["data"][0])
    assert result["estimable"] is False
