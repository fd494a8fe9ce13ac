"""ModelPipeline: graph checks and the pure rendering of its KServe InferenceGraph."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from modelplane_api.crds import apply_defaults, spec_schema

from modelplane_operator.naming import child_metadata
from modelplane_operator.spec import SpecError


def parse_pipeline(spec: dict[str, Any]) -> dict[str, Any]:
    """The defaulted spec, checked for shape errors that no cluster state can fix."""
    top: dict[str, Any] = apply_defaults(spec, spec_schema("modelpipelines"))
    nodes = {node["name"]: node for node in top.get("nodes", [])}
    if top["root"] not in nodes:
        raise SpecError(
            "MissingRoot", f"root node {top['root']!r} is not among nodes {sorted(nodes)}"
        )
    for node in nodes.values():
        for index, step in enumerate(node["steps"]):
            where = f"node {node['name']} step {index}"
            if ("deployment" in step) == ("node" in step):
                raise SpecError("InvalidStep", f"{where}: set exactly one of deployment or node")
            if "node" in step and step["node"] not in nodes:
                raise SpecError("InvalidStep", f"{where}: node {step['node']!r} does not exist")
        if node["routerType"] == "Splitter":
            total = sum(step.get("weight", 0) for step in node["steps"])
            if total != 100:
                raise SpecError(
                    "InvalidWeights",
                    f"node {node['name']}: Splitter weights sum to {total}, not 100",
                )
    cycle = find_cycle(nodes)
    if cycle:
        raise SpecError("PipelineCycle", "nodes call each other in a cycle: " + " -> ".join(cycle))
    return top


def find_cycle(nodes: dict[str, dict[str, Any]]) -> list[str]:
    """A node-call cycle as a path (first == last), or [] when the graph is acyclic."""
    state: dict[str, str] = {}  # name -> "visiting" | "done"

    def visit(name: str, path: list[str]) -> list[str]:
        if state.get(name) == "visiting":
            return [*path[path.index(name) :], name]
        if state.get(name) == "done":
            return []
        state[name] = "visiting"
        for step in nodes[name]["steps"]:
            if "node" in step and (found := visit(step["node"], [*path, name])):
                return found
        state[name] = "done"
        return []

    for name in nodes:
        if found := visit(name, []):
            return found
    return []


def referenced_deployments(spec: dict[str, Any]) -> list[str]:
    """Names of the ModelDeployments a pipeline calls, in order of first use."""
    seen: dict[str, None] = {}
    for node in spec.get("nodes", []):
        for step in node.get("steps", []):
            if "deployment" in step:
                seen.setdefault(step["deployment"], None)
    return list(seen)


def check_steps_exist(spec: dict[str, Any], existing: Collection[str]) -> None:
    """MissingStep until every referenced ModelDeployment exists (the pipeline heals after)."""
    missing = [name for name in referenced_deployments(spec) if name not in existing]
    if missing:
        raise SpecError("MissingStep", f"ModelDeployment(s) not found: {', '.join(missing)}")


def _graph_step(step: dict[str, Any], index: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": step.get("name", step.get("deployment", step.get("node", f"step-{index}")))
    }
    if "deployment" in step:
        out["serviceName"] = step["deployment"]  # the ModelDeployment's InferenceService
    else:
        out["nodeName"] = step["node"]
    for key in ("condition", "data", "dependency", "weight"):
        if key in step:
            out[key] = step[key]
    return out


def render_inference_graph(owner: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The InferenceGraph executing the pipeline; the root node is always named ``root``."""
    root = spec["root"]
    nodes: dict[str, Any] = {}
    for node in spec["nodes"]:
        graph_name = "root" if node["name"] == root else node["name"]
        steps = [_graph_step(step, i) for i, step in enumerate(node["steps"])]
        for step in steps:
            if step.get("nodeName") == root:
                step["nodeName"] = "root"
        nodes[graph_name] = {"routerType": node["routerType"], "steps": steps}
    return {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "InferenceGraph",
        "metadata": child_metadata(owner, owner["metadata"]["name"], "inference-graph"),
        "spec": {"nodes": nodes},
    }
