"""Pipeline executor semantics (KServe InferenceGraph router rules) and dynamic batching.

A second ``modelplane serve`` runs manifests written here over the tiny repository (small real
ONNX graphs with documented rules, ``repository.py``), referenced with ``file://`` storage URIs.
The tiny gate calls a frame blurred when its mean horizontal pixel difference is under 0.02,
so a uniform frame is rejected and a noisy one accepted; the tiny breed model picks the
dominant colour channel; the tiny premium model is a documented linear rule.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import system_tool
from serving.calls import (
    blank_frame,
    bytes_input,
    call,
    call_at_once,
    call_error,
    textured_frame,
)
from serving.repository import BREEDS, expected_premium
from serving.servers import Server, metric, serve, stop

BATCH_DELAY_US = 300_000  # long enough that concurrent requests always meet in the queue
CONCURRENCY = 12
FEATURES = {"age_years": 3.0, "weight_kg": 20.0, "sex": "male", "neutered": True, "region": "busan"}


def deployment(
    name: str, stage: str, model: str, repo: Path, **batching: object
) -> dict[str, object]:
    spec: dict[str, object] = {
        "stage": stage,
        "model": {"name": model, "storageUri": f"file://{repo}"},
    }
    if batching:
        spec["batching"] = batching
    return {
        "apiVersion": "modelplane.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": name},
        "spec": spec,
    }


def pipeline(name: str, nodes: list[dict[str, object]]) -> dict[str, object]:
    return {
        "apiVersion": "modelplane.io/v1alpha1",
        "kind": "ModelPipeline",
        "metadata": {"name": name},
        "spec": {"nodes": nodes},
    }


def manifests(repo: Path) -> list[dict[str, object]]:
    estimable = "predictions.#(estimable==true)"  # as the router reads a V1 answer
    return [
        deployment(
            "gate",
            "quality-gate",
            "quality-gate",
            repo,
            maxBatchSize=16,
            maxQueueDelayMicroseconds=BATCH_DELAY_US,
        ),
        deployment("breed", "breed", "breed", repo),
        deployment("premium", "premium", "premium", repo),
        pipeline(
            "gate-then-breed",
            [
                {
                    "name": "root",
                    "routerType": "Sequence",
                    "steps": [
                        {"name": "gate", "deployment": "gate", "data": "$request"},
                        {
                            "name": "breed",
                            "deployment": "breed",
                            "data": "$request",
                            "condition": estimable,
                        },
                    ],
                }
            ],
        ),
        pipeline(
            "photo-or-price",
            [
                {
                    "name": "root",
                    "routerType": "Switch",
                    "steps": [
                        {
                            "name": "photo",
                            "deployment": "gate",
                            "condition": 'instances.#.features.#(check=="photo")',
                        },
                        {
                            "name": "price",
                            "deployment": "premium",
                            "condition": "instances.0.features.age_years",
                        },
                    ],
                }
            ],
        ),
        pipeline(
            "both",
            [
                {
                    "name": "root",
                    "routerType": "Ensemble",
                    "steps": [
                        {"name": "quality", "deployment": "gate"},
                        {"name": "dog", "deployment": "breed"},
                    ],
                }
            ],
        ),
        pipeline(
            "soft-then-gate",
            [
                {
                    "name": "root",
                    "routerType": "Sequence",
                    "steps": [
                        {"name": "price", "deployment": "premium", "dependency": "Soft"},
                        {"name": "gate", "deployment": "gate", "data": "$request"},
                    ],
                }
            ],
        ),
        pipeline(
            "hard-then-gate",
            [
                {
                    "name": "root",
                    "routerType": "Sequence",
                    "steps": [
                        {"name": "price", "deployment": "premium", "dependency": "Hard"},
                        {"name": "gate", "deployment": "gate", "data": "$request"},
                    ],
                }
            ],
        ),
        pipeline(
            "nested",
            [
                {
                    "name": "root",
                    "routerType": "Sequence",
                    "steps": [{"name": "inner", "node": "fan-out"}],
                },
                {
                    "name": "fan-out",
                    "routerType": "Ensemble",
                    "steps": [
                        {"name": "quality", "deployment": "gate"},
                        {"name": "price", "deployment": "premium"},
                    ],
                },
            ],
        ),
    ]


@pytest.fixture(scope="module")
def semantics_server(
    tiny_repository: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("manifests")
    (folder / "pipelines.yaml").write_text(yaml.safe_dump_all(manifests(tiny_repository)))
    server = serve(
        folder,
        tiny_repository,
        folder / "server.log",
        ["gate-then-breed", "photo-or-price", "both", "nested"],
    )
    yield server
    stop(server)


def test_sequence_stops_when_the_gate_rejects(semantics_server: Server) -> None:
    rejected = call(semantics_server, "grpc", "gate-then-breed", image=blank_frame())
    assert rejected["estimable"] is False and rejected["reasons"] == ["blurred"]
    assert "breed" not in rejected
    red = textured_frame(seed=1, colour=(200, 60, 60))
    accepted = call(semantics_server, "grpc", "gate-then-breed", image=red)
    assert accepted["breed"] == BREEDS[0]  # red dominant -> first label
    text = semantics_server.metrics()
    assert metric(text, "modelplane_gate_rejects_total", model="gate", reason="blurred") >= 1
    assert (
        metric(
            text,
            "modelplane_pipeline_step_duration_seconds_count",
            pipeline="gate-then-breed",
            step="breed",
        )
        >= 1
    )


def test_switch_routes_on_the_request(semantics_server: Server) -> None:
    photo = call(
        semantics_server, "grpc", "photo-or-price", image=blank_frame(), features={"check": "photo"}
    )
    assert set(photo) == {"estimable", "reasons", "sharpness", "distance"}
    price = call(
        semantics_server, "grpc", "photo-or-price", features={**FEATURES, "breed": BREEDS[1]}
    )
    assert price["premium"] == pytest.approx(expected_premium(1, 3.0, 20.0, True, True, 1))
    status, message = call_error(
        semantics_server,
        "grpc",
        "photo-or-price",
        [bytes_input("grpc", "features", b'{"check": "video"}')],
    )
    assert status == "StatusCode.INVALID_ARGUMENT"
    assert "None of the routes matched" in message


def test_ensemble_runs_every_step_on_the_request(semantics_server: Server) -> None:
    blue = textured_frame(seed=4, colour=(50, 60, 210))
    result = call(semantics_server, "http", "both", image=blue)
    assert set(result) == {"quality", "dog"}
    assert result["quality"]["estimable"] is True
    assert result["dog"]["breed"] == BREEDS[2]


def test_nested_node_and_its_steps(semantics_server: Server) -> None:
    result = call(
        semantics_server,
        "grpc",
        "nested",
        image=blank_frame(),
        features={**FEATURES, "breed": BREEDS[0], "region": "jeju"},
    )
    assert result["quality"]["estimable"] is False
    assert result["price"]["premium"] == pytest.approx(
        expected_premium(0, 3.0, 20.0, True, True, 2)
    )


def test_soft_dependency_carries_on_and_hard_stops(semantics_server: Server) -> None:
    """Without features the premium step fails: Soft goes on to the gate, Hard answers 400."""
    soft = call(semantics_server, "grpc", "soft-then-gate", image=blank_frame())
    assert soft["estimable"] is False
    before = metric(
        semantics_server.metrics(),
        "modelplane_pipeline_step_errors_total",
        pipeline="soft-then-gate",
        step="price",
    )
    assert before >= 1
    status, message = call_error(
        semantics_server,
        "grpc",
        "hard-then-gate",
        [bytes_input("grpc", "image", blank_frame(), image=True)],
    )
    assert status == "StatusCode.INVALID_ARGUMENT" and "features" in message


def test_dynamic_batching_batches_concurrent_requests(semantics_server: Server) -> None:
    """Concurrent single-image requests to the gate share executions (Triton's counters)."""
    text = semantics_server.metrics()
    runs0 = metric(text, "nv_inference_exec_count", model="quality-gate")
    done0 = metric(text, "nv_inference_request_success", model="quality-gate")
    rows0 = metric(text, "modelplane_batch_size_sum", model="quality-gate")
    batches0 = metric(text, "modelplane_batch_size_count", model="quality-gate")
    frames = [textured_frame(seed=i) for i in range(CONCURRENCY)]
    results = call_at_once(semantics_server, "gate", frames, timeout_s=60)
    assert all(r.get("estimable") is True for r in results), results
    text = semantics_server.metrics()
    runs = metric(text, "nv_inference_exec_count", model="quality-gate") - runs0
    done = metric(text, "nv_inference_request_success", model="quality-gate") - done0
    rows = metric(text, "modelplane_batch_size_sum", model="quality-gate") - rows0
    batches = metric(text, "modelplane_batch_size_count", model="quality-gate") - batches0
    assert done == CONCURRENCY and rows == CONCURRENCY
    assert runs == batches and runs < CONCURRENCY, (runs, done)
    # Fewer executions than requests is all the adaptive batcher promises here (it fills a batch
    # only from what is queued, so how many rows share one depends on arrival timing); exact
    # merging, which a partial regression would break, is test_batcher.py's fixed-batcher test.
    assert metric(text, "nv_inference_queue_duration_us", model="quality-gate") > 0
    assert metric(text, "modelplane_requests_total", model="gate") >= CONCURRENCY


def test_pipeline_and_model_metrics_use_operator_names(semantics_server: Server) -> None:
    """The names the operator's PrometheusRule and autoscaler query exist, labelled ``model``."""
    call(semantics_server, "grpc", "both", image=blank_frame())
    text = semantics_server.metrics()
    for name in (
        "modelplane_request_duration_seconds_bucket",
        "modelplane_requests_total",
        "nv_inference_request_success",
        "nv_inference_compute_infer_duration_us",
    ):
        assert re.search(rf'^{name}\{{[^}}]*model="', text, re.M), name
    assert metric(text, "modelplane_requests_total", model="both") >= 1
    assert "# TYPE nv_inference_request_success untyped" in text
    assert np.isfinite(metric(text, "modelplane_request_duration_seconds_sum", model="both"))


def test_metrics_parse_with_promtool(semantics_server: Server) -> None:
    """Prometheus' own parser reads the exposition; its only lint is Triton's ``_us`` names,
    which are kept on purpose so the cluster's queries work unchanged. promtool comes from
    `make system-deps` (Debian prometheus): a missing one fails here, it is not skipped."""
    promtool = system_tool("promtool")
    call(semantics_server, "grpc", "gate-then-breed", image=blank_frame())
    done = subprocess.run(
        [promtool, "check", "metrics"],
        input=semantics_server.metrics(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode in (0, 3), problems  # 3: lint findings only, the text parsed
    assert all(
        "should not contain abbreviated units" in p and p.startswith("nv_inference_")
        for p in problems
    ), problems
