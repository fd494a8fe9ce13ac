"""Alert rules under promtool: syntax (`check rules`) and behaviour (`test rules`).

The rule groups are taken from the PrometheusRule the chart renders (so what is tested is what
gets installed), written to a rules file, and each alert gets two unit tests: a series that
makes it fire (with the exact labels and annotations a person would read) and one that keeps
it quiet. The operator's per-ModelDeployment SLO rules are checked the same way, and every
alert of both must have a runbook section in docs/operations.md.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from chartkit import CHART, NAMESPACE, OPERATIONS_DOC, Docs, alert_anchor, find
from helpers import as_stored, load_examples, make_deployment
from modelplane_operator.config import Config
from modelplane_operator.render_monitoring import render_prometheus_rule
from modelplane_operator.spec import parse_deployment

NS = 'namespace="claims"'
OP = f'namespace="{NAMESPACE}"'
# The chart's default runbookBaseUrl; the operator's Config defaults to the same.
RUNBOOK_BASE = "https://modelplane.example.com/docs/operations.md"
RUNBOOK = RUNBOOK_BASE + "#"


def series(metric: str, values: str, namespace: str = "claims", **labels: str) -> dict[str, str]:
    """One promtool input series; ``namespace`` is what the scrape would add."""
    text = ",".join(f'{k}="{v}"' for k, v in {"namespace": namespace, **labels}.items())
    return {"series": f"{metric}{{{text}}}", "values": values}


def op_series(metric: str, values: str, **labels: str) -> dict[str, str]:
    """A series scraped from the operator (in the release namespace)."""
    return series(metric, values, namespace=NAMESPACE, **labels)


def queue_series(first_us: float, growth_us: float, minutes: int = 60) -> str:
    """Cumulative Triton queue microseconds for 1 request/s whose wait grows linearly."""
    total, values = 0.0, ["0"]
    for minute in range(minutes):
        total += 60 * (first_us + growth_us * minute)
        values.append(f"{total:.0f}")
    return " ".join(values)


def latency_buckets(slow_share: float) -> list[dict[str, str]]:
    """A request-duration histogram at 10 requests/s; ``slow_share`` of them take 1-2.5 s."""
    fast, slow = 10 * (1 - slow_share), 10 * slow_share
    per_bucket = {"0.5": fast, "1": fast, "2.5": fast + slow, "+Inf": fast + slow}
    series = 'modelplane_request_duration_seconds_bucket{%s,model="gate",le="%s"}'
    return [
        {"series": series % (NS, le), "values": f"0+{rate * 60:g}x30"}
        for le, rate in per_bucket.items()
    ]


# alert -> (fire input, quiet input, eval time, expected labels, expected annotations)
CASES: dict[str, dict[str, Any]] = {
    "ModelplaneOperatorDown": {
        "fire": [op_series("up", "0x20", job="modelplane", instance="10.0.0.1:9090")],
        "quiet": [op_series("up", "1x20", job="modelplane", instance="10.0.0.1:9090")],
        "eval": "10m",
        "labels": {"severity": "critical", "job": "modelplane", "namespace": NAMESPACE},
        "annotations": {
            "summary": "The modelplane operator is down or not scraped",
            "description": "No healthy scrape of job modelplane in modelplane-system for 5 minutes;"
            " ModelDeployments and ModelPipelines are not reconciled.",
        },
    },
    "ModelplaneOperatorNoLeader": {
        # Two replicas scraped, both on standby (the holder lost the Lease and none took it).
        "fire": [
            op_series("modelplane_operator_leader", "0x20", job="modelplane", identity=pod, pod=pod)
            for pod in ("op-a", "op-b")
        ],
        # A normal fail-over: a minute without a leader, then the standby is active.
        "quiet": [
            op_series("modelplane_operator_leader", "1x5 0x1 0x8", job="modelplane", pod="op-a"),
            op_series("modelplane_operator_leader", "0x5 0x1 1x8", job="modelplane", pod="op-b"),
        ],
        "eval": "10m",
        "labels": {"severity": "critical", "namespace": NAMESPACE},
        "annotations": {
            "summary": "No modelplane operator replica holds the leader Lease",
            "description": f"Operator replicas in {NAMESPACE} are up but none is active for 2"
            " minutes; ModelDeployments and ModelPipelines are not reconciled.",
        },
    },
    "ModelplaneReconcileErrors": {
        "fire": [
            op_series(
                "modelplane_operator_reconciles_total",
                "0+6x40",
                kind="ModelDeployment",
                result="error",
            ),
            op_series(
                "modelplane_operator_reconciles_total",
                "0+10x40",
                kind="ModelDeployment",
                result="ok",
            ),
        ],
        "quiet": [
            op_series(
                "modelplane_operator_reconciles_total",
                "0+0x40",
                kind="ModelDeployment",
                result="error",
            ),
            op_series(
                "modelplane_operator_reconciles_total",
                "0+6x40",
                kind="ModelDeployment",
                result="retry",
            ),
            op_series(
                "modelplane_operator_reconciles_total",
                "0+10x40",
                kind="ModelDeployment",
                result="ok",
            ),
        ],
        "eval": "35m",
        "labels": {"severity": "warning", "namespace": NAMESPACE, "kind": "ModelDeployment"},
        "annotations": {
            "summary": "ModelDeployment reconciles are failing",
            "description": "37.5% of ModelDeployment reconciles ended in an API error"
            " over 15 minutes.",
        },
    },
    "ModelplaneModelNotReady": {
        "fire": [
            op_series(
                "modelplane_operator_resources",
                "2x30",
                pod="op-1",
                kind="ModelDeployment",
                phase="Failed",
            ),
            op_series(
                "modelplane_operator_resources",
                "3x30",
                pod="op-1",
                kind="ModelDeployment",
                phase="Ready",
            ),
        ],
        "quiet": [
            op_series(
                "modelplane_operator_resources",
                "0x30",
                pod="op-1",
                kind="ModelDeployment",
                phase="Failed",
            ),
            op_series(
                "modelplane_operator_resources",
                "5x30",
                pod="op-1",
                kind="ModelDeployment",
                phase="Ready",
            ),
        ],
        "eval": "20m",
        "labels": {
            "severity": "warning",
            "namespace": NAMESPACE,
            "kind": "ModelDeployment",
            "phase": "Failed",
        },
        "annotations": {
            "summary": "2 ModelDeployment objects are Failed",
            "description": "Run kubectl get md,mp -A:"
            " their Ready condition says why they do not serve.",
        },
    },
    "ModelplaneLatencyP99High": {
        "fire": latency_buckets(0.5),
        "quiet": latency_buckets(0.0),
        "eval": "20m",
        "labels": {"severity": "warning", "namespace": "claims", "model": "gate"},
        "annotations": {
            "summary": "claims/gate p99 latency is over the platform SLO of 1s",
            "description": "p99 latency is 2.47s.",
        },
    },
    "ModelplaneErrorRatioHigh": {
        "fire": [
            series("modelplane_request_errors_total", "0+10x20", model="gate"),
            series("modelplane_requests_total", "0+100x20", model="gate"),
        ],
        "quiet": [
            series("modelplane_request_errors_total", "0+1x20", model="gate"),
            series("modelplane_requests_total", "0+100x20", model="gate"),
        ],
        "eval": "15m",
        "labels": {"severity": "critical", "namespace": "claims", "model": "gate"},
        "annotations": {
            "summary": "claims/gate fails over 5% of requests",
            "description": "Error ratio is 10% (modelplane servers and transformers).",
        },
    },
    "ModelplaneTritonErrorRatioHigh": {
        "fire": [
            series("nv_inference_request_failure", "0+10x20", model="quality-gate", version="1"),
            series("nv_inference_request_success", "0+90x20", model="quality-gate", version="1"),
        ],
        "quiet": [
            series("nv_inference_request_failure", "0+1x20", model="quality-gate", version="1"),
            series("nv_inference_request_success", "0+99x20", model="quality-gate", version="1"),
        ],
        "eval": "15m",
        "labels": {"severity": "critical", "namespace": "claims", "model": "quality-gate"},
        "annotations": {
            "summary": "Triton model claims/quality-gate fails over 5% of requests",
            "description": "Error ratio is 10% (nv_inference_request_failure).",
        },
    },
    "ModelplaneGPUMemoryNearFull": {
        "fire": [
            series("nv_gpu_memory_used_bytes", "76e9x20", pod="gate-0", gpu_uuid="GPU-1"),
            series("nv_gpu_memory_total_bytes", "80e9x20", pod="gate-0", gpu_uuid="GPU-1"),
        ],
        "quiet": [
            series("nv_gpu_memory_used_bytes", "40e9x20", pod="gate-0", gpu_uuid="GPU-1"),
            series("nv_gpu_memory_total_bytes", "80e9x20", pod="gate-0", gpu_uuid="GPU-1"),
        ],
        "eval": "15m",
        "labels": {
            "severity": "warning",
            "namespace": "claims",
            "pod": "gate-0",
            "gpu_uuid": "GPU-1",
        },
        "annotations": {
            "summary": "GPU GPU-1 of claims/gate-0 is 95% full",
            "description": "The next model load or engine rebuild on this GPU"
            " may fail with out-of-memory.",
        },
    },
    "ModelplaneQueueTimeGrowing": {
        "fire": [
            series(
                "nv_inference_queue_duration_us",
                queue_series(60_000, 2_000),
                model="doc-detector",
                version="1",
            ),
            series("nv_inference_request_success", "0+60x60", model="doc-detector", version="1"),
        ],
        # As long a wait, but steady: the queue is not growing, so no alert.
        "quiet": [
            series(
                "nv_inference_queue_duration_us",
                queue_series(120_000, 0),
                model="doc-detector",
                version="1",
            ),
            series("nv_inference_request_success", "0+60x60", model="doc-detector", version="1"),
        ],
        "eval": "45m",
        "labels": {"severity": "warning", "namespace": "claims", "model": "doc-detector"},
        "annotations": {
            "summary": "Requests to claims/doc-detector wait longer and longer in Triton's queue",
            "description": "Mean queue time is 144k\u00b5s per request and still rising:"
            " the model needs more replicas or bigger batches.",
        },
    },
}


@pytest.fixture(scope="module")
def chart_rules(scenarios: dict[str, Docs]) -> dict[str, Any]:
    """The rule groups of the chart's PrometheusRule, as a Prometheus rules file."""
    (rule,) = find(scenarios["01-defaults"], "PrometheusRule")
    return {"groups": rule["spec"]["groups"]}


