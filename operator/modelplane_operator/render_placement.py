"""Where serving pods run and how many may go at once: topology spread and disruption budget.

KServe builds the predictor (and transformer) pods from the InferenceService and labels them
``serving.kserve.io/inferenceservice=<name>`` and ``component=<predictor|transformer>``; both
renderers select the pods by those labels.
"""

from __future__ import annotations

from typing import Any

from modelplane_operator.naming import child_metadata, dns_name
from modelplane_operator.spec import DeploymentSpec

ISVC_LABEL = "serving.kserve.io/inferenceservice"
HOSTNAME = "kubernetes.io/hostname"


def pod_selector(owner: dict[str, Any], component: str) -> dict[str, Any]:
    return {"matchLabels": {ISVC_LABEL: owner["metadata"]["name"], "component": component}}


def topology_spread(
    owner: dict[str, Any], spec: DeploymentSpec, component: str
) -> list[dict[str, Any]]:
    """``spec.scaling.topologySpread`` as pod constraints; unset: over nodes, best effort,
    when there can be more than one replica (one replica has nothing to spread)."""
    given = spec.scaling.topology_spread
    if given is None:
        if spec.scaling.max_replicas <= 1:
            return []
        given = ({"topologyKey": HOSTNAME, "maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway"},)
    return [
        {
            "topologyKey": item["topologyKey"],
            "maxSkew": item.get("maxSkew", 1),
            "whenUnsatisfiable": item.get("whenUnsatisfiable", "ScheduleAnyway"),
            "labelSelector": pod_selector(owner, component),
        }
        for item in given
    ]


def render_predictor_disruption_budget(
    owner: dict[str, Any], spec: DeploymentSpec
) -> dict[str, Any]:
    """At most one predictor pod evicted at a time (drains, cluster upgrades).

    ``maxUnavailable: 1`` rather than ``minAvailable``: with ``minReplicas`` >= 2 a drain keeps
    all but one serving, and with a single replica it still lets the drain through (a
    ``minAvailable: 1`` budget would block it forever), so it is safe for every scaling.
    """
    name = owner["metadata"]["name"]
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": child_metadata(owner, dns_name(name, "predictor"), "disruption", spec.stage),
        "spec": {"maxUnavailable": 1, "selector": pod_selector(owner, "predictor")},
    }
