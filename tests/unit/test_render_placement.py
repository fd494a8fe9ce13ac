"""Serving pods: topology spread from the CR, a disruption budget for the predictor, and pull
secrets per serving namespace."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import make_deployment, validate_manifest
from modelplane_operator.config import Config
from modelplane_operator.render_inference_service import render_inference_service
from modelplane_operator.render_placement import render_predictor_disruption_budget
from modelplane_operator.render_serving import render_engine_build_job
from modelplane_operator.spec import parse_deployment

PODS = {"serving.kserve.io/inferenceservice": "gate"}
ZONE = "topology.kubernetes.io/zone"


def isvc(config: Config | None = None, **spec: Any) -> dict[str, Any]:
    owner = make_deployment(**spec)
    return render_inference_service(owner, parse_deployment(owner["spec"]), config or Config())


@pytest.mark.parametrize(
    ("scaling", "expected"),
    [
        ({"maxReplicas": 1}, []),
        (
            {"maxReplicas": 3},
            [("kubernetes.io/hostname", 1, "ScheduleAnyway")],
        ),
        (
            {
                "maxReplicas": 4,
                "topologySpread": [
                    {
                        "topologyKey": ZONE,
                        "whenUnsatisfiable": "DoNotSchedule",
                    },
                    {"topologyKey": "kubernetes.io/hostname", "maxSkew": 2},
                ],
            },
            [
                (ZONE, 1, "DoNotSchedule"),
                ("kubernetes.io/hostname", 2, "ScheduleAnyway"),
            ],
        ),
        ({"maxReplicas": 4, "topologySpread": []}, []),
    ],
    ids=["one-replica", "default-over-nodes", "from-the-cr", "turned-off"],
)
def test_topology_spread(scaling: dict[str, Any], expected: list[tuple[str, int, str]]) -> None:
    spec = isvc(scaling=scaling)["spec"]
    for component in ("predictor", "transformer"):
        constraints = spec[component].get("topologySpreadConstraints", [])
        got = [(c["topologyKey"], c["maxSkew"], c["whenUnsatisfiable"]) for c in constraints]
        assert got == expected, component
        for c in constraints:
            assert c["labelSelector"]["matchLabels"] == PODS | {"component": component}
    validate_manifest(isvc(scaling=scaling))


@pytest.mark.parametrize("min_replicas", [1, 2, 5])
def test_predictor_budget_never_blocks_a_drain_and_keeps_all_but_one(min_replicas: int) -> None:
    owner = make_deployment(scaling={"minReplicas": min_replicas, "maxReplicas": 5})
    pdb = render_predictor_disruption_budget(owner, parse_deployment(owner["spec"]))
    validate_manifest(pdb)
    assert pdb["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": PODS | {"component": "predictor"}},
    }
    assert pdb["metadata"]["ownerReferences"][0]["name"] == "gate"


def test_pull_secrets_per_serving_namespace() -> None:
    config = Config(
        image_pull_secrets="mirror",
        namespace_pull_secrets="claims:claims-registry,documents:docs-registry,claims:mirror",
    )
    spec = isvc(config)["spec"]
    for pod in (spec["predictor"], spec["transformer"]):
        assert pod["imagePullSecrets"] == [{"name": "mirror"}, {"name": "claims-registry"}]
    owner = make_deployment(tensorrt={"enabled": True, "gpuProduct": "NVIDIA-L4"})
    job = render_engine_build_job(owner, parse_deployment(owner["spec"]), config)
    assert job["spec"]["template"]["spec"]["imagePullSecrets"][1] == {"name": "claims-registry"}
    other = Config(namespace_pull_secrets="documents:docs-registry")
    assert "imagePullSecrets" not in isvc(other)["spec"]["predictor"]