@pytest.fixture(scope="module")
def rules_file(chart_rules: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "modelplane-rules.yaml"
    path.write_text(yaml.safe_dump(chart_rules, sort_keys=False))
    return path


def alerts(groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in groups for r in g["rules"] if "alert" in r}


def run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60)


def test_promtool_check_rules(promtool: str, rules_file: Path) -> None:
    result = run(promtool, "check", "rules", str(rules_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 10 rules found" in result.stdout


def test_every_alert_has_a_case(chart_rules: dict[str, Any]) -> None:
    """The issue's list: operator down, reconcile errors, model not ready, p99 over SLO, error
    ratio over budget, GPU memory near full, queue time growing."""
    assert sorted(alerts(chart_rules["groups"])) == sorted(CASES)


@pytest.mark.parametrize("alert", sorted(CASES))
def test_alert_fires_and_stays_quiet(
    alert: str, promtool: str, rules_file: Path, tmp_path: Path
) -> None:
    case = CASES[alert]
    expected = {
        "exp_labels": case["labels"],
        "exp_annotations": case["annotations"] | {"runbook_url": RUNBOOK + alert_anchor(alert)},
    }
    tests = [
        {
            "interval": "1m",
            "input_series": case["fire"],
            "alert_rule_test": [
                {"eval_time": case["eval"], "alertname": alert, "exp_alerts": [expected]}
            ],
        },
        {
            "interval": "1m",
            "input_series": case["quiet"],
            "alert_rule_test": [{"eval_time": case["eval"], "alertname": alert, "exp_alerts": []}],
        },
    ]
    test_file = tmp_path / f"{alert}.test.yaml"
    test_file.write_text(
        yaml.safe_dump(
            {"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": tests},
            sort_keys=False,
            allow_unicode=True,
        )
    )
    result = run(promtool, "test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_catches_a_wrong_expectation(
    promtool: str, rules_file: Path, tmp_path: Path
) -> None:
    """Guard the guard: a quiet series claimed to fire makes promtool fail."""
    case = CASES["ModelplaneErrorRatioHigh"]
    test = {
        "interval": "1m",
        "input_series": case["quiet"],
        "alert_rule_test": [
            {
                "eval_time": case["eval"],
                "alertname": "ModelplaneErrorRatioHigh",
                "exp_alerts": [{"exp_labels": case["labels"]}],
            }
        ],
    }
    test_file = tmp_path / "wrong.test.yaml"
    test_file.write_text(yaml.safe_dump({"rule_files": [str(rules_file)], "tests": [test]}))
    assert run(promtool, "test", "rules", str(test_file)).returncode != 0


def operator_rules() -> list[dict[str, Any]]:
    """The operator's per-deployment PrometheusRules for the examples and both runtimes."""
    owners = [as_stored(d) for d in load_examples() if d["kind"] == "ModelDeployment"]
    owners.append(
        make_deployment(
            "py",
            runtime="python",
            model={"name": "premium", "format": "python", "storageUri": "pvc://models/premium"},
        )
    )
    owners.append(
        make_deployment("strict", monitoring={"latencyP99Ms": 80, "errorBudgetPercent": 0.1})
    )
    return [
        render_prometheus_rule(owner, parse_deployment(owner["spec"]), Config()) for owner in owners
    ]


def test_operator_rules_pass_promtool(
    promtool: str, tmp_path: Path, validate: Callable[[dict[str, Any]], None]
) -> None:
    rules = operator_rules()
    assert len(rules) >= 6
    for index, rule in enumerate(rules):
        validate(rule)
        path = tmp_path / f"operator-{index}.yaml"
        path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        result = run(promtool, "check", "rules", str(path))
        assert result.returncode == 0, f"{rule['metadata']['name']}: {result.stdout}{result.stderr}"


def _runbook_anchors() -> set[str]:
    """Anchors of the level-3 headings in docs/operations.md (GitHub slug: lower case)."""
    headings = re.findall(r"^### (\S+)\s*$", OPERATIONS_DOC.read_text(), flags=re.MULTILINE)
    return {alert_anchor(h) for h in headings}


def test_every_alert_has_a_runbook(chart_rules: dict[str, Any]) -> None:
    """Chart and operator alerts alike: a section with what it means, what to check, what to do."""
    anchors = _runbook_anchors()
    text = OPERATIONS_DOC.read_text()
    chart_alerts = alerts(chart_rules["groups"])
    operator_alerts = {
        a: r for rule in operator_rules() for a, r in alerts(rule["spec"]["groups"]).items()
    }
    for name, rule in (chart_alerts | operator_alerts).items():
        link = rule["annotations"]["runbook_url"]
        assert link == f"{RUNBOOK_BASE}#{alert_anchor(name)}", (name, link)
        assert alert_anchor(name) in anchors, f"docs/operations.md has no '### {name}'"
        section = text.split(f"### {name}", 1)[1].split("\n### ", 1)[0]
        for part in ("**Means:**", "**Check:**", "**Do:**"):
            assert part in section, f"{name}: runbook lacks {part}"


def test_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    """Every panel's PromQL parses (Grafana variables replaced by what Grafana sends)."""
    dashboard = json.loads((CHART / "dashboards" / "modelplane-overview.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) == len(dashboard["panels"]) >= 8
    substituted = [
        e.replace("$__rate_interval", "1m")
        .replace("$namespace", ".*")
        .replace("$operator_job", ".*")
        for e in exprs
    ]
    assert not [e for e in substituted if "$" in e.replace("$1", "")]
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:panel{i}", "expr": e} for i, e in enumerate(substituted)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump(rules))
    result = run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
