"""Graceful shutdown: a Kubernetes rollout (SIGTERM) loses no request.

On SIGTERM the server turns readiness false (REST and gRPC, server and per model) while it still
serves for ``--drain-s``, then closes its listeners, lets every in-flight request finish and exits
0. The in-flight requests here are real slow work: the ``slow`` deployment's batcher holds each
one for ``SLOW_DELAY_S``, longer than the drain, so they are still running when the listeners
close.
"""

from __future__ import annotations

import base64
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tritonclient.grpc as grpcclient
from reliability.servers import (
    SLOW_DELAY_S,
    Reply,
    counter,
    post_json,
    premium_body,
    ready_status,
    serve_with,
)
from serving.calls import blank_frame, bytes_input
from serving.servers import Server, stop

DRAIN_S = 1.0
HTTP_REQUESTS, GRPC_REQUESTS = 4, 2


@pytest.fixture()
def server(repository: Path, manifests: Path, tmp_path: Path) -> Any:
    """A server of its own: this test ends it."""
    started = serve_with(manifests, repository, tmp_path / "server.log", "--drain-s", str(DRAIN_S))
    yield started
    stop(started)


def _grpc_slow(server: Server) -> str:
    client = grpcclient.InferenceServerClient(server.grpc)
    try:
        tensor = bytes_input("grpc", "features", premium_body()["inputs"][0]["data"][0].encode())
        answer = client.infer("slow", [tensor], client_timeout=60)
        return str(answer.as_numpy("result").reshape(-1)[0])
    finally:
        client.close()


def _in_threads(calls: list[Callable[[], Any]]) -> tuple[list[threading.Thread], list[Any]]:
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except Exception as exc:  # recorded and asserted on below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    return threads, results


def _watch_readiness(server: Server) -> list[tuple[int | None, int | None, bool | None]]:
    """Poll (server ready, model ready, gRPC server ready) until the process exits."""
    seen: list[tuple[int | None, int | None, bool | None]] = []
    while server.process.poll() is None:
        grpc_ready: bool | None
        try:
            client = grpcclient.InferenceServerClient(server.grpc)
            grpc_ready = bool(client.is_server_ready(client_timeout=1))
            client.close()
        except Exception:
            grpc_ready = None
        seen.append(
            (ready_status(server), ready_status(server, "/v2/models/slow/ready"), grpc_ready)
        )
        time.sleep(0.05)
    return seen


def test_sigterm_drains_then_finishes_in_flight_and_exits_0(server: Server) -> None:
    assert SLOW_DELAY_S > DRAIN_S + 0.5, "in-flight work must outlast the drain"
    calls: list[Callable[[], Any]] = [
        lambda: post_json(server, "slow", premium_body()) for _ in range(HTTP_REQUESTS)
    ]
    calls += [lambda: _grpc_slow(server) for _ in range(GRPC_REQUESTS)]
    threads, results = _in_threads(calls)
    deadline = time.monotonic() + 30
    while counter(server, "modelplane_requests_total", "slow") < len(calls):
        assert time.monotonic() < deadline, "the slow requests never reached the model"
        time.sleep(0.02)
    assert ready_status(server) == 200

    server.process.send_signal(signal.SIGTERM)
    while ready_status(server) == 200:
        assert time.monotonic() < deadline, "readiness never turned false"
        time.sleep(0.01)
    during_drain = post_json(server, "car-claims", {"inputs": [_image_tensor()]})
    seen = _watch_readiness(server)
    for thread in threads:
        thread.join(timeout=60)

    assert server.process.returncode == 0, server.tail()
    assert during_drain.status == 200, during_drain.body  # still served while draining
    for result in results[:HTTP_REQUESTS]:
        assert isinstance(result, Reply) and result.status == 200, result
    for result in results[HTTP_REQUESTS:]:
        assert isinstance(result, str) and "premium" in result, result
    _assert_ready_false_then_closed(seen)
    log = server.log.read_text()
    assert log.index('"draining"') < log.index('"stopped"'), log


def _assert_ready_false_then_closed(seen: list[tuple[int | None, int | None, bool | None]]) -> None:
    """Readiness answers 503/false before anything stops answering, and never goes back."""
    states = [_state(sample) for sample in seen]
    assert "draining" in states, seen
    first_draining = states.index("draining")
    assert "serving" not in states[first_draining:], seen
    if "closed" in states:
        assert states.index("closed") > first_draining, seen


def _state(sample: tuple[int | None, int | None, bool | None]) -> str:
    server_ready, model_ready, grpc_ready = sample
    if server_ready == 503 and model_ready == 503 and grpc_ready is False:
        return "draining"
    if server_ready is None and model_ready is None:
        return "closed"
    if server_ready == 200:
        return "serving"
    return f"mixed {sample}"


def _image_tensor() -> dict[str, Any]:
    text = base64.b64encode(blank_frame()).decode()
    return {"name": "image", "shape": [1], "datatype": "BYTES", "data": [text]}
