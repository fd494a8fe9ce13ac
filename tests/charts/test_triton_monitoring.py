"""The chart's and the operator's rules, and the Grafana dashboard, against real Triton series.

``modelplane serve --predictors triton`` serves the pet-premium example with one real
``tritonserver`` (issue 23): its ``/metrics`` carries Triton's own ``nv_inference_*`` series next
to the stages' ``modelplane_*`` ones. A real Prometheus scrapes it every second under the labels a
ServiceMonitor's endpoint gives a predictor pod's target (job = the Service, namespace, pod,
service, endpoint, container), with the chart's PrometheusRule and the PrometheusRule the operator
renders for every example ModelDeployment loaded. After a short load in two rounds (so rates
see increases, the second one concurrent so Triton's queue fills):

- every rule evaluates without error;
- the latency and queue expressions with their threshold comparison removed return series;
- every Grafana panel query runs; those that read serving series return data, and the ones
  that need the operator's metrics or a GPU are listed with the reason they stay empty here.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from chartkit import CHART, Docs, find, operator_config
from helpers import as_stored, load_examples
from modelplane_operator.render_monitoring import render_prometheus_rule
from modelplane_operator.spec import parse_deployment
from promkit import eventually, pet_premium_served, query, rules, scraping
from serving.calls import call, dog_photo
from serving.servers import Server

NAMESPACE = "pets"
PIPELINE = "pet-premium"
LOADED = ("pet-breed", "pet-premium-regressor")  # the deployments the load goes through
FEATURES = {"age_years": 4, "weight_kg": 18.5, "sex": "female", "neutered": True, "region": 0}
# What a ServiceMonitor endpoint adds to a predictor pod's samples (Prometheus operator).
TARGET_LABELS = {
    "namespace": NAMESPACE,
    "pod": "pet-breed-predictor-00001-deployment-7d9f8-x2kq4",
    "service": "pet-breed-predictor-metrics",
    "endpoint": "triton-metrics",
    "container": "kserve-container",
}
# Dashboard panels that stay empty here, and why (what only a cluster or a GPU shows).
EMPTY_HERE = {
    "CRs by phase": "the operator's metrics (not scraped in this test)",
    "Reconciles/s by result": "the operator's metrics",
    "Reconcile p99 duration": "the operator's metrics",
    "GPU memory used": "Triton exports nv_gpu_* only where it sees a GPU",
}
GRAFANA = {"$__rate_interval": "1m", "$namespace": NAMESPACE, "$operator_job": ".+"}
THRESHOLD = re.compile(r"\s*>\s*[0-9.e+-]+\s*$")


def operator_rules(docs: Docs) -> Docs:
    """The PrometheusRule the operator renders for every example, in this test's namespace,
    with the Config its pod loads from the chart's env."""
    config = operator_config(docs)
    out: Docs = []
    for manifest in load_examples():
        if manifest["kind"] != "ModelDeployment":
            continue
        owner = as_stored(manifest, NAMESPACE)
        out.append(render_prometheus_rule(owner, parse_deployment(owner["spec"]), config))
    return out


