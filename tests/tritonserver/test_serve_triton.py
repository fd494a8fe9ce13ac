"""``modelplane serve --predictors triton``: the stages call one real tritonserver over gRPC.

The pet-premium example (breed -> premium) is served with ``--predictors triton`` and called with
stock tritonclient. What must hold:

- the raw ``breed`` model answered through Triton equals ONNX Runtime run in this process on the
  same tensor (the python backend's DLPack path loses nothing);
- the pipeline's calls reach Triton (its own ``nv_inference_*`` counters move on ``/metrics``,
  next to the server's ``modelplane_*`` series, each family once), and concurrent requests are
  batched by Triton's dynamic batcher (fewer executions than requests);
- a Triton killed with SIGKILL turns readiness false and every request, those in flight
  included, gets an answer: 503 / UNAVAILABLE naming Triton's exit, never a hang;
- SIGTERM drains: requests in flight finish with answers, the server exits 0, Triton is gone;
  a server killed with SIGKILL leaves no Triton behind.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.grpc as grpcclient
from prometheus_client.parser import text_string_to_metric_families
from serving.calls import call, dog_photo
from serving.servers import EXAMPLES, Server, serve, stop
from tritonclient.utils import InferenceServerException

PIPELINE, BREED = "pet-premium", "breed"
FEATURES = {"age_years": 4, "weight_kg": 18.5, "sex": "female", "neutered": True, "region": 0}
CONCURRENT = 8  # the breed stage's default in-flight cap: more would be answered 429
BURSTS = 3


def start(repository: Path, folder: Path, *flags: str) -> Server:
    return serve(
        EXAMPLES / "pet-premium.yaml",
        repository,
        folder / "serve.log",
        [PIPELINE],
        "--predictors",
        "triton",
        *flags,
    )


@pytest.fixture(scope="module")
def server(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start(model_repository, tmp_path_factory.mktemp("serve"))
    yield started
    stop(started)


@pytest.fixture
def doomed(model_repository: Path, tmp_path: Path) -> Iterator[Server]:
    """A server of its own, for the tests that kill its Triton or stop it; SIGTERM drains for
    2 s (readiness false, requests still served) as a pod behind a Service is run."""
    started = start(model_repository, tmp_path, "--drain-s", "2")
    yield started
    stop(started)


def triton_pid(server: Server) -> int:
    """The tritonserver child of the server process (found in /proc, by its parent)."""
    pid = server.process.pid
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if "tritonserver" in Path(f"/proc/{child}/cmdline").read_text(errors="replace"):
                return int(child)
    raise AssertionError(f"no tritonserver child of {pid}:\n{server.tail()}")


def samples(server: Server, name: str) -> dict[str, float]:
    """``name``'s samples on /metrics by model; the exposition parses with each family once."""
    families = list(text_string_to_metric_families(server.metrics()))
    names = [f.name for f in families]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    family = name.removesuffix("_total")  # the parser names counters without it
    return {
        s.labels["model"]: s.value
        for f in families
        if f.name == family
        for s in f.samples
        if s.name in (family, f"{family}_total") and "model" in s.labels
    }


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def pipeline_call(server: Server, seed: int) -> dict[str, Any]:
    return call(server, "grpc", PIPELINE, image=dog_photo(seed=seed), features=FEATURES)


def outcome(server: Server, seed: int) -> str:
    """'ok', or the gRPC status of a refused call (never an exception the test would lose)."""
    try:
        pipeline_call(server, seed)
        return "ok"
    except InferenceServerException as exc:
        return f"{exc.status()}: {exc.message()}"


def test_raw_model_through_triton_equals_onnx_runtime(
    server: Server, model_repository: Path
) -> None:
    rng = np.random.default_rng(0)
    width, height = json.loads((model_repository / BREED / "modelplane.json").read_text())[
        "input_size"
    ]
    batch = rng.random((3, 3, height, width), dtype=np.float32)
    tensor = grpcclient.InferInput("image", list(batch.shape), "FP32")
    tensor.set_data_from_numpy(batch)
    client = server.grpc_client()
    try:
        answer = client.infer(BREED, [tensor])
    finally:
        client.close()
    session = ort.InferenceSession(str(model_repository / BREED / "1" / "model.onnx"))
    names = [o.name for o in session.get_outputs()]
    expected = dict(zip(names, session.run(None, {"image": batch}), strict=True))
    for name, value in expected.items():
        got = answer.as_numpy(name)
        assert got.dtype == value.dtype and got.shape == value.shape, name
        np.testing.assert_allclose(got, value, rtol=1e-5, atol=1e-6, err_msg=name)


