"""Pure rendering of a ModelDeployment's monitoring: metrics Services, ServiceMonitor, rules.

Triton's own metrics (``nv_inference_*`` on port 8002) cover the predictor; the modelplane
transformer and python runtime export ``modelplane_request_*`` on their HTTP port. The SLO rules
read the modelplane histogram for p99 (Triton has no latency histogram by default) and Triton's
success/failure counters for the error ratio where Triton serves.
"""

from __future__ import annotations

from typing import Any

from modelplane_operator.config import Config
from modelplane_operator.naming import LABEL_DEPLOYMENT, child_metadata, dns_name
from modelplane_operator.spec import DeploymentSpec

TRITON_METRICS_PORT = 8002
HTTP_PORT = 8080
ISVC_LABEL = "serving.kserve.io/inferenceservice"


def _metrics_service(
    owner: dict[str, Any], spec: DeploymentSpec, component: str, port_name: str, port: int
) -> dict[str, Any]:
    name = owner["metadata"]["name"]
    metadata = child_metadata(owner, dns_name(name, component, "metrics"), "metrics", spec.stage)
    metadata["labels"]["modelplane.io/metrics"] = "true"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "clusterIP": "None",
            "selector": {ISVC_LABEL: name, "component": component},
            "ports": [{"name": port_name, "port": port, "targetPort": port, "protocol": "TCP"}],
        },
    }


def render_metrics_services(owner: dict[str, Any], spec: DeploymentSpec) -> list[dict[str, Any]]:
    """Headless Services exposing the metrics ports of the predictor (and transformer) pods."""
    if spec.runtime == "python":
        return [_metrics_service(owner, spec, "predictor", "http-metrics", HTTP_PORT)]
    services = [_metrics_service(owner, spec, "predictor", "triton-metrics", TRITON_METRICS_PORT)]
    if spec.transformer:
        services.append(_metrics_service(owner, spec, "transformer", "http-metrics", HTTP_PORT))
    return services


def _monitoring_metadata(
    owner: dict[str, Any], name: str, spec: DeploymentSpec, config: Config
) -> dict[str, Any]:
    """Child metadata plus the labels the cluster's Prometheus selects monitors and rules by
    (config.monitoring_labels, the chart's monitoring.additionalLabels); ours win on clashes."""
    metadata = child_metadata(owner, name, "monitoring", spec.stage)
    metadata["labels"] = config.monitoring_label_map | metadata["labels"]
    return metadata


def render_service_monitor(
    owner: dict[str, Any], spec: DeploymentSpec, config: Config
) -> dict[str, Any]:
    """One ServiceMonitor scraping every metrics Service of this deployment."""
    name = owner["metadata"]["name"]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _monitoring_metadata(owner, name, spec, config),
        "spec": {
            "selector": {"matchLabels": {LABEL_DEPLOYMENT: name, "modelplane.io/metrics": "true"}},
            "endpoints": [
                {"port": port, "path": "/metrics", "interval": "15s"}
                for port in ("triton-metrics", "http-metrics")
            ],
        },
    }


def slo_expressions(namespace: str, deployment: str, spec: DeploymentSpec) -> dict[str, str]:
    """PromQL for p99 latency (seconds) and error ratio of one deployment; one source for both."""
    served = f'namespace="{namespace}",model="{deployment}"'
    p99 = (
        "histogram_quantile(0.99, sum by (le) ("
        f"rate(modelplane_request_duration_seconds_bucket{{{served}}}[5m])))"
    )
    if spec.runtime == "triton":
        triton = f'namespace="{namespace}",model="{spec.model.name}"'
        failed = f"sum(rate(nv_inference_request_failure{{{triton}}}[5m]))"
        ok = f"sum(rate(nv_inference_request_success{{{triton}}}[5m]))"
    else:
        failed = f"sum(rate(modelplane_request_errors_total{{{served}}}[5m]))"
        ok = f"sum(rate(modelplane_requests_total{{{served}}}[5m])) - {failed}"
    return {"p99_seconds": p99, "error_ratio": f"{failed} / clamp_min({ok} + {failed}, 1e-9)"}


def render_prometheus_rule(
    owner: dict[str, Any], spec: DeploymentSpec, config: Config
) -> dict[str, Any]:
    """Alerts for this deployment's SLOs: p99 latency and error ratio over budget."""
    name, namespace = owner["metadata"]["name"], owner["metadata"]["namespace"]
    exprs = slo_expressions(namespace, name, spec)
    slo_s = spec.monitoring.latency_p99_ms / 1000
    budget = spec.monitoring.error_budget_percent / 100
    labels = {"severity": "warning", "namespace": namespace, "modeldeployment": name}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": _monitoring_metadata(owner, dns_name(name, "slo"), spec, config),
        "spec": {
            "groups": [
                {
                    "name": f"modelplane.{namespace}.{name}.slo",
                    "rules": [
                        {
                            "alert": "ModelplaneLatencyP99OverSLO",
                            "expr": f"{exprs['p99_seconds']} > {slo_s:g}",
                            "for": "10m",
                            "labels": labels,
                            "annotations": {
                                "summary": f"{namespace}/{name} p99 latency is over its"
                                f" {spec.monitoring.latency_p99_ms} ms SLO",
                                "runbook_url": config.runbook_url("ModelplaneLatencyP99OverSLO"),
                            },
                        },
                        {
                            "alert": "ModelplaneErrorBudgetBurn",
                            "expr": f"{exprs['error_ratio']} > {budget:g}",
                            "for": "5m",
                            "labels": labels | {"severity": "critical"},
                            "annotations": {
                                "summary": f"{namespace}/{name} error ratio is over its"
                                f" {spec.monitoring.error_budget_percent:g}% budget",
                                "runbook_url": config.runbook_url("ModelplaneErrorBudgetBurn"),
                            },
                        },
                    ],
                }
            ]
        },
    }
