"""Bounded load on loopback: no errors, and the server's memory flat after warm-up.

Clients at concurrency ``CONCURRENCY`` (within ``--max-concurrency``) send a fixed number of
requests, capped in time too, over REST (kept-alive connections) and gRPC, alternating the gate
pipeline with good and bad photos and the premium stage. Every answer must be the expected one
(200, or 400 for the bad photo). The server's resident memory (``VmRSS``) is sampled after a
warm-up and after each round; it must stay within ``RSS_GROWTH_KIB`` of the post-warm-up figure,
which a leak of 10 KB per request would exceed (``make soak`` runs 12x more requests: under
1 KB). Latency is not asserted: this machine is shared.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from collections import Counter

import pytest
import tritonclient.grpc as grpcclient
from reliability.conftest import SOAK
from reliability.servers import FEATURES, bytes_tensor, rss_kib
from serving.calls import blank_frame, bytes_input, textured_frame
from serving.servers import Server
from tritonclient.utils import InferenceServerException

CONCURRENCY = 4
WARMUP = 200
ROUNDS = 10 if SOAK else 4
PER_ROUND = 2000 if SOAK else 400
TIME_CAP_S = 900 if SOAK else 90
RSS_GROWTH_KIB = 16 * 1024

GOOD, PLAIN = textured_frame(seed=3), blank_frame()
REST_BODIES = [
    (("car-claims", {"inputs": [bytes_tensor("image", [base64.b64encode(GOOD).decode()])]}), 200),
    (
        ("car-claims", {"inputs": [bytes_tensor("image", [base64.b64encode(b"junk").decode()])]}),
        400,
    ),
    (
        ("pet-premium-regressor", {"inputs": [bytes_tensor("features", [json.dumps(FEATURES)])]}),
        200,
    ),
]


class Client:
    """One load client: a kept-alive REST connection and a gRPC channel, used alternately."""

    def __init__(self, server: Server) -> None:
        host, port = server.http.split(":")
        self.rest = http.client.HTTPConnection(host, int(port), timeout=60)
        self.grpc = grpcclient.InferenceServerClient(server.grpc)

    def send(self, index: int) -> str:
        """One request; the outcome is "ok" or a description of what was wrong."""
        if index % 4 == 3:
            return self._grpc(index)
        (model, body), expected = REST_BODIES[index % len(REST_BODIES)]
        self.rest.request(
            "POST",
            f"/v2/models/{model}/infer",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        response = self.rest.getresponse()
        payload = response.read()
        if response.status != expected:
            return f"{model}: {response.status} {payload[:200]!r}"
        return "ok"

    def _grpc(self, index: int) -> str:
        image = GOOD if index % 8 == 3 else PLAIN
        try:
            self.grpc.infer("car-claims", [bytes_input("grpc", "image", image, image=True)])
        except InferenceServerException as exc:
            return f"grpc: {exc.status()} {exc.message()}"
        return "ok"

    def close(self) -> None:
        self.rest.close()
        self.grpc.close()


def run_round(server: Server, count: int, deadline: float) -> Counter[str]:
    """``count`` requests from ``CONCURRENCY`` clients; outcomes counted."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    next_index = iter(range(count))

    def worker() -> None:
        client = Client(server)
        try:
            while time.monotonic() < deadline:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                outcome = client.send(index)
                with lock:
                    outcomes[outcome] += 1
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.timeout(TIME_CAP_S + 120)
def test_bounded_load_no_errors_flat_memory(limited_server: Server) -> None:
    deadline = time.monotonic() + TIME_CAP_S
    pid = limited_server.process.pid
    warm = run_round(limited_server, WARMUP, deadline)
    assert set(warm) == {"ok"}, warm
    baseline = rss_kib(pid)
    samples: list[int] = []
    total: Counter[str] = Counter()
    for _ in range(ROUNDS):
        total += run_round(limited_server, PER_ROUND, deadline)
        samples.append(rss_kib(pid))
    print(
        f"\nload: {sum(total.values())} requests at concurrency {CONCURRENCY}; "
        f"VmRSS after warm-up {baseline} KiB, per round {samples}"
    )

    assert set(total) == {"ok"}, total.most_common(5)
    assert sum(total.values()) >= ROUNDS * PER_ROUND * 0.5, "the time cap cut the load short"
    assert max(samples) - baseline <= RSS_GROWTH_KIB, (baseline, samples)
    assert limited_server.process.poll() is None