def test_pipeline_calls_reach_triton_and_are_batched(server: Server) -> None:
    before = samples(server, "nv_inference_request_success")
    before_executions = samples(server, "nv_inference_exec_count").get(BREED, 0)
    result = pipeline_call(server, seed=1)
    assert result["breed"] and "premium" in result  # a quote, or none for a breed it does not know
    # Whether concurrent calls meet within the batcher's queue delay depends on the machine's
    # load (a 2-core machine under a full test run once sent all 8 one by one): up to BURSTS
    # bursts, until Triton has run fewer executions than requests. With batching off, never.
    bursts = 0
    while bursts < BURSTS:
        bursts += 1
        with ThreadPoolExecutor(CONCURRENT) as pool:
            results = list(pool.map(lambda s: pipeline_call(server, s), range(CONCURRENT)))
        assert all(r["breed"] for r in results)
        success = samples(server, "nv_inference_request_success")
        executions = samples(server, "nv_inference_exec_count")
        if executions[BREED] - before_executions < success[BREED] - before.get(BREED, 0):
            break
    calls = bursts * CONCURRENT + 1
    assert success[BREED] - before.get(BREED, 0) == calls
    executed = executions[BREED] - before_executions
    assert executed < calls, (bursts, executions, success)  # Triton batched
    assert samples(server, "modelplane_requests_total")[PIPELINE] == calls
    assert samples(server, "nv_inference_queue_duration_us")[BREED] > 0


def test_killed_triton_fails_clearly_and_answers_every_request(doomed: Server) -> None:
    url = f"http://{doomed.http}"
    assert status_of(f"{url}/v2/health/ready") == 200
    with ThreadPoolExecutor(CONCURRENT) as pool:
        pending = [pool.submit(outcome, doomed, seed) for seed in range(CONCURRENT)]
        os.kill(triton_pid(doomed), signal.SIGKILL)
        answers = [f.result(timeout=60) for f in pending]  # every one answered, none hangs
    refused = [a for a in answers if a != "ok"]
    assert all("StatusCode.UNAVAILABLE" in a or "exited" in a for a in refused), refused
    assert status_of(f"{url}/v2/health/ready") == 503
    assert status_of(f"{url}/v2/models/{PIPELINE}/ready") == 503
    after = outcome(doomed, seed=99)
    assert "UNAVAILABLE" in after and "exited with signal 9" in after, after
    assert doomed.process.poll() is None  # the server stays up to say why


def test_sigterm_drains_in_flight_requests_then_stops_triton(doomed: Server) -> None:
    child = triton_pid(doomed)
    with ThreadPoolExecutor(CONCURRENT) as pool:
        pending = [pool.submit(outcome, doomed, seed) for seed in range(CONCURRENT)]
        doomed.process.send_signal(signal.SIGTERM)
        answers = [f.result(timeout=60) for f in pending]
    assert doomed.process.wait(timeout=60) == 0, doomed.tail()
    assert answers == ["ok"] * CONCURRENT, [a[:300] for a in answers if a != "ok"]
    assert not alive(Path(f"/proc/{child}"))  # stopped by the server, after its requests


def test_a_killed_server_takes_its_triton_with_it(doomed: Server) -> None:
    """No orphaned Triton holding ports and memory after the server is SIGKILLed (the child
    gets the parent-death signal)."""
    child = Path(f"/proc/{triton_pid(doomed)}")
    doomed.process.kill()
    doomed.process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while alive(child):
        assert time.monotonic() < deadline, "tritonserver outlived its server"
        time.sleep(0.2)


def alive(proc: Path) -> bool:
    """Whether the /proc entry is a running process (not gone, not a zombie)."""
    try:
        return "zombie" not in (proc / "status").read_text().lower()
    except FileNotFoundError:
        return False
