"""Each limit answers with its documented status and the V2 error JSON, over REST and gRPC, and
the server keeps serving afterwards. The shared server runs with the small limits of
``conftest.LIMIT_FLAGS`` (1 MiB bodies, 1 MP images, 8 items, 4 in flight per model, 4 s)."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from reliability.conftest import LIMIT_FLAGS
from reliability.servers import (
    FEATURES,
    Reply,
    bytes_tensor,
    counter,
    post_json,
    premium_body,
    request,
)
from serving.calls import blank_frame, bytes_input, png
from serving.servers import Server
from tritonclient.utils import InferenceServerException

MAX_BYTES = int(LIMIT_FLAGS["--max-request-bytes"])
MAX_CONCURRENCY = int(LIMIT_FLAGS["--max-concurrency"])


def image_body(*images: bytes) -> dict[str, Any]:
    return {"inputs": [bytes_tensor("image", [base64.b64encode(i).decode() for i in images])]}


def still_serving(server: Server) -> None:
    """A good request to the gate pipeline succeeds: the error left the process healthy."""
    reply = post_json(server, "car-claims", image_body(blank_frame()))
    assert reply.status == 200, reply.body
    assert request(server, "GET", "/v2/health/ready").status == 200


def assert_error(reply: Reply, status: int, words: str) -> None:
    assert reply.status == status, (reply.status, reply.body)
    assert isinstance(reply.body, dict) and set(reply.body) == {"error"}, reply.body
    assert words in reply.body["error"], reply.body


def grpc_error(server: Server, model: str, inputs: list[Any], timeout: float = 60) -> str:
    client = grpcclient.InferenceServerClient(server.grpc)
    try:
        client.infer(model, inputs, client_timeout=timeout)
    except InferenceServerException as exc:
        return f"{exc.status()} {exc.message()}"
    finally:
        client.close()
    raise AssertionError(f"{model}: the gRPC request succeeded but should have failed")


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except Exception as exc:  # asserted on by the caller
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_body_over_limit_is_413_before_it_is_read(limited_server: Server) -> None:
    body = b'{"inputs": []}' + b" " * MAX_BYTES
    reply = request(limited_server, "POST", "/v2/models/car-claims/infer", body)
    assert_error(reply, 413, "exceeds")
    still_serving(limited_server)


def test_chunked_body_over_limit_is_413(limited_server: Server) -> None:
    """No Content-Length to trust: the body is counted as it arrives. The server may answer
    and stop reading before the client has sent the rest (on a loaded machine the client then
    gets a broken pipe): the answer is read all the same."""
    chunks: Iterator[bytes] = (b" " * 65536 for _ in range(MAX_BYTES // 65536 + 2))
    host, port = limited_server.http.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        with contextlib.suppress(BrokenPipeError):
            connection.request(
                "POST",
                "/v2/models/car-claims/infer",
                body=chunks,
                encode_chunked=True,
                headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            )
        response = connection.getresponse()
        assert response.status == 413
        assert "exceeds" in json.loads(response.read())["error"]
    finally:
        connection.close()
    still_serving(limited_server)


def test_grpc_message_over_limit_is_resource_exhausted(limited_server: Server) -> None:
    tensor = bytes_input("grpc", "image", b"\0" * (MAX_BYTES + 1), image=True)
    message = grpc_error(limited_server, "car-claims", [tensor])
    assert "RESOURCE_EXHAUSTED" in message, message
    still_serving(limited_server)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_image_over_pixel_limit_is_400_naming_it(limited_server: Server, protocol: str) -> None:
    """1100 x 1000 = 1.1 MP over a 1 MP ceiling: the manifest's 40 MP default cannot raise it."""
    data = png(np.zeros((1000, 1100, 3), dtype=np.uint8))
    if protocol == "http":
        assert_error(post_json(limited_server, "car-claims", image_body(data)), 400, "too large")
    else:
        message = grpc_error(
            limited_server, "car-claims", [bytes_input("grpc", "image", data, image=True)]
        )
        assert "INVALID_ARGUMENT" in message and "too large" in message, message
    still_serving(limited_server)


def test_batch_over_limit_is_400_and_at_limit_is_served(limited_server: Server) -> None:
    most = int(LIMIT_FLAGS["--max-batch"])
    features = json.dumps(FEATURES)
    over = {"inputs": [bytes_tensor("features", [features] * (most + 1))]}
    assert_error(post_json(limited_server, "pet-premium-regressor", over), 400, f"at most {most}")
    at = {"inputs": [bytes_tensor("features", [features] * most)]}
    reply = post_json(limited_server, "pet-premium-regressor", at)
    assert reply.status == 200, reply.body
    assert reply.body["outputs"][0]["shape"] == [most]


def _slow_grpc(server: Server, model: str, timeout: float = 60) -> str:
    client = grpcclient.InferenceServerClient(server.grpc)
    try:
        tensor = bytes_input("grpc", "features", json.dumps(FEATURES).encode())
        answer = client.infer(model, [tensor], client_timeout=timeout)
        return str(answer.as_numpy("result").reshape(-1)[0])
    except InferenceServerException as exc:
        return f"{exc.status()} {exc.message()}"
    finally:
        client.close()


def test_concurrency_over_limit_is_429_with_retry_after(limited_server: Server) -> None:
    """``slow`` holds each request ~2 s; with 4 in flight, a 5th gets 429 at once (REST) or
    RESOURCE_EXHAUSTED (gRPC), other models serve meanwhile, and the 4 complete."""
    before = counter(limited_server, "modelplane_requests_total", "slow")
    holders: list[Any] = []
    thread = threading.Thread(
        target=lambda: holders.extend(
            in_parallel(
                [lambda: post_json(limited_server, "slow", premium_body())] * MAX_CONCURRENCY
            )
        )
    )
    thread.start()
    _wait_until(
        lambda: (
            counter(limited_server, "modelplane_requests_total", "slow") - before >= MAX_CONCURRENCY
        )
    )
    refused = post_json(limited_server, "slow", premium_body())
    refused_grpc = _slow_grpc(limited_server, "slow")
    still_serving(limited_server)
    thread.join(timeout=60)

    assert_error(refused, 429, "in flight")
    assert refused.headers.get("retry-after") == "1"
    assert refused_grpc.startswith("StatusCode.RESOURCE_EXHAUSTED"), refused_grpc
    assert [r.status for r in holders] == [200] * MAX_CONCURRENCY, holders
    assert post_json(limited_server, "slow", premium_body()).status == 200  # slots released


def test_request_over_timeout_is_504_and_frees_its_slot(limited_server: Server) -> None:
    """``stuck`` never answers in time: 504 (REST) / DEADLINE_EXCEEDED (gRPC) after 4 s; the
    slots are released (a second round is not refused) and the other models keep serving."""
    calls: list[Callable[[], Any]] = [
        lambda: post_json(limited_server, "stuck", premium_body())
    ] * (MAX_CONCURRENCY - 1) + [lambda: _slow_grpc(limited_server, "stuck")]
    first = in_parallel(calls)
    again = post_json(limited_server, "stuck", premium_body())

    for reply in first[:-1]:
        assert_error(reply, 504, "exceeded")
    assert first[-1].startswith("StatusCode.DEADLINE_EXCEEDED"), first[-1]
    assert_error(again, 504, "exceeded")
    still_serving(limited_server)


def _wait_until(condition: Callable[[], bool], limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)
