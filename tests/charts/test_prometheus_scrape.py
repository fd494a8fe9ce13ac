"""A real Prometheus on loopback scrapes the operator's metrics and evaluates the chart's rules.

The scraped process is the operator's own metrics module served by ``prometheus_client`` (what
``modelplane-operator --metrics-port`` serves) after a few reconciles were counted, next to a
``/healthz`` endpoint; the helm test pod's script is run against both. Prometheus gets the job
and namespace labels the chart's ServiceMonitor produces, so the ModelplaneOperatorDown
expression is checked on live data: quiet while the target is up, firing once it is gone.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chartkit import NAMESPACE, RELEASE, Docs, find
from promkit import eventually, free_port, query, rules, scraping, stop, wait_http

FAKE_OPERATOR = """
import http.server, sys, threading
from prometheus_client import start_http_server
from modelplane_operator.metrics import RECONCILE_SECONDS, RECONCILES, PhaseBook

metrics_port, health_port = int(sys.argv[1]), int(sys.argv[2])
for _ in range(3):
    RECONCILES.labels("ModelDeployment", "ok").inc()
    RECONCILE_SECONDS.labels("ModelDeployment").observe(0.02)
RECONCILES.labels("ModelPipeline", "spec_error").inc()
book = PhaseBook()
book.record("ModelDeployment", "claims", "car-quality-gate", "Ready")
book.record("ModelDeployment", "claims", "doc-parse", "Failed")


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


start_http_server(metrics_port, addr="127.0.0.1")
server = http.server.HTTPServer(("127.0.0.1", health_port), Health)
print("ready", flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {"metrics": free_port(), "health": free_port(), "prometheus": free_port()}


@pytest.fixture(scope="module")
def operator(ports: dict[str, int]) -> Iterator[subprocess.Popen[str]]:
    """The operator's metrics module and a health endpoint in a process of their own."""
    process = subprocess.Popen(
        [sys.executable, "-c", FAKE_OPERATOR, str(ports["metrics"]), str(ports["health"])],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        wait_http(f"http://127.0.0.1:{ports['metrics']}/metrics")
        yield process
    finally:
        stop(process)


@pytest.fixture(scope="module")
def prometheus(
    prometheus_bin: str,
    ports: dict[str, int],
    scenarios: dict[str, Docs],
    operator: subprocess.Popen[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """Prometheus scraping the operator every second and evaluating the chart's rules."""
    folder = tmp_path_factory.mktemp("prometheus")
    target = f"127.0.0.1:{ports['metrics']}"
    labels = {"namespace": NAMESPACE}
    # the chart's ServiceMonitor sets job=<fullname>
    with scraping(
        prometheus_bin,
        folder,
        scenarios["01-defaults"],
        RELEASE,
        target,
        labels,
        port=ports["prometheus"],
    ) as url:
        yield url


def test_operator_series_are_scraped(prometheus: str) -> None:
    ok = eventually(lambda: query(prometheus, 'modelplane_operator_reconciles_total{result="ok"}'))
    assert len(ok) == 1
    labels = ok[0]["metric"]
    assert labels["job"] == RELEASE and labels["namespace"] == NAMESPACE
    assert labels["kind"] == "ModelDeployment" and float(ok[0]["value"][1]) == 3
    failed = query(prometheus, 'modelplane_operator_resources{phase="Failed"}')
    assert [float(r["value"][1]) for r in failed] == [1]
    count = query(prometheus, "modelplane_operator_reconcile_duration_seconds_count")
    assert [float(r["value"][1]) for r in count] == [3]


def test_chart_rules_evaluate_without_errors(prometheus: str) -> None:
    def evaluated() -> list[dict[str, Any]]:
        loaded = rules(prometheus)
        done = all(r.get("lastEvaluation", "").startswith("20") for r in loaded)
        return loaded if loaded and done else []

    loaded = eventually(evaluated)
    assert len(loaded) == 10  # every rule of the chart, ModelplaneOperatorNoLeader included
    assert {r["health"] for r in loaded} == {"ok"}, [r.get("lastError") for r in loaded]


def test_model_not_ready_expression_sees_the_failed_deployment(prometheus: str) -> None:
    """The ModelNotReady expression on live data names the kind and phase (``for`` aside)."""
    result = eventually(
        lambda: query(
            prometheus,
            "sum by (namespace, kind, phase) (max without (instance, pod) "
            '(modelplane_operator_resources{phase=~"Failed|Degraded"})) > 0',
        )
    )
    assert [(r["metric"]["kind"], r["metric"]["phase"]) for r in result] == [
        ("ModelDeployment", "Failed")
    ]


def test_helm_test_script_passes_against_a_healthy_operator(
    render: Callable[..., Docs], ports: dict[str, int], operator: subprocess.Popen[str]
) -> None:
    """The `helm test` pod's script, rendered for these ports, run against loopback."""
    docs = render({"operator": {"healthPort": ports["health"], "metricsPort": ports["metrics"]}})
    (pod,) = find(docs, "Pod")
    script = pod["spec"]["containers"][0]["command"][-1]
    script = script.replace(f"http://{RELEASE}.{NAMESPACE}.svc", "http://127.0.0.1")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "healthz 200" in result.stdout


def test_operator_down_fires_when_the_target_is_gone(
    prometheus: str, operator: subprocess.Popen[str]
) -> None:
    """Runs last in this module: it stops the scraped process."""
    (rule,) = [r for r in rules(prometheus, "alert") if r["name"] == "ModelplaneOperatorDown"]
    assert query(prometheus, rule["query"]) == []
    stop(operator)
    fired = eventually(lambda: query(prometheus, rule["query"]))
    assert fired and float(fired[0]["value"][1]) == 1
