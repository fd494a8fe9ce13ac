"""Monitoring that a stock kube-prometheus-stack sees.

kube-prometheus-stack selects monitors and rules with ``matchLabels: {release: <its release>}``
(its ``serviceMonitorSelector``/``podMonitorSelector``/``ruleSelector`` when
``*SelectorNilUsesHelmValues`` is left on). Every ServiceMonitor, PodMonitor and PrometheusRule,
the chart's and the ones the operator renders per ModelDeployment (configured from the env the
chart gives the operator pod), must match that selector, and every alert must link an absolute
runbook. The rules are loaded into the real Prometheus.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from chartkit import CHART, NAMESPACE, RELEASE, Docs, operator_config, parse_manifests
from helpers import as_stored, load_examples
from helpers import helm_python as require_helm
from modelplane_operator.naming import LABEL_DEPLOYMENT
from modelplane_operator.render_monitoring import render_prometheus_rule, render_service_monitor
from modelplane_operator.spec import parse_deployment
from promkit import eventually, free_port, rules, stop, wait_http

helm_python = require_helm()  # fails, naming `make install`, where it is not installed

MONITORING_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
STACK_RELEASE = "prom-stack"
RUNBOOKS = "https://wiki.claims.local/modelplane/operations.md"
VALUES = {
    "monitoring": {
        "additionalLabels": {"release": STACK_RELEASE},
        "podMonitor": {"enabled": True},
        "rules": {"runbookBaseUrl": RUNBOOKS},
    }
}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector's matchLabels against an object's labels, as the API server reads it."""
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def operator_monitoring(docs: Docs) -> Docs:
    """The ServiceMonitor and PrometheusRule the operator renders for every example deployment,
    with the Config its pod loads from the chart's env."""
    config = operator_config(docs)
    out: Docs = []
    for owner in (as_stored(d) for d in load_examples() if d["kind"] == "ModelDeployment"):
        spec = parse_deployment(owner["spec"])
        out += [
            render_service_monitor(owner, spec, config),
            render_prometheus_rule(owner, spec, config),
        ]
    return out


@pytest.fixture(scope="module")
def stack_docs(render: Callable[..., Docs]) -> Docs:
    return render(VALUES)


@pytest.mark.parametrize(
    ("values", "release"),
    [({}, "kube-prometheus-stack"), (VALUES, STACK_RELEASE)],
    ids=["defaults", "custom-release"],
)
def test_release_selector_finds_every_monitor_and_rule(
    values: dict[str, Any], release: str, render: Callable[..., Docs]
) -> None:
    docs = render(values)
    chart = [d for d in docs if d["kind"] in MONITORING_KINDS]
    operator = operator_monitoring(docs)
    assert {d["kind"] for d in chart} >= {"ServiceMonitor", "PrometheusRule"}
    assert len(operator) >= 6
    selector = {"matchLabels": {"release": release}}
    for obj in chart + operator:
        labels = obj["metadata"].get("labels", {})
        assert selects(selector, labels), (obj["kind"], obj["metadata"]["name"], labels)
    # The operator's own labels are kept: its children stay found by their owner.
    for obj in operator:
        assert obj["metadata"]["labels"][LABEL_DEPLOYMENT], obj["metadata"]["name"]


def test_every_alert_links_an_absolute_runbook(stack_docs: Docs) -> None:
    for rule in [d for d in stack_docs if d["kind"] == "PrometheusRule"] + [
        d for d in operator_monitoring(stack_docs) if d["kind"] == "PrometheusRule"
    ]:
        for group in rule["spec"]["groups"]:
            for item in (r for r in group["rules"] if "alert" in r):
                assert item["annotations"]["runbook_url"] == (
                    f"{RUNBOOKS}#{item['alert'].lower()}"
                ), item["alert"]


def start_rules_only(binary: str, folder: Path, rule_files: list[str]) -> tuple[Any, str]:
    """Prometheus evaluating ``rule_files`` every second, scraping nothing."""
    config = {"global": {"evaluation_interval": "1s"}, "rule_files": rule_files}
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/-/ready")
    except OSError:
        stop(process)
        raise
    return process, f"http://127.0.0.1:{port}"


def test_real_prometheus_loads_chart_and_operator_rules(
    prometheus_bin: str, stack_docs: Docs, tmp_path: Path
) -> None:
    """Prometheus loads and evaluates every group with its runbook_url (no scrape needed)."""
    objects = [*stack_docs, *operator_monitoring(stack_docs)]
    prometheus_rules = [d for d in objects if d["kind"] == "PrometheusRule"]
    files = []
    for index, rule in enumerate(prometheus_rules):
        path = tmp_path / f"rules-{index}.yaml"
        path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        files.append(str(path))
    expected = {
        r["alert"]
        for p in prometheus_rules
        for g in p["spec"]["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    process, url = start_rules_only(prometheus_bin, tmp_path, files)
    try:
        # Evaluated at least once: lastEvaluation leaves Go's zero time (0001-01-01).
        def evaluated() -> list[dict[str, Any]]:
            found = [r for r in rules(url, "alert") if not r["lastEvaluation"].startswith("0001")]
            return found if {r["name"] for r in found} == expected else []

        loaded = eventually(evaluated) or rules(url, "alert")
    finally:
        stop(process)
    assert {r["name"] for r in loaded} == expected
    for rule in loaded:
        assert rule["health"] == "ok", (rule["name"], rule.get("lastError"))
        assert rule["annotations"]["runbook_url"].startswith(RUNBOOKS + "#"), rule["name"]


def test_dashboard_namespaces_come_from_triton_too() -> None:
    dashboard = json.loads((CHART / "dashboards" / "modelplane-overview.json").read_text())
    (namespace,) = [v for v in dashboard["templating"]["list"] if v["name"] == "namespace"]
    query = namespace["query"]["query"]
    assert "nv_inference_request_success" in query and "modelplane_requests_total" in query


def render_with_apis(values: dict[str, Any], api_versions: list[str]) -> dict[str, str]:
    """Render as `helm install` does against a cluster serving ``api_versions``.

    helm-python-sdk's ``render`` has no parameter for the API list, but its native call takes
    Helm's own ``api_versions`` option (``helm template --api-versions``); this passes it.
    """
    from helm_python import _native

    with helm_python.Chart.load(CHART) as chart:
        options = {
            "name": RELEASE,
            "namespace": NAMESPACE,
            "is_install": True,
            "api_versions": api_versions,
        }
        raw = _native.call_string(
            "helm_render", chart._raw(), json.dumps(values), json.dumps(options)
        )
    rendered: dict[str, str] = json.loads(raw)
    return rendered


KSERVE = ["serving.kserve.io/v1beta1", "serving.kserve.io/v1alpha1"]


def test_install_fails_clearly_without_monitoring_crds() -> None:
    with pytest.raises(helm_python.HelmRenderError, match=r"monitoring\.coreos\.com/v1"):
        render_with_apis({}, KSERVE)
    docs = parse_manifests(render_with_apis({}, [*KSERVE, "monitoring.coreos.com/v1"]))
    assert [d for d in docs if d["kind"] == "ServiceMonitor"]
    off = parse_manifests(render_with_apis({"monitoring": {"enabled": False}}, KSERVE))
    assert not [d for d in off if d["kind"] in MONITORING_KINDS]
