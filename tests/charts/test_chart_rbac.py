"""RBAC: least privilege (no wildcards) yet enough for everything the operator's code does.

What the operator needs is derived from its code, not copied: the kinds its render functions
produce for the example manifests (applied with get + create + patch by ``Cluster.apply``),
the resources its kopf handlers watch (list + watch), and its own kinds' status. A new child
kind or a new watch in the operator fails this test until the chart grants it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from chartkit import SCENARIOS, Docs, find
from helpers import as_stored, load_examples, make_deployment
from modelplane_operator import GROUP
from modelplane_operator.cluster import PLURALS
from modelplane_operator.config import Config
from modelplane_operator.render_inference_service import render_inference_service
from modelplane_operator.render_monitoring import (
    render_metrics_services,
    render_prometheus_rule,
    render_service_monitor,
)
from modelplane_operator.render_pipeline import parse_pipeline, render_inference_graph
from modelplane_operator.render_placement import render_predictor_disruption_budget
from modelplane_operator.render_serving import render_engine_build_job, render_triton_config_map
from modelplane_operator.spec import parse_deployment

Need = tuple[str, str, str]  # (api group, resource, verb)

# kopf's own needs (documented in docs/architecture.md, tier 2): CRD discovery, namespaces, events.
KOPF_NEEDS: set[Need] = {
    ("apiextensions.k8s.io", "customresourcedefinitions", "list"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "watch"),
    ("", "namespaces", "list"),
    ("", "namespaces", "watch"),
    ("", "events", "create"),
}

WATCHED = """
import json, kopf, modelplane_operator.handlers
registry = kopf.get_default_registry()
found = set()
for sub in (registry._changing, registry._watching, registry._indexing):
    for handler in sub.get_all_handlers():
        s = handler.selector
        found.add((s.group or "", s.plural or s.any_name))
