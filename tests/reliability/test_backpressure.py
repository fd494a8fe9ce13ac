"""Back-pressure instead of memory growth: a burst ten times a stage's cap is answered, each
request served or refused with 429 / RESOURCE_EXHAUSTED and a retry hint, none lost or hung,
and the server's memory stays put; a pipeline and a transformer pass the refusal on.

The cap is the deployment's ``spec.scaling.maxInFlight`` (2 here); the stage's slow work is
real (the ``premium-slow`` model's dynamic batcher holds each request ``SLOW_DELAY_S``), so the
burst really finds the stage full. A transformer (``modelplane-transformer``, as KServe runs it)
in front of this server, whose raw model takes only ``PREDICTOR_CAP`` at once, shows the
predictor's RESOURCE_EXHAUSTED reaching the client as a 429, not as a 400 or 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import yaml
from reliability.servers import (
    FEATURES,
    SLOW_MANIFESTS,
    Reply,
    post_json,
    premium_body,
    rss_kib,
)
from serving.servers import Server, serve, start_transformer, stop
from tritonclient.utils import InferenceServerException

CAP = 2
BURST = 10 * CAP
PREDICTOR_CAP = 4  # the server's --max-concurrency: the raw (Triton-named) models' cap
RSS_GROWTH_KIB = 16 * 1024


def capped_manifests() -> str:
    """The reliability tier's ``slow`` deployment renamed ``capped``, with ``maxInFlight``
    CAP, and a one-step pipeline over it."""
    slow = next(d for d in yaml.safe_load_all(SLOW_MANIFESTS) if d["metadata"]["name"] == "slow")
    slow["metadata"]["name"] = "capped"
    slow["spec"]["scaling"] = {"maxInFlight": CAP}
    step = {"name": "quote", "deployment": "capped"}
    pipeline = {
        "apiVersion": slow["apiVersion"],
        "kind": "ModelPipeline",
        "metadata": {"name": "capped-pipe"},
        "spec": {"nodes": [{"name": "root", "routerType": "Sequence", "steps": [step]}]},
    }
    return yaml.safe_dump_all([slow, pipeline])


@pytest.fixture(scope="module")
def capped(repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("capped")
    (folder / "capped.yaml").write_text(capped_manifests())
    # The fixed batcher holds a lone request for the queue delay (the adaptive one would not).
    server = serve(
        folder,
        repository,
        folder / "server.log",
        ["capped", "capped-pipe"],
        "--max-concurrency",
        str(PREDICTOR_CAP),
        env={"MODELPLANE_BATCHER": "fixed"},
    )
    yield server
    stop(server)


def grpc_call(server: Server, model: str) -> str:
    """ "OK" or "<status> <message> retry-after=<hint>" of one gRPC call (60 s client timeout)."""
    client = grpcclient.InferenceServerClient(server.grpc)
    tensor = grpcclient.InferInput("features", [1], "BYTES")
    tensor.set_data_from_numpy(np.array([json.dumps(FEATURES).encode()], dtype=np.object_))
    try:
        client.infer(model, [tensor], client_timeout=60)
        return "OK"
    except InferenceServerException as exc:
        return f"{exc.status()} {exc.message()}"
    finally:
        client.close()


def burst(calls: list[Callable[[], Any]]) -> list[Any]:
    """All calls at once, each on its own thread; an exception is returned, not raised."""

    def run(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:  # a lost or hung request: asserted on by the caller
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def check_answers(answers: list[Any]) -> tuple[int, int]:
    """(served, refused); fails on anything else: an error, a timeout, a 4xx/5xx other than 429."""
    served = refused = 0
    for answer in answers:
        if answer == "OK" or (isinstance(answer, Reply) and answer.status == 200):
            served += 1
        elif isinstance(answer, Reply) and answer.status == 429:
            assert answer.headers.get("retry-after") == "1", answer.headers
            assert "in flight" in answer.body["error"], answer.body
            refused += 1
        elif isinstance(answer, str) and answer.startswith("StatusCode.RESOURCE_EXHAUSTED"):
            refused += 1
        else:
            raise AssertionError(f"not served and not refused with 429: {answer!r}")
    return served, refused


def test_burst_ten_times_the_cap_is_answered_and_memory_stays(capped: Server) -> None:
    assert post_json(capped, "capped", premium_body()).status == 200  # warm-up
    baseline = rss_kib(capped.process.pid)
    calls: list[Callable[[], Any]] = [
        *[lambda: post_json(capped, "capped", premium_body())] * (BURST // 2),
        *[lambda: grpc_call(capped, "capped")] * (BURST // 4),
        *[lambda: post_json(capped, "capped-pipe", premium_body())] * (BURST // 4),
    ]
    totals = []
    for _ in range(3):
        served, refused = check_answers(burst(calls))
        assert served + refused == BURST
        totals.append((served, refused))
    growth = rss_kib(capped.process.pid) - baseline
    # The stage and the pipeline's step share the stage's cap: at most CAP held per window.
    assert all(served >= 1 and refused >= BURST // 2 for served, refused in totals), totals
    assert growth <= RSS_GROWTH_KIB, (baseline, growth)
    assert post_json(capped, "capped", premium_body()).status == 200  # slots released


def test_pipeline_passes_the_stage_refusal_on(capped: Server) -> None:
    answers = burst([lambda: post_json(capped, "capped-pipe", premium_body())] * BURST)
    refusals = [a for a in answers if isinstance(a, Reply) and a.status == 429]
    # Refused by the step's stage (its cap, passed on) or, past PREDICTOR_CAP, by the
    # pipeline's own --max-concurrency; the stage's refusal must be among them.
    said = f"step quote: model capped has {CAP} requests in flight (spec.scaling.maxInFlight)"
    assert any(said in r.body["error"] for r in refusals), answers
    check_answers(answers)


def test_transformer_passes_the_predictor_refusal_on(capped: Server, tmp_path: Path) -> None:
    """The predictor (this server's raw premium-slow, cap PREDICTOR_CAP) refuses; the transformer
    in front of it answers RESOURCE_EXHAUSTED / 429 with the predictor's retry hint."""
    log = tmp_path / "transformer.log"
    transformer = start_transformer(
        capped, "quote", "premium", "premium-slow", log, "--max-concurrency=100"
    )
    try:
        rest = [lambda: post_json(transformer, "quote", premium_body())] * (BURST // 2)
        grpc = [lambda: grpc_call(transformer, "quote")] * (BURST // 2)
        answers = burst([*rest, *grpc])
    finally:
        stop(transformer)
    served, refused = check_answers(answers)
    assert served >= 1 and refused >= BURST - 2 * PREDICTOR_CAP, answers
    predictor_said = [a for a in answers if isinstance(a, Reply) and a.status == 429]
    assert (
        predictor_said
        and "predictor premium-slow is at capacity" in predictor_said[0].body["error"]
    )
