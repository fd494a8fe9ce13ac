"""ModelPipeline: the pure rendering of its KServe InferenceGraph.

The graph's shape is typed and checked once, in the contract (:mod:`modelplane_api.pipeline`,
also what ``modelplane serve`` executes); here only what a cluster adds: the steps' ModelDeployments
must exist, and what the InferenceGraph cannot express is said in the status
(``SpecExpressed``), never dropped silently.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from modelplane_api.pipeline import (
    PipelineSpec,
    Step,
    inference_graph_gaps,
    parse_pipeline,
    router_client_timeout,
)

from modelplane_operator.naming import child_metadata
from modelplane_operator.spec import SpecError
from modelplane_operator.status import Condition

__all__ = [
    "check_steps_exist",
    "expressed_condition",
    "inference_graph_gaps",
    "parse_pipeline",
    "referenced_deployments",
    "render_inference_graph",
]


def referenced_deployments(spec: dict[str, Any]) -> list[str]:
    """Names of the ModelDeployments a stored (unchecked) pipeline calls, in order of first use:
    the index that heals a pipeline when a step appears works on any object, valid or not."""
    seen: dict[str, None] = {}
    for node in spec.get("nodes", []):
        for step in node.get("steps", []):
            if "deployment" in step:
                seen.setdefault(step["deployment"], None)
    return list(seen)


def check_steps_exist(spec: PipelineSpec, existing: Collection[str]) -> None:
    """MissingStep until every referenced ModelDeployment exists (the pipeline heals after)."""
    missing = [name for name in spec.deployments() if name not in existing]
    if missing:
        raise SpecError("MissingStep", f"ModelDeployment(s) not found: {', '.join(missing)}")


def _graph_step(step: Step, root: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": step.name}
    if step.deployment is not None:
        out["serviceName"] = step.deployment  # the ModelDeployment's InferenceService
    else:
        out["nodeName"] = "root" if step.node == root else step.node
    if step.condition:
        out["condition"] = step.condition
    if step.data is not None:
        out["data"] = step.data
    out["dependency"] = step.dependency
    if step.weight is not None:
        out["weight"] = step.weight
    return out


def render_inference_graph(owner: dict[str, Any], spec: PipelineSpec) -> dict[str, Any]:
    """The InferenceGraph executing the pipeline; the root node is always named ``root``. Step
    timeouts become the router's one client timeout (the largest); retries have no field."""
    nodes = {
        ("root" if node.name == spec.root else node.name): {
            "routerType": node.router,
            "steps": [_graph_step(step, spec.root) for step in node.steps],
        }
        for node in spec.nodes
    }
    graph_spec: dict[str, Any] = {"nodes": nodes}
    timeout = router_client_timeout(spec)
    if timeout is not None:
        graph_spec["routerTimeouts"] = {"serviceClient": timeout}
    return {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "InferenceGraph",
        "metadata": child_metadata(owner, owner["metadata"]["name"], "inference-graph"),
        "spec": graph_spec,
    }


def expressed_condition(spec: PipelineSpec) -> Condition:
    """``SpecExpressed``: False, with each gap named, when the InferenceGraph cannot carry part of
    the spec (KServe's router would ignore it silently, the class of bug in kserve/kserve#5335)."""
    gaps = inference_graph_gaps(spec)
    if gaps:
        return Condition("SpecExpressed", False, "NotExpressibleInInferenceGraph", "; ".join(gaps))
    return Condition("SpecExpressed", True, "Rendered", "the InferenceGraph carries the whole spec")