print(json.dumps(sorted(found)))
"""


def _group(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def watched_resources() -> set[tuple[str, str]]:
    """(group, plural) of every kopf handler, read from kopf's registry after importing the
    handlers in a fresh interpreter (other tiers swap kopf's registry in this one)."""
    out = subprocess.run(
        [sys.executable, "-c", WATCHED], capture_output=True, text=True, check=True
    )
    return {(g, p) for g, p in json.loads(out.stdout)}


def rendered_children() -> list[dict[str, Any]]:
    """Every child the render functions produce for the examples plus a TensorRT deployment,
    chosen as ``reconcile_deployment`` chooses (config map for Triton, Job for TensorRT)."""
    config = Config(gpu_products="NVIDIA-L4")
    children: list[dict[str, Any]] = []
    examples = [as_stored(d) for d in load_examples()]
    deployments = [d for d in examples if d["kind"] == "ModelDeployment"]
    deployments.append(make_deployment("trt", tensorrt={"enabled": True}))
    for owner in deployments:
        spec = parse_deployment(owner["spec"])
        children += [
            render_inference_service(owner, spec, config, canary_traffic=10),
            render_predictor_disruption_budget(owner, spec),
            *render_metrics_services(owner, spec),
            render_service_monitor(owner, spec, Config()),
            render_prometheus_rule(owner, spec, Config()),
        ]
        if spec.runtime == "triton":
            children.append(render_triton_config_map(owner, spec))
        if spec.tensorrt.enabled:
            children.append(render_engine_build_job(owner, spec, config))
    for owner in (d for d in examples if d["kind"] == "ModelPipeline"):
        children.append(render_inference_graph(owner, parse_pipeline(owner["spec"])))
    return children


@pytest.fixture(scope="module")
def needs() -> set[Need]:
    """Every (group, resource, verb) the operator's code uses."""
    needed = set(KOPF_NEEDS)
    for child in rendered_children():
        resource = PLURALS[child["kind"]]  # a KeyError here: Cluster cannot address the kind
        for verb in ("get", "create", "patch"):  # Cluster.apply: GET, then POST or merge-PATCH
            needed.add((_group(child["apiVersion"]), resource, verb))
    for group, plural in watched_resources():
        needed |= {(group, plural, "list"), (group, plural, "watch")}
    for kind in ("ModelDeployment", "ModelPipeline"):  # kopf patches status and progress
        plural = PLURALS[kind]
        needed |= {
            (GROUP, plural, "get"),
            (GROUP, plural, "patch"),
            (GROUP, f"{plural}/status", "patch"),
        }
    needed.add((GROUP, "modeldeployments", "list"))  # Cluster.list_names for pipeline steps
    return needed


def granted(docs: Docs, kinds: tuple[str, ...], name: str = "modelplane") -> dict[str, set[Need]]:
    """Rules of each (Cluster)Role named ``name`` (the operator's; the leader-election Role and
    the CRD hook's ClusterRole have their own tests), expanded to (group, resource, verb); key:
    kind/ns/name."""
    out: dict[str, set[Need]] = {}
    for role in (r for kind in kinds for r in find(docs, kind, name)):
        key = f"{role['kind']}/{role['metadata'].get('namespace', '')}/{role['metadata']['name']}"
        out[key] = {
            (g, r, v)
            for rule in role["rules"]
            for g in rule["apiGroups"]
            for r in rule["resources"]
            for v in rule["verbs"]
        }
    return out


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_wildcards(scenario: str, scenarios: dict[str, Docs]) -> None:
    for key, grants in granted(scenarios[scenario], ("ClusterRole", "Role")).items():
        for need in grants:
            assert "*" not in need, f"{key} grants {need}"
    for role in find(scenarios[scenario], "ClusterRole") + find(scenarios[scenario], "Role"):
        for rule in role["rules"]:
            assert "nonResourceURLs" not in rule, rule


def test_the_derivation_sees_the_operator(needs: set[Need]) -> None:
    """Guard the guard: the derived list holds the kinds we know the operator touches."""
    resources = {(g, r) for g, r, _ in needs}
    assert ("serving.kserve.io", "inferenceservices") in resources
    assert ("serving.kserve.io", "inferencegraphs") in resources
    assert ("batch", "jobs") in resources
    assert ("monitoring.coreos.com", "prometheusrules") in resources
    assert ("serving.kserve.io", "inferenceservices", "watch") in needs
    assert ("batch", "jobs", "create") in needs  # the TensorRT engine-build Job


def test_cluster_wide_rbac_covers_the_operator(
    scenarios: dict[str, Docs], needs: set[Need]
) -> None:
    (grants,) = granted(scenarios["01-defaults"], ("ClusterRole",)).values()
    assert needs - grants == set()


def test_namespaced_rbac_covers_the_operator(scenarios: dict[str, Docs], needs: set[Need]) -> None:
    """Roles in each watched namespace; the ClusterRole keeps only kopf's discovery rules."""
    docs = scenarios["05-namespaced-ha"]
    cluster_grants = next(iter(granted(docs, ("ClusterRole",)).values()))
    roles = granted(docs, ("Role",))
    assert sorted(roles) == ["Role/claims/modelplane", "Role/documents/modelplane"]
    cluster_needs = {
        n for n in needs if n[1] in {"customresourcedefinitions", "namespaces", "nodes"}
    }
    assert ("", "nodes", "watch") in cluster_needs  # GPU classes: the Node watch is cluster-wide
    assert cluster_needs <= cluster_grants
    assert not {g for g in cluster_grants if g[0] in {"serving.kserve.io", "batch", GROUP}}
    for grants in roles.values():
        assert needs - cluster_needs - grants == set()
        assert not {g for g in grants if g[0] == "kopf.dev"}  # a Lease, not kopf peering
    bindings = find(docs, "RoleBinding", "modelplane")
    assert {b["metadata"]["namespace"] for b in bindings} == {"claims", "documents"}


def test_nothing_granted_that_the_operator_does_not_use(
    scenarios: dict[str, Docs], needs: set[Need]
) -> None:
    """Least privilege: extra grants only where the reason is outside the operator's code
    (finalizers for blockOwnerDeletion, status get/update as kopf may use them, event patch)."""
    (grants,) = granted(scenarios["01-defaults"], ("ClusterRole",)).values()
    justified = {
        (GROUP, "modeldeployments/finalizers", "update"),
        (GROUP, "modelpipelines/finalizers", "update"),
        (GROUP, "modeldeployments/status", "get"),
        (GROUP, "modelpipelines/status", "get"),
        (GROUP, "modeldeployments/status", "update"),
        (GROUP, "modelpipelines/status", "update"),
        (GROUP, "modeldeployments", "update"),
        (GROUP, "modelpipelines", "update"),
        (GROUP, "modelpipelines", "list"),
        ("", "events", "patch"),
        ("serving.kserve.io", "inferencegraphs", "get"),
        ("serving.kserve.io", "inferenceservices", "get"),
        ("", "nodes", "get"),  # Nodes are read only: get/list/watch, as issue 23 grants
    }
    assert grants - needs - justified == set()


@pytest.mark.parametrize("scenario", ["01-defaults", "05-namespaced-ha"])
def test_leader_election_role_covers_the_lease(scenario: str, scenarios: dict[str, Docs]) -> None:
    """What modelplane_operator.leader does (GET, POST, merge-PATCH one Lease), granted in the
    release namespace only, get/patch on the Lease's own name."""
    docs = scenarios[scenario]
    (role,) = find(docs, "Role", "modelplane-leader-election")
    assert role["metadata"]["namespace"] == "modelplane-system"
    grants = {
        (verb, tuple(rule.get("resourceNames", [])))
        for rule in role["rules"]
        if rule["apiGroups"] == ["coordination.k8s.io"] and rule["resources"] == ["leases"]
        for verb in rule["verbs"]
    }
    assert {("create", ()), ("get", ("modelplane",)), ("patch", ("modelplane",))} <= grants
    (binding,) = find(docs, "RoleBinding", "modelplane-leader-election")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"][0]["name"] == "modelplane"
