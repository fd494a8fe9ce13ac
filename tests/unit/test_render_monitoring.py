"""ServiceMonitor, metrics Services and SLO PrometheusRule rendering."""

from __future__ import annotations

from helpers import make_deployment
from modelplane_operator.config import Config
from modelplane_operator.render_monitoring import (
    render_metrics_services,
    render_prometheus_rule,
    render_service_monitor,
)
from modelplane_operator.spec import parse_deployment


def test_triton_stage_exposes_triton_and_transformer_metrics() -> None:
    owner = make_deployment()
    services = render_metrics_services(owner, parse_deployment(owner["spec"]))
    ports = {s["spec"]["selector"]["component"]: s["spec"]["ports"][0] for s in services}
    assert ports["predictor"]["name"] == "triton-metrics" and ports["predictor"]["port"] == 8002
    assert ports["transformer"]["name"] == "http-metrics" and ports["transformer"]["port"] == 8080
    assert all(
        s["spec"]["selector"]["serving.kserve.io/inferenceservice"] == "gate" for s in services
    )


def test_python_runtime_exposes_one_metrics_port() -> None:
    owner = make_deployment(
        stage="document-parse",
        runtime="python",
        model={"name": "parse", "format": "python", "storageUri": "pvc://m"},
    )
    services = render_metrics_services(owner, parse_deployment(owner["spec"]))
    assert [s["spec"]["ports"][0]["name"] for s in services] == ["http-metrics"]


def test_service_monitor_selects_only_this_deployments_services() -> None:
    owner = make_deployment()
    monitor = render_service_monitor(owner, parse_deployment(owner["spec"]), Config())
    services = render_metrics_services(owner, parse_deployment(owner["spec"]))
    selector = monitor["spec"]["selector"]["matchLabels"]
    for service in services:
        assert selector.items() <= service["metadata"]["labels"].items()
    assert {e["port"] for e in monitor["spec"]["endpoints"]} == {"triton-metrics", "http-metrics"}


def test_rules_carry_the_crs_slos() -> None:
    owner = make_deployment(monitoring={"latencyP99Ms": 300, "errorBudgetPercent": 0.5})
    rule = render_prometheus_rule(owner, parse_deployment(owner["spec"]), Config())
    alerts = {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"]}
    latency, errors = alerts["ModelplaneLatencyP99OverSLO"], alerts["ModelplaneErrorBudgetBurn"]
    assert latency["expr"].endswith("> 0.3")
    assert "histogram_quantile(0.99" in latency["expr"]
    assert errors["expr"].endswith("> 0.005")
    assert "nv_inference_request_failure" in errors["expr"]
    assert 'namespace="claims"' in errors["expr"] and 'model="quality-gate"' in errors["expr"]
    assert errors["labels"]["severity"] == "critical"
