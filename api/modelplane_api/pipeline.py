"""The typed ModelPipeline: nodes, steps and every check of the graph's shape, in one place.

The operator renders a ModelPipeline to a KServe InferenceGraph; ``modelplane serve`` executes it
in-process. Both read it with :func:`parse_pipeline`, so a graph is accepted or refused the same
way on a laptop and in a cluster, with the same ``SpecError`` reason (before this module, a cycle
was refused by the operator but served locally until a RecursionError, Splitter weights summing
to 90 were served locally, and a condition on a Sequence's first step passed the operator).

Checks (reason in brackets): the root node exists [MissingRoot]; node names are unique
[DuplicateNode]; a step calls exactly one target, a ModelDeployment or an existing node
[InvalidStep]; Splitter weights sum to 100 [InvalidWeights]; no node calls itself through
others [PipelineCycle]; a condition stands only where a router tests it -- a Switch step, or a
Sequence step after the first (the first has no previous response) [InvalidCondition].

Per-step ``timeoutSeconds`` and ``retries`` are typed here too; :func:`inference_graph_gaps` says
what KServe's InferenceGraph cannot express of them (one client timeout for the whole router; no
step retry, kserve/kserve#5386), which the operator writes into the pipeline's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelplane_api.crds import apply_defaults, spec_schema
from modelplane_api.errors import SpecError

ROUTERS_WITH_CONDITIONS = frozenset({"Sequence", "Switch"})


@dataclass(frozen=True)
class Step:
    """One step of a node: calls a ModelDeployment or another node."""

    name: str
    deployment: str | None = None
    node: str | None = None
    condition: str | None = None
    data: str | None = None  # $request or $response; None: the router's default
    dependency: str = "Hard"
    weight: int | None = None
    timeout_s: int | None = None  # None: no limit of its own
    retries: int = 0  # further attempts after a failure that is not the client's


@dataclass(frozen=True)
class Node:
    name: str
    router: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class PipelineSpec:
    """A checked ModelPipeline spec; ``nodes`` keep the manifest's order."""

    root: str
    nodes: tuple[Node, ...]

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def deployments(self) -> list[str]:
        """Names of the ModelDeployments the pipeline calls, in order of first use."""
        seen: dict[str, None] = {}
        for node in self.nodes:
            for step in node.steps:
                if step.deployment is not None:
                    seen.setdefault(step.deployment, None)
        return list(seen)


def _step(raw: Mapping[str, Any], index: int, where: str) -> Step:
    if ("deployment" in raw) == ("node" in raw):
        raise SpecError("InvalidStep", f"{where}: set exactly one of deployment or node")
    target = raw.get("deployment") or raw.get("node")
    timeout = raw.get("timeoutSeconds")
    return Step(
        name=str(raw.get("name") or target or index),
        deployment=raw.get("deployment"),
        node=raw.get("node"),
        condition=raw.get("condition") or None,
        data=raw.get("data"),
        dependency=raw.get("dependency", "Hard"),
        weight=raw.get("weight"),
        timeout_s=None if timeout is None else int(timeout),
        retries=int(raw.get("retries", 0)),
    )


def parse_pipeline(spec: Mapping[str, Any]) -> PipelineSpec:
    """The defaulted, typed and checked ModelPipeline spec; ``SpecError`` names what is wrong."""
    top: dict[str, Any] = apply_defaults(dict(spec), spec_schema("modelpipelines"))
    nodes: list[Node] = []
    for raw in top.get("nodes", []):
        name = raw["name"]
        if any(node.name == name for node in nodes):
            raise SpecError("DuplicateNode", f"two nodes are named {name!r}")
        steps = tuple(
            _step(step, index, f"node {name} step {index}")
            for index, step in enumerate(raw["steps"])
        )
        nodes.append(Node(name, raw["routerType"], steps))
    parsed = PipelineSpec(top["root"], tuple(nodes))
    _check(parsed)
    return parsed


def _check(spec: PipelineSpec) -> None:
    names = [node.name for node in spec.nodes]
    if spec.root not in names:
        raise SpecError(
            "MissingRoot", f"root node {spec.root!r} is not among nodes {sorted(names)}"
        )
    for node in spec.nodes:
        for index, step in enumerate(node.steps):
            where = f"node {node.name} step {index}"
            if step.node is not None and step.node not in names:
                raise SpecError("InvalidStep", f"{where}: node {step.node!r} does not exist")
            if step.condition and node.router not in ROUTERS_WITH_CONDITIONS:
                raise SpecError(
                    "InvalidCondition",
                    f"{where}: a {node.router} node tests no condition (only Switch steps and"
                    " Sequence steps after the first do)",
                )
            if step.condition and node.router == "Sequence" and index == 0:
                raise SpecError(
                    "InvalidCondition",
                    f"{where}: the first step of a Sequence has no previous response to test"
                    " its condition on",
                )
        if node.router == "Splitter":
            total = sum(step.weight or 0 for step in node.steps)
            if total != 100:
                raise SpecError(
                    "InvalidWeights", f"node {node.name}: Splitter weights sum to {total}, not 100"
                )
    cycle = find_cycle(spec)
    if cycle:
        raise SpecError("PipelineCycle", "nodes call each other in a cycle: " + " -> ".join(cycle))


def find_cycle(spec: PipelineSpec) -> list[str]:
    """A node-call cycle as a path (first == last), or [] when the graph is acyclic."""
    calls = {node.name: [s.node for s in node.steps if s.node is not None] for node in spec.nodes}
    state: dict[str, str] = {}  # name -> "visiting" | "done"

    def visit(name: str, path: list[str]) -> list[str]:
        if state.get(name) == "visiting":
            return [*path[path.index(name) :], name]
        if state.get(name) == "done":
            return []
        state[name] = "visiting"
        for callee in calls[name]:
            if found := visit(callee, [*path, name]):
                return found
        state[name] = "done"
        return []

    for name in calls:
        if found := visit(name, []):
            return found
    return []


def router_client_timeout(spec: PipelineSpec) -> int | None:
    """The one client timeout KServe's router can apply to every step call
    (``routerTimeouts.serviceClient``): the largest step timeout, so no step is cut short of
    its own; ``None`` when no step sets one."""
    timeouts = [s.timeout_s for n in spec.nodes for s in n.steps if s.timeout_s is not None]
    return max(timeouts) if timeouts else None


def inference_graph_gaps(spec: PipelineSpec) -> list[str]:
    """What of the spec a KServe InferenceGraph cannot express, one sentence each (empty when it
    renders everything): step retries (no such field, kserve/kserve#5386) and step timeouts
    that differ from the router's single client timeout."""
    gaps = []
    retried = [f"{n.name}/{s.name}" for n in spec.nodes for s in n.steps if s.retries]
    if retried:
        gaps.append(
            f"steps {', '.join(retried)} set retries, which KServe's InferenceGraph cannot"
            " express (kserve/kserve#5386): in the cluster they run once"
        )
    limit = router_client_timeout(spec)
    if limit is not None:
        other = [
            f"{n.name}/{s.name}"
            for n in spec.nodes
            for s in n.steps
            if s.deployment is not None and s.timeout_s != limit
        ]
        if other:
            gaps.append(
                f"KServe's router has one client timeout for every step"
                f" (routerTimeouts.serviceClient = {limit} s); steps {', '.join(other)} get it"
                " instead of their own"
            )
    return gaps
