"""Helpers of the reliability tier: ``modelplane serve`` with chosen limits, raw HTTP calls that
show status codes and headers, slow requests, and the server's resident memory.

Slow work is real: the ``premium-slow`` deployment's dynamic batcher holds each request for
``SLOW_DELAY_S`` waiting for a fuller batch (Triton's ``max_queue_delay_microseconds``), and
``premium-stuck`` for far longer than any test's request timeout.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serving.servers import Server, serve

SLOW_DELAY_S = 2.0
FEATURES = {
    "breed": 0,
    "age_years": 2,
    "weight_kg": 9.0,
    "sex": "male",
    "neutered": False,
    "region": 0,
}
SLOW_MANIFESTS = f"""
apiVersion: modelplane.io/v1alpha1
kind: ModelDeployment
metadata:
  name: slow
spec:
  stage: premium
  model: {{name: premium-slow, version: "1", storageUri: pvc://modelplane-models/repository}}
  batching: {{maxBatchSize: 64, maxQueueDelayMicroseconds: {int(SLOW_DELAY_S * 1e6)}}}
---
apiVersion: modelplane.io/v1alpha1
kind: ModelDeployment
metadata:
  name: stuck
spec:
  stage: premium
  model: {{name: premium-stuck, version: "1", storageUri: pvc://modelplane-models/repository}}
  batching: {{maxBatchSize: 64, maxQueueDelayMicroseconds: 600000000}}
"""
READY = ["car-claims", "pet-premium", "slow", "stuck"]


def serve_with(folder: Path, repository: Path, log: Path, *flags: str) -> Server:
    """``modelplane serve FOLDER`` on free loopback ports with extra flags (limits). The slow and
    stuck deployments rely on Triton's fixed queue delay, so this server runs the ``fixed``
    batcher (the default adaptive one dispatches a lone request at once)."""
    return serve(folder, repository, log, READY, *flags, env={"MODELPLANE_BATCHER": "fixed"})


@dataclass
class Reply:
    """A raw HTTP answer: status, headers and the body parsed as JSON when it is JSON."""

    status: int
    headers: dict[str, str]
    body: Any


def request(
    server: Server,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Reply:
    """One HTTP request on its own connection; every status is returned, never raised."""
    host, port = server.http.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        # The server may answer (413 on Content-Length) and close before the whole body is sent;
        # read the answer it wrote, as curl does. No answer raises below.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, parsed)
    finally:
        connection.close()


def post_json(server: Server, model: str, body: Any, **headers: str) -> Reply:
    data = json.dumps(body).encode()
    return request(
        server,
        "POST",
        f"/v2/models/{model}/infer",
        data,
        {"Content-Type": "application/json", **headers},
    )


def bytes_tensor(name: str, values: list[str]) -> dict[str, Any]:
    return {"name": name, "shape": [len(values)], "datatype": "BYTES", "data": values}


def premium_body(features: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"inputs": [bytes_tensor("features", [json.dumps(features or FEATURES)])]}


def ready_status(server: Server, path: str = "/v2/health/ready") -> int | None:
    """The readiness probe's status code, or None when nothing answers any more."""
    try:
        with urllib.request.urlopen(f"http://{server.http}{path}", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def rss_kib(pid: int) -> int:
    """Resident memory of a process (``VmRSS`` of /proc/PID/status), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def counter(server: Server, name: str, model: str) -> float:
    """A Prometheus counter of the server for one model (0 when not yet exported)."""
    total = 0.0
    for line in server.metrics().splitlines():
        if line.startswith(name + "{") and f'model="{model}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
