"""No log line carries a request's payload or credentials.

Claim photos and documents hold personal data; Authorization headers hold tokens. Requests here
carry a unique marker in their payload (inside a valid image, as undecodable image bytes, in a
malformed JSON body, in a V1 body, over gRPC) and a unique token in Authorization, Cookie and
X-Api-Key headers (REST) or metadata (gRPC); they succeed and fail in every way the server logs.
Then the server's whole log is searched for both, raw and base64-encoded. (Identifiers a client
chooses, such as model and input names in paths and errors, are logged on purpose.)
"""

from __future__ import annotations

import base64
import io
import json
import uuid

import numpy as np
import tritonclient.grpc as grpcclient
from PIL import Image, PngImagePlugin
from reliability.servers import bytes_tensor, post_json, request
from serving.calls import bytes_input
from serving.servers import Server
from tritonclient.utils import InferenceServerException

MARKER = f"payload-marker-{uuid.uuid4().hex}"
TOKEN = f"mp-secret-{uuid.uuid4().hex}"
CREDENTIALS = {
    "Authorization": f"Bearer {TOKEN}",
    "Cookie": f"session={TOKEN}",
    "X-Api-Key": TOKEN,
}


def _png_with_text() -> bytes:
    """A valid image whose metadata holds the marker (as a phone's EXIF would hold a name)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARKER)
    buffer = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 128, dtype=np.uint8)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _rest_requests(server: Server) -> list[int]:
    marker = MARKER.encode()
    statuses = [
        post_json(
            server,
            "car-claims",
            {"inputs": [bytes_tensor("image", [_b64(_png_with_text())])]},
            **CREDENTIALS,
        ).status,
        post_json(
            server, "car-claims", {"inputs": [bytes_tensor("image", [_b64(marker)])]}, **CREDENTIALS
        ).status,
        post_json(
            server, "car-claims", {"inputs": [bytes_tensor("image", [MARKER])]}, **CREDENTIALS
        ).status,
        post_json(
            server,
            "pet-premium-regressor",
            {"inputs": [bytes_tensor("features", [json.dumps({"breed": MARKER})])]},
            **CREDENTIALS,
        ).status,
        post_json(
            server,
            "premium",
            {"inputs": [{"name": "breed", "shape": [1], "datatype": "FP32", "data": [MARKER]}]},
            **CREDENTIALS,
        ).status,
        request(
            server,
            "POST",
            "/v2/models/car-claims/infer",
            b'{"inputs": "' + marker + b'"',
            {"Content-Type": "application/json", **CREDENTIALS},
        ).status,
        request(
            server,
            "POST",
            "/v1/models/car-claims:predict",
            json.dumps({"instances": [{"image": MARKER}]}).encode(),
            {"Content-Type": "application/json", **CREDENTIALS},
        ).status,
        request(server, "GET", "/v2/models/nope/ready", None, CREDENTIALS).status,
    ]
    return statuses


def _grpc_requests(server: Server) -> list[str]:
    client = grpcclient.InferenceServerClient(server.grpc)
    headers = {"authorization": f"Bearer {TOKEN}", "x-api-key": TOKEN}
    outcomes = []
    for model, data in (
        ("car-claims", _png_with_text()),
        ("car-claims", MARKER.encode()),
        ("nope", MARKER.encode()),
    ):
        try:
            client.infer(model, [bytes_input("grpc", "image", data, image=True)], headers=headers)
            outcomes.append("ok")
        except InferenceServerException as exc:
            outcomes.append(str(exc.status()))
    client.close()
    return outcomes


def test_no_payload_or_credential_in_any_log_line(limited_server: Server) -> None:
    statuses = _rest_requests(limited_server)
    outcomes = _grpc_requests(limited_server)
    assert statuses[0] == 200 and all(400 <= s < 500 for s in statuses[1:]), statuses
    assert outcomes[0] == "ok" and all(o.startswith("StatusCode.") for o in outcomes[1:]), outcomes

    log = limited_server.log.read_text(errors="replace")
    assert "car-claims" in log  # the requests were logged at all (access log)
    for secret in (MARKER, TOKEN, _b64(MARKER.encode()), _b64(TOKEN.encode())):
        lines = [line for line in log.splitlines() if secret in line]
        assert not lines, f"{len(lines)} log lines carry {secret[:16]}...: {lines[:3]}"


def test_a_bad_request_costs_few_log_lines(limited_server: Server) -> None:
    """KServe logs each 4xx with a traceback; here a client error is one short line, so a
    client sending garbage cannot flood the logs (access log, timing and the warning)."""
    before = len(limited_server.log.read_text(errors="replace").splitlines())
    count = 20
    for _ in range(count):
        reply = post_json(
            limited_server, "car-claims", {"inputs": [bytes_tensor("image", ["AAAA"])]}
        )
        assert reply.status == 400
        assert request(limited_server, "GET", "/v2/models/nope/ready").status == 404
    added = limited_server.log.read_text(errors="replace").splitlines()[before:]
    assert len(added) <= count * 2 * 5, "\n".join(added[-40:])
    assert not [line for line in added if line.startswith("Traceback")], added[:40]