@pytest.fixture(scope="module")
def server(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``modelplane serve`` with the pet-premium example, its models in one real Triton."""
    folder = tmp_path_factory.mktemp("serve")
    with pet_premium_served(
        model_repository, folder, [PIPELINE], "--predictors", "triton"
    ) as started:
        yield started


@pytest.fixture(scope="module")
def prometheus(
    prometheus_bin: str,
    server: Server,
    scenarios: dict[str, Docs],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """Prometheus scraping the server with the chart's and the operator's rules loaded; a
    ServiceMonitor's job is its Service's name."""
    defaults = scenarios["01-defaults"]
    docs = [*find(defaults, "PrometheusRule"), *operator_rules(defaults)]
    folder = tmp_path_factory.mktemp("prometheus")
    job = TARGET_LABELS["service"]
    with scraping(prometheus_bin, folder, docs, job, server.http, TARGET_LABELS) as url:
        yield url


def scraped_calls(url: str) -> float:
    found = query(
        url, f'sum(nv_inference_request_success{{namespace="{NAMESPACE}",model="breed"}})'
    )
    return float(found[0]["value"][1]) if found else -1.0


@pytest.fixture(scope="module")
def load(prometheus: str, server: Server) -> int:
    """Two rounds (3 calls, then 8 at once: the stages' default in-flight cap), each seen by
    Prometheus before the next; breed
    runs twice per call (pipeline and stage)."""
    sent = 0
    for size in (3, 8):
        with ThreadPoolExecutor(size) as pool:
            list(pool.map(partial(_call, server), range(sent, sent + size)))
        sent += size
        assert eventually(lambda n=sent: scraped_calls(prometheus) == 2 * n), sent
    return sent


def _call(server: Server, seed: int) -> None:
    """The pipeline, then each step's stage over the wire, as KServe's router calls the
    transformers in a cluster (locally the pipeline calls its stages in-process, uncounted)."""
    photo = dog_photo(seed=seed)
    assert call(server, "grpc", PIPELINE, image=photo, features=FEATURES)["breed"]
    assert call(server, "grpc", LOADED[0], image=photo)["breed"]
    # a breed the regressor knows (the photo's may be "unknown": premium would refuse it)
    assert call(server, "grpc", LOADED[1], features={**FEATURES, "breed": "beagle"})["premium"] > 0


def all_rules(url: str) -> list[dict[str, Any]]:
    def evaluated() -> list[dict[str, Any]]:
        loaded = rules(url)
        return loaded if all(not r["lastEvaluation"].startswith("0001") for r in loaded) else []

    return eventually(evaluated) or rules(url)


def test_every_rule_evaluates_without_error(prometheus: str, load: int) -> None:
    loaded = all_rules(prometheus)
    examples = [d for d in load_examples() if d["kind"] == "ModelDeployment"]
    assert len(loaded) >= 9 + 2 * len(examples), [r["name"] for r in loaded]
    assert [(r["name"], r.get("lastError")) for r in loaded if r["health"] != "ok"] == []


def without_thresholds(expr: str) -> list[str]:
    """The parts of an alert expression with their ``> threshold`` removed (``and`` split)."""
    return [THRESHOLD.sub("", part.strip()) for part in re.split(r"\band\b", expr)]


def test_latency_and_queue_expressions_return_series(prometheus: str, load: int) -> None:
    loaded = all_rules(prometheus)
    latency = [r for r in loaded if r["name"] == "ModelplaneLatencyP99High"]
    queue = [r for r in loaded if r["name"] == "ModelplaneQueueTimeGrowing"]
    slo = [
        r
        for r in loaded
        if r["name"] == "ModelplaneLatencyP99OverSLO" and r["labels"]["modeldeployment"] in LOADED
    ]
    assert len(latency) == 1 and len(queue) == 1 and len(slo) == len(LOADED)
    recorded = "modelplane:triton_queue_us_per_request:rate5m"
    expressions = [recorded] + [
        part for rule in latency + queue + slo for part in without_thresholds(rule["query"])
    ]
    assert any("deriv(" in e for e in expressions)
    for expr in expressions:
        found = eventually(partial(query, prometheus, expr))
        assert found, expr
        assert all(r["metric"].get("namespace", NAMESPACE) == NAMESPACE for r in found), expr
    models = {r["metric"]["model"] for r in query(prometheus, recorded)}
    assert models == {"breed", "premium"}
    assert float(query(prometheus, f'max({recorded}{{model="breed"}})')[0]["value"][1]) > 0


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads((CHART / "dashboards" / "modelplane-overview.json").read_text())
    out = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA.items():
                expr = expr.replace(variable, value)
            out.append((panel["title"], expr))
    return out


def test_dashboard_queries_return_data(prometheus: str, load: int) -> None:
    queries = dashboard_queries()
    assert {title for title, _ in queries} >= set(EMPTY_HERE)
    for title, expr in queries:
        query(prometheus, expr)  # asserts that the query ran ("success")
        if title not in EMPTY_HERE:
            assert eventually(partial(query, prometheus, expr)), (title, expr)
    match = urllib.parse.urlencode(
        {"match[]": '{__name__=~"modelplane_requests_total|nv_inference_request_success"}'}
    )
    with urllib.request.urlopen(f"{prometheus}/api/v1/label/namespace/values?{match}") as reply:
        assert NAMESPACE in json.load(reply)["data"]  # the dashboard's namespace variable
