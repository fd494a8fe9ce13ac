"""Upgrading from the previous chart version applies the new CRDs.

tests/charts/data/modelplane-0.1.0.tgz is the chart as released before (``helm package`` of
commit 3390d18). Helm installs ``crds/`` once and skips it on upgrade; the previous chart had
nothing else, so its CRDs stayed at the first install's schema. The current chart renders a
pre-install/pre-upgrade hook Job that applies its CRDs (tests/integration/test_crd_upgrade.py
runs that Job's command against the emulator).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from chartkit import CHART, NAMESPACE, RELEASE, find, parse_manifests
from helpers import PREVIOUS_CHART, helm_python, previous_chart_crd

helm = helm_python()  # fails, naming `make install`, where it is not installed


def render_upgrade(chart_path: Path) -> list[dict[str, Any]]:
    with helm.Chart.load(chart_path) as chart:
        rendered = chart.render(
            values={}, name=RELEASE, namespace=NAMESPACE, revision=2, is_upgrade=True
        )
    return parse_manifests(rendered)


@pytest.fixture(scope="module")
def upgrade() -> list[dict[str, Any]]:
    return render_upgrade(CHART)


def hook_crds(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    (configmap,) = [
        d
        for d in find(docs, "ConfigMap")
        if d["metadata"]["labels"].get("app.kubernetes.io/component") == "crd-upgrade"
    ]
    crds = [yaml.safe_load(text) for text in configmap["data"].values()]
    return {c["metadata"]["name"]: c for c in crds}


def test_previous_version_renders_no_crd_on_upgrade() -> None:
    """The bug: an upgrade with the previous chart carries no CRD at all."""
    docs = render_upgrade(PREVIOUS_CHART)
    assert not find(docs, "CustomResourceDefinition")
    assert not [d for d in docs if "openAPIV3Schema" in yaml.safe_dump(d)]


def test_upgrade_renders_the_current_crds_in_a_hook(upgrade: list[dict[str, Any]]) -> None:
    shipped = {
        yaml.safe_load(p.read_text())["metadata"]["name"]: yaml.safe_load(p.read_text())
        for p in sorted((CHART / "crds").glob("*.yaml"))
    }
    assert hook_crds(upgrade) == shipped
    (job,) = [d for d in find(upgrade, "Job") if d["metadata"]["name"].endswith("-crds")]
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert {"pre-install", "pre-upgrade"} <= set(hooks)
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] == ["modelplane-operator"]
    assert "--apply-crds=/crds" in container["args"]
    (volume,) = pod["volumes"]
    assert volume["configMap"]["name"] == job["metadata"]["name"]
    # Everything the Job needs exists before it runs (lower hook weight), and only as hooks.
    for kind in ("ConfigMap", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"):
        (obj,) = find(upgrade, kind, job["metadata"]["name"])
        annotations = obj["metadata"]["annotations"]
        assert int(annotations["helm.sh/hook-weight"]) < int(
            job["metadata"]["annotations"]["helm.sh/hook-weight"]
        ), kind
        assert annotations["helm.sh/hook"] == job["metadata"]["annotations"]["helm.sh/hook"]


def test_the_hook_may_write_only_modelplanes_crds(upgrade: list[dict[str, Any]]) -> None:
    (role,) = [r for r in find(upgrade, "ClusterRole") if r["metadata"]["name"].endswith("-crds")]
    named = [r for r in role["rules"] if "resourceNames" in r]
    assert {n for r in named for n in r["resourceNames"]} == {
        "modeldeployments.modelplane.io",
        "modelpipelines.modelplane.io",
    }
    unnamed = [r for r in role["rules"] if "resourceNames" not in r]
    assert [r["verbs"] for r in unnamed] == [["create"]]


def test_the_crd_changed_since_the_previous_version(upgrade: list[dict[str, Any]]) -> None:
    """What the upgrade brings: the previous chart's ModelDeployment CRD differs from the one
    the hook applies (a field added since), so skipping it would leave the schema behind."""
    old = previous_chart_crd("modeldeployments")
    new = hook_crds(upgrade)["modeldeployments.modelplane.io"]
    assert old["spec"]["versions"][0]["name"] == new["spec"]["versions"][0]["name"] == "v1alpha1"
    assert old["spec"] != new["spec"]


def test_crd_hook_can_be_turned_off(render: Any) -> None:
    docs = render({"crds": {"upgrade": False}})
    assert not [d for d in docs if d["metadata"]["name"].endswith("-crds")]
