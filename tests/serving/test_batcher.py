"""The batchers: merging is checked where it is deterministic, decisions where it is not.

The adaptive batcher's decisions are checked on the runner's own cost model and arrival
estimate (set here to known values), and end to end: with a queue delay far longer than the
test's timeout, a lone request is still answered (Triton's fixed delay would hold it for the
whole delay). How many rows it merges under load depends on arrival timing, so that batching
merges at all is checked with Triton's fixed batcher, where it is exact: with a preferred size
of 4 and a delay far longer than the requests take to arrive, 12 concurrent single-row requests
run as 3 executions of 4 rows, in the runner and through ``modelplane serve``. A regression
that stops merging (or merges only pairs) cannot pass either.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from modelplane_api.triton import Batching
from modelplane_inference.runtime.repository import load_model_config
from modelplane_inference.runtime.runner import CostModel, ModelRunner, batcher_kind
from serving.calls import call_at_once, textured_frame
from serving.servers import Server, metric, serve, stop

HOUR_US = 3_600_000_000
PREFERRED = 4
REQUESTS = 3 * PREFERRED
# Fixed batching to exactly PREFERRED rows; the delay outlasts any test, so a request is
# answered only once it has been merged into a full batch.
FULL_BATCHES = Batching(
    max_batch_size=PREFERRED, max_queue_delay_us=HOUR_US, preferred_batch_sizes=(PREFERRED,)
)


def test_cost_model_finds_the_fixed_cost() -> None:
    cost = CostModel()
    for rows, seconds in [(1, 0.006), (2, 0.008), (4, 0.012), (8, 0.020)] * 3:
        cost.add(rows, seconds)
    assert cost.fixed_s == pytest.approx(0.004, abs=1e-6)  # 4 ms + 2 ms per row
    one_size = CostModel()
    one_size.add(1, 0.008)
    assert one_size.fixed_s == pytest.approx(0.002)  # a quarter of what one execution costs
    assert CostModel().fixed_s == 0.0


@pytest.fixture
def runner(tiny_repository: Path) -> ModelRunner:
    config = load_model_config(tiny_repository, "breed").with_batching(
        Batching(max_batch_size=8, max_queue_delay_us=HOUR_US, preferred_batch_sizes=(4,))
    )
    return ModelRunner(config, batcher="adaptive")


def test_adaptive_waits_only_while_a_request_is_due_sooner_than_it_saves(
    runner: ModelRunner,
) -> None:
    try:
        deadline = time.perf_counter() + 10.0
        assert runner._wait_for_more(1, deadline) is None  # no arrivals seen: go
        for rows, seconds in [(1, 0.006), (4, 0.012)]:
            runner.cost.add(rows, seconds)  # fixed cost 4 ms
        runner.arrivals.gap_s = 0.001  # a request every 1 ms
        assert runner._wait_for_more(1, deadline) == pytest.approx(0.002)  # 1 x 1 ms < 4 ms
        assert runner._wait_for_more(3, deadline) == pytest.approx(0.002)
        assert runner._wait_for_more(4, deadline) is None  # 4 x 1 ms: waiting costs more
        runner.arrivals.gap_s = 0.5  # one request every half second: never worth it
        assert runner._wait_for_more(1, deadline) is None
        runner.arrivals.gap_s = 0.001
        assert runner._wait_for_more(1, time.perf_counter() - 1) is None  # past the delay
    finally:
        runner.close()


def test_no_merging_where_rows_cost_more_in_a_batch(runner: ModelRunner) -> None:
    """On CPU a page or a wide text line can cost more per row in a batch than alone (a
    negative intercept); the adaptive batcher then runs one request per execution."""
    dearer = CostModel()
    for work, seconds in [(1, 0.040), (6, 0.390), (16, 1.130)] * 3:  # 40, 65, 71 ms a row
        dearer.add(work, seconds)
    assert not dearer.batching_pays
    cheaper = CostModel()
    for work, seconds in [(1, 0.006), (4, 0.012)] * 3:
        cheaper.add(work, seconds)
    assert cheaper.batching_pays
    one_size = CostModel()
    one_size.add(3_000_000, 0.4)  # one batch size seen: not known yet, so batches are tried
    one_size.add(3_000_000, 0.4)
    assert one_size.batching_pays
    runner.close()  # the worker stops, so what is queued below stays queued
    for worker in runner._workers:
        worker.join(timeout=10)
    runner._queue.put(None)  # something queued: merged at once while batching pays
    assert runner._wait_for_more(1, time.perf_counter() + 10.0) == 0.0
    runner.cost = dearer
    assert runner._wait_for_more(1, time.perf_counter() + 10.0) is None


def test_fixed_waits_for_a_preferred_size_or_the_delay(tiny_repository: Path) -> None:
    config = load_model_config(tiny_repository, "breed").with_batching(
        Batching(max_batch_size=8, max_queue_delay_us=HOUR_US, preferred_batch_sizes=(4,))
    )
    runner = ModelRunner(config, batcher="fixed")
    try:
        deadline = time.perf_counter() + 10.0
        assert runner._wait_for_more(1, deadline) == pytest.approx(10.0, abs=0.5)
        assert runner._wait_for_more(4, deadline) is None
    finally:
        runner.close()


def test_a_lone_request_is_not_held_for_the_queue_delay(runner: ModelRunner) -> None:
    image = np.full((1, 3, 64, 64), 0.2, dtype=np.float32)
    try:
        for _ in range(3):
            answer = runner.submit({"image": image}).result(timeout=60)  # the delay is 1 hour
            assert answer["probabilities"].shape == (1, 3)
        assert runner.stats.batch_sizes == [1, 1, 1]
    finally:
        runner.close()


def test_batcher_choice_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPLANE_BATCHER", "fixed")
    assert batcher_kind() == "fixed"
    assert batcher_kind("adaptive") == "adaptive"
    monkeypatch.setenv("MODELPLANE_BATCHER", "greedy")
    with pytest.raises(ValueError, match="MODELPLANE_BATCHER"):
        batcher_kind()


def test_fixed_batcher_merges_concurrent_requests_into_full_batches(tiny_repository: Path) -> None:
    config = load_model_config(tiny_repository, "breed").with_batching(FULL_BATCHES)
    runner = ModelRunner(config, batcher="fixed")
    colours = np.eye(3, dtype=np.float32)[np.arange(REQUESTS) % 3]  # dominant channel per row
    images = [np.broadcast_to(c[None, :, None, None], (1, 3, 64, 64)).copy() for c in colours]
    try:
        futures = [runner.submit({"image": image}) for image in images]
        answers = [future.result(timeout=60) for future in futures]
    finally:
        runner.close()
    assert runner.stats.batch_sizes == [PREFERRED] * (REQUESTS // PREFERRED)
    # each request gets its own row back out of the merged execution
    assert [int(a["probabilities"].argmax()) for a in answers] == [i % 3 for i in range(REQUESTS)]


@pytest.fixture(scope="module")
def fixed_server(
    tiny_repository: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``modelplane serve`` with Triton's fixed batcher and the gate batched to full batches."""
    folder = tmp_path_factory.mktemp("fixed")
    gate = {
        "apiVersion": "modelplane.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "gate"},
        "spec": {
            "stage": "quality-gate",
            "model": {"name": "quality-gate", "storageUri": f"file://{tiny_repository}"},
            "batching": {
                "maxBatchSize": PREFERRED,
                # Far longer than 12 calls take to arrive, short enough that a batcher that
                # stopped merging answers (one row per execution) and the count fails cleanly.
                "maxQueueDelayMicroseconds": 20_000_000,
                "preferredBatchSizes": [PREFERRED],
            },
        },
    }
    (folder / "gate.yaml").write_text(yaml.safe_dump(gate))
    server = serve(
        folder,
        tiny_repository,
        folder / "server.log",
        ["gate"],
        env={"MODELPLANE_BATCHER": "fixed"},
    )
    yield server
    stop(server)


def test_concurrent_requests_share_executions_through_the_server(fixed_server: Server) -> None:
    """Twelve concurrent gRPC requests: exactly three executions of four rows (Triton's
    counters). Two requests sharing one execution, or none, fails."""
    text = fixed_server.metrics()
    runs0 = metric(text, "nv_inference_exec_count", model="quality-gate")
    rows0 = metric(text, "modelplane_batch_size_sum", model="quality-gate")
    results = call_at_once(fixed_server, "gate", [textured_frame(seed=i) for i in range(REQUESTS)])
    assert all(r.get("estimable") is True for r in results), (results, fixed_server.tail())
    text = fixed_server.metrics()
    runs = metric(text, "nv_inference_exec_count", model="quality-gate") - runs0
    rows = metric(text, "modelplane_batch_size_sum", model="quality-gate") - rows0
    assert (runs, rows) == (REQUESTS // PREFERRED, REQUESTS), fixed_server.tail()
