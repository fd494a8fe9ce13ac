"""A real Prometheus on loopback scrapes a real ``modelplane serve`` while requests go through it.

The server is the one the serving tier starts (``tests/serving/servers.py``) with the pet-premium
example and the serving tier's repository; Prometheus scrapes it every second under the labels a
PodMonitor gives a serving pod (job, namespace) and evaluates the chart's own rules. Traffic comes
in two rounds with a scrape between them, so rates see increases rather than new series: the
pipeline over gRPC, its premium stage over REST, and invalid premium requests. The counts the
queries must return follow from that traffic; the serving alerts must then be healthy, the
queue-time recording rule must produce a series per Triton model, and the error-ratio alert must
be active for the stage that got bad requests and only for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from chartkit import Docs
from promkit import eventually, pet_premium_served, query, rules, scraping
from serving.calls import bytes_input, call, call_error, dog_photo
from serving.servers import Server

JOB = "modelplane-serving"
NAMESPACE = "claims"
PIPELINE, STAGE = "pet-premium", "pet-premium-regressor"
FEATURES = {"age_years": 4, "weight_kg": 18.5, "sex": "female", "neutered": True, "region": 0}
BAD_FEATURES = {"age_years": "four"}
# (pipeline calls, good stage calls, bad stage calls) per round.
ROUNDS = [(1, 1, 1), (2, 1, 1)]
SEEN = f'modelplane_requests_total{{job="{JOB}", model="{PIPELINE}"}}'
SERVING_METRICS = ("nv_inference_", "modelplane_request", "modelplane:triton")


@pytest.fixture(scope="module")
def server(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``modelplane serve`` with the pet-premium example, the stages standing in for Triton."""
    with pet_premium_served(
        model_repository, tmp_path_factory.mktemp("serve"), [PIPELINE, STAGE]
    ) as started:
        yield started


@pytest.fixture(scope="module")
def prometheus(
    prometheus_bin: str,
    server: Server,
    scenarios: dict[str, Docs],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """Prometheus scraping the server's ``/metrics`` with the chart's rules loaded, under the
    labels a PodMonitor gives a serving pod."""
    folder = tmp_path_factory.mktemp("prometheus")
    labels = {"namespace": NAMESPACE}
    with scraping(
        prometheus_bin, folder, scenarios["01-defaults"], JOB, server.http, labels
    ) as url:
        yield url


def value_of(url: str, promql: str) -> float | None:
    result = query(url, promql)
    return float(result[0]["value"][1]) if len(result) == 1 else None


def send(server: Server, pipeline: int, good: int, bad: int) -> None:
    for seed in range(pipeline):
        result = call(server, "grpc", PIPELINE, image=dog_photo(seed=seed), features=FEATURES)
        assert result["premium"] > 0
    for _ in range(good):
        result = call(server, "http", STAGE, features={**FEATURES, "breed": result["breed"]})
        assert result["premium"] > 0
    for _ in range(bad):
        call_error(server, "http", STAGE, _json_inputs(BAD_FEATURES))


def _json_inputs(features: dict[str, Any]) -> list[Any]:
    return [bytes_input("http", "features", json.dumps(features).encode())]


def seen(url: str, sent: int) -> bool:
    """Prometheus has scraped the pipeline's count after ``sent`` calls."""
    return value_of(url, SEEN) == sent


@pytest.fixture(scope="module")
def traffic(prometheus: str, server: Server) -> dict[str, int]:
    """Both rounds sent, each one seen by Prometheus before the next; the expected totals."""
    assert eventually(lambda: value_of(prometheus, f'up{{job="{JOB}"}}') == 1)
    sent = 0
    for pipeline, good, bad in ROUNDS:
        send(server, pipeline, good, bad)
        sent += pipeline
        assert eventually(partial(seen, prometheus, sent)), query(prometheus, SEEN)
    pipelines = sum(r[0] for r in ROUNDS)
    good = sum(r[1] for r in ROUNDS)
    bad = sum(r[2] for r in ROUNDS)
    return {"pipeline": pipelines, "good": good, "bad": bad}


def test_modelplane_request_counts(prometheus: str, traffic: dict[str, int]) -> None:
    requests = {
        r["metric"]["model"]: float(r["value"][1])
        for r in query(prometheus, f'modelplane_requests_total{{job="{JOB}"}}')
    }
    assert requests == {PIPELINE: traffic["pipeline"], STAGE: traffic["good"] + traffic["bad"]}
    errors = query(prometheus, f'modelplane_request_errors_total{{job="{JOB}"}}')
    assert [(r["metric"]["model"], float(r["value"][1])) for r in errors] == [
        (STAGE, traffic["bad"])
    ]
    (series,) = query(prometheus, f'modelplane_requests_total{{model="{PIPELINE}"}}')
    assert series["metric"]["namespace"] == NAMESPACE and series["metric"]["job"] == JOB


def test_triton_named_counts(prometheus: str, traffic: dict[str, int]) -> None:
    """Each pipeline call runs breed then premium; each good stage call runs premium."""
    success = {
        (r["metric"]["model"], r["metric"]["version"]): float(r["value"][1])
        for r in query(prometheus, f'nv_inference_request_success{{job="{JOB}"}}')
    }
    assert success == {
        ("breed", "1"): traffic["pipeline"],
        ("premium", "1"): traffic["pipeline"] + traffic["good"],
    }


def serving_rules(url: str) -> list[dict[str, Any]]:
    return [r for r in rules(url) if any(m in r["query"] for m in SERVING_METRICS)]


def test_serving_rules_evaluate_on_live_data(prometheus: str, traffic: dict[str, int]) -> None:
    """Every chart rule that reads serving metrics is healthy after the traffic, and the
    queue-time recording rule (which the QueueTimeGrowing alert reads) has a series per model."""
    assert eventually(lambda: query(prometheus, "modelplane:triton_queue_us_per_request:rate5m"))
    loaded = serving_rules(prometheus)
    assert len(loaded) >= 5, [r["name"] for r in loaded]
    assert [
        (r["name"], r["health"], r.get("lastError")) for r in loaded if r["health"] != "ok"
    ] == []
    recorded = query(prometheus, "modelplane:triton_queue_us_per_request:rate5m")
    assert {(r["metric"]["namespace"], r["metric"]["model"]) for r in recorded} == {
        (NAMESPACE, "breed"),
        (NAMESPACE, "premium"),
    }
    assert all(float(r["value"][1]) >= 0 for r in recorded)


def test_error_ratio_alert_is_active_for_the_failing_stage_only(
    prometheus: str, traffic: dict[str, int]
) -> None:
    def active() -> list[dict[str, Any]]:
        (rule,) = [r for r in rules(prometheus, "alert") if r["name"] == "ModelplaneErrorRatioHigh"]
        alerts: list[dict[str, Any]] = rule["alerts"]
        return alerts

    alerts = eventually(active)
    assert [(a["labels"]["model"], a["labels"]["namespace"]) for a in alerts] == [
        (STAGE, NAMESPACE)
    ]
    assert alerts[0]["state"] in {"pending", "firing"}
    assert float(alerts[0]["value"]) > 0.05
