"""A real Prometheus on loopback scrapes the operator's metrics and evaluates the chart's rules.

The scraped process is the operator's own metrics module served by ``prometheus_client`` (what
``modelplane-operator --metrics-port`` serves) after a few reconciles were counted, next to a
``/healthz`` endpoint; the helm test pod's script is run against both. Prometheus gets the job
and namespace labels the chart's ServiceMonitor produces, so the ModelplaneOperatorDown
expression is checked on live data: quiet while the target is up, firing once it is gone.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from chartkit import NAMESPACE, RELEASE, Docs, find

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
    (rule,) = find(scenarios["01-defaults"], "PrometheusRule")
    (folder / "rules.yaml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(folder / "rules.yaml")],
        "scrape_configs": [
            {
                "job_name": RELEASE,  # the chart's ServiceMonitor sets job=<fullname>
                "static_configs": [
                    {
                        "targets": [f"127.0.0.1:{ports['metrics']}"],
                        "labels": {"namespace": NAMESPACE},
                    }
                ],
            }
        ],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{ports['prometheus']}"
    process = subprocess.Popen(
        [
            prometheus_bin,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{ports['prometheus']}",
            "--storage.tsdb.retention.time=1h",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_http(f"{url}/-/ready")
        yield url
    finally:
        stop(process)


def query(url: str, promql: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(
        f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": promql}), timeout=5
    ) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll until ``check`` returns something truthy (scrapes and rules run 1 s apart)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


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
        with urllib.request.urlopen(f"{prometheus}/api/v1/rules", timeout=5) as response:
            groups = json.load(response)["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return (
            rules
            if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules)
            else []
        )

    rules = eventually(evaluated)
    assert len(rules) == 9
    assert {r["health"] for r in rules} == {"ok"}, [r.get("lastError") for r in rules]


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
    (rule,) = [r for r in _chart_alerts(prometheus) if r["name"] == "ModelplaneOperatorDown"]
    assert query(prometheus, rule["query"]) == []
    stop(operator)
    fired = eventually(lambda: query(prometheus, rule["query"]))
    assert fired and float(fired[0]["value"][1]) == 1


def _chart_alerts(prometheus: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{prometheus}/api/v1/rules?type=alert", timeout=5) as response:
        groups = json.load(response)["data"]["groups"]
    return [r for g in groups for r in g["rules"]]
