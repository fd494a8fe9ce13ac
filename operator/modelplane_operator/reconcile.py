"""Reconcile one CR: render its children, apply them, and compute its status.

Both functions are idempotent, so the same call serves create, update, resume after a restart,
and every change of a child; the kopf handlers in ``handlers.py`` only route to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field, replace
from typing import Any

from modelplane_operator import API_VERSION
from modelplane_operator.cluster import PLURALS, UNREAD, Cluster
from modelplane_operator.config import Config
from modelplane_operator.gpu_nodes import with_node_classes
from modelplane_operator.render_gpu import check_gpu_request, unpinned_engine_note
from modelplane_operator.render_inference_service import render_inference_service
from modelplane_operator.render_monitoring import (
    render_metrics_services,
    render_prometheus_rule,
    render_service_monitor,
)
from modelplane_operator.render_pipeline import (
    check_steps_exist,
    expressed_condition,
    parse_pipeline,
    referenced_deployments,
    render_inference_graph,
)
from modelplane_operator.render_placement import render_predictor_disruption_budget
from modelplane_operator.render_serving import render_engine_build_jobs, render_triton_config_map
from modelplane_operator.spec import (
    DeploymentSpec,
    SpecError,
    check_model_image,
    parse_deployment,
)
from modelplane_operator.status import (
    Condition,
    Phase,
    canary_traffic,
    deployment_conditions,
    engine_built,
    merge_conditions,
    rollout_fields,
    spec_error_conditions,
)
from modelplane_operator.transformer_pods import transformer_condition

log = logging.getLogger(__name__)
MONITORING = "monitoring.coreos.com/v1"


class KeyedLocks:
    """One ``asyncio.Lock`` per key (a CR), kept only while someone holds or waits for it.

    Reconciles of one CR run one at a time; a map that kept a lock for every CR ever seen would
    grow with every create and delete. Here an entry lives only while it is in use, so a deleted
    CR leaves nothing behind, and a re-created one starts with a fresh lock.
    """

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Hold ``key``'s lock for the ``async with`` block (waiting for earlier holders)."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            users = self._locks[key][1] - 1
            if users:
                self._locks[key] = (lock, users)
            else:
                del self._locks[key]


@dataclass
class Outcome:
    """What a reconcile produced: the status to write and the events worth telling a person."""

    status: dict[str, Any]
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)
    spec_error: SpecError | None = None
    # The watched children (InferenceService, engine Jobs, InferenceGraph) as this reconcile
    # saw them, "plural/name" -> resourceVersion: the status above mirrors these versions.
    children: dict[str, str] = field(default_factory=dict)


async def _apply_all(
    cluster: Cluster,
    objects: list[dict[str, Any]],
    events: list[tuple[str, str, str]],
    read: dict[str, dict[str, Any] | None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Apply each object in turn; ``read``: "Kind/name" -> the object as just read (None:
    absent), for the children this reconcile has already fetched."""
    applied: dict[str, dict[str, Any]] = {}
    for obj in objects:
        key = obj["kind"] + "/" + obj["metadata"]["name"]
        result, action = await cluster.apply(obj, (read or {}).get(key, UNREAD))
        applied[key] = result
        if action != "unchanged":
            events.append(
                ("Normal", action.capitalize(), f"{action} {obj['kind']} {obj['metadata']['name']}")
            )
    return applied


def _versions(applied: dict[str, dict[str, Any]], kinds: set[str]) -> dict[str, str]:
    """ "plural/name" -> resourceVersion of the applied objects of ``kinds``."""
    versions = {}
    for key, obj in applied.items():
        kind, name = key.split("/", 1)
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if kind in kinds and version:
            versions[f"{PLURALS[kind]}/{name}"] = str(version)
    return versions


def _spec_failure(body: dict[str, Any], err: SpecError, **extra: Any) -> Outcome:
    status = body.get("status") or {}
    conditions = merge_conditions(
        status.get("conditions", []), spec_error_conditions(err.reason, err.message)
    )
    return Outcome(
        status={
            "phase": Phase.FAILED,
            "conditions": conditions,
            "observedGeneration": body["metadata"].get("generation", 1),
            **extra,
        },
        events=[("Warning", err.reason, err.message)],
        spec_error=err,
    )


async def _engine(
    body: dict[str, Any],
    spec: DeploymentSpec,
    cluster: Cluster,
    config: Config,
    events: list[tuple[str, str, str]],
) -> tuple[Condition, dict[str, str]]:
    """Apply the engine build Jobs (one per GPU node class) when TensorRT is on; EngineBuilt
    from the Job of the predictor's class (the first), the others named in its message; and
    the Jobs' versions."""
    if not spec.tensorrt.enabled:
        return engine_built(False, None), {}
    jobs = render_engine_build_jobs(body, spec, config)
    applied = await _apply_all(cluster, jobs, events)
    built = [engine_built(True, applied[f"Job/{job['metadata']['name']}"]) for job in jobs]
    note = unpinned_engine_note(spec, config, [c.reason for c in built])
    condition = replace(built[0], message=f"{built[0].message}; {note}") if note else built[0]
    return condition, _versions(applied, {"Job"})


async def _monitoring(
    body: dict[str, Any], spec: DeploymentSpec, cluster: Cluster, config: Config
) -> tuple[list[dict[str, Any]], Condition]:
    """The monitoring children, or none with the reason (disabled, CRDs not installed)."""
    if not spec.monitoring.enabled:
        return [], Condition("Monitoring", False, "Disabled", "spec.monitoring.enabled is false")
    served = [
        await cluster.has_api(MONITORING, kind) for kind in ("ServiceMonitor", "PrometheusRule")
    ]
    if not all(served):
        message = "monitoring.coreos.com ServiceMonitor/PrometheusRule CRDs not installed: skipped"
        return [], Condition("Monitoring", False, "MonitoringCRDsMissing", message)
    children = [
        *render_metrics_services(body, spec),
        render_service_monitor(body, spec, config),
        render_prometheus_rule(body, spec, config),
    ]
    return children, Condition(
        "Monitoring", True, "Configured", "ServiceMonitor and PrometheusRule applied"
    )


def _deployment_status(
    body: dict[str, Any],
    isvc: dict[str, Any],
    conditions: list[Condition],
    phase: Phase,
    version_fields: dict[str, str],
) -> dict[str, Any]:
    meta, status = body["metadata"], body.get("status") or {}
    new_status = {
        "phase": phase,
        "conditions": merge_conditions(status.get("conditions", []), conditions),
        "observedGeneration": meta.get("generation", 1),
        "inferenceService": isvc["metadata"]["name"],
        **version_fields,
    }
    url = (isvc.get("status") or {}).get("url")
    if url:
        new_status["url"] = url
    return new_status


@dataclass(frozen=True)
class Observed:
    """What the operator's watches saw of the cluster beyond the CR's own children: the GPU
    node classes the Nodes carry (``gpu_nodes``), used for an unpinned TensorRT plan when the
    chart's gpu.products lists none, and the OOM kills of the CR's transformer pods
    (``transformer_pods.oom_kill``)."""

    gpu_classes: list[str] = field(default_factory=list)
    transformer_kills: list[dict[str, Any]] = field(default_factory=list)


def _transformer_status(
    isvc: dict[str, Any], observed: Observed, status: dict[str, Any]
) -> tuple[list[Condition], list[tuple[str, str, str]]]:
    """The Transformer condition when the InferenceService has a transformer, and a Warning
    event when it turns to OOMKilled."""
    transformer = (isvc.get("spec") or {}).get("transformer")
    if not transformer:
        return [], []
    limits = transformer["containers"][0].get("resources", {}).get("limits", {})
    cond = transformer_condition(observed.transformer_kills, str(limits.get("memory", "none")))
    before: dict[str, Any] = next(
        (c for c in status.get("conditions", []) if c["type"] == cond.type), {}
    )
    if cond.status is False and before.get("reason") != cond.reason:
        return [cond], [("Warning", cond.reason, cond.message)]
    return [cond], []


async def reconcile_deployment(
    body: dict[str, Any], cluster: Cluster, config: Config, observed: Observed | None = None
) -> Outcome:
    """Bring a ModelDeployment's children in line with its spec; return its new status."""
    meta, status = body["metadata"], body.get("status") or {}
    observed = observed or Observed()
    try:
        spec = parse_deployment(body.get("spec") or {})
        check_model_image(spec, config)
        check_gpu_request(spec, config)
        config = with_node_classes(spec, config, observed.gpu_classes)
    except SpecError as err:
        return _spec_failure(body, err)
    events: list[tuple[str, str, str]] = []
    engine, job_versions = await _engine(body, spec, cluster, config, events)
    current = await cluster.get(
        "serving.kserve.io/v1beta1", "InferenceService", meta["namespace"], meta["name"]
    )
    version_fields = rollout_fields(spec.model.version, status, current)
    canary = canary_traffic(spec.canary_percent, version_fields, current)
    engine_ready = spec.tensorrt.enabled and engine.status is True
    children = []
    if spec.runtime == "triton":
        children.append(render_triton_config_map(body, spec, engine_ready))
    children.append(render_inference_service(body, spec, config, engine_ready, canary))
    children.append(render_predictor_disruption_budget(body, spec))
    monitoring_children, monitoring = await _monitoring(body, spec, cluster, config)
    isvc_key = f"InferenceService/{meta['name']}"
    applied = await _apply_all(
        cluster, [*children, *monitoring_children], events, read={isvc_key: current}
    )
    isvc = applied[isvc_key]
    conditions, phase = deployment_conditions(
        isvc.get("status"), engine, was_ready=status.get("phase") == Phase.READY
    )
    transformer, transformer_events = _transformer_status(isvc, observed, status)
    events += transformer_events
    new_status = _deployment_status(
        body, isvc, [*conditions, monitoring, *transformer], phase, version_fields
    )
    if phase != status.get("phase"):
        kind = "Warning" if phase.is_warning else "Normal"
        message = f"phase {status.get('phase', 'None')} -> {phase}: {conditions[0].message}"
        events.append((kind, phase, message))
    versions = {**job_versions, **_versions(applied, {"InferenceService"})}
    return Outcome(status=new_status, events=events, children=versions)


async def reconcile_pipeline(body: dict[str, Any], cluster: Cluster) -> Outcome:
    """Render a ModelPipeline's InferenceGraph once every step's ModelDeployment exists."""
    meta, status = body["metadata"], body.get("status") or {}
    try:
        spec = parse_pipeline(body.get("spec") or {})
        existing = await cluster.list_names(API_VERSION, "ModelDeployment", meta["namespace"])
        check_steps_exist(spec, existing)
    except SpecError as err:
        return _spec_failure(
            body, err, stepCount=len(referenced_deployments(body.get("spec") or {}))
        )
    events: list[tuple[str, str, str]] = []
    applied = await _apply_all(cluster, [render_inference_graph(body, spec)], events)
    graph = applied[f"InferenceGraph/{meta['name']}"]
    graph_status = graph.get("status") or {}
    kserve_ready = next(
        (c for c in graph_status.get("conditions", []) if c.get("type") == "Ready"), None
    )
    if kserve_ready and kserve_ready.get("status") == "True":
        ready = Condition("Ready", True, "Serving", "InferenceGraph is Ready")
    else:
        ready = Condition(
            "Ready",
            False,
            (kserve_ready or {}).get("reason") or "InferenceGraphNotReady",
            (kserve_ready or {}).get("message") or "waiting for the InferenceGraph to become Ready",
        )
    expressed = expressed_condition(spec)
    said = [c for c in status.get("conditions", []) if c.get("type") == "SpecExpressed"]
    if not expressed.status and not (said and said[0].get("message") == expressed.message):
        events.append(("Warning", expressed.reason, expressed.message))  # once per change
    new_status = {
        "phase": Phase.READY if ready.status else Phase.PENDING,
        "conditions": merge_conditions(status.get("conditions", []), [ready, expressed]),
        "observedGeneration": meta.get("generation", 1),
        "stepCount": len(spec.deployments()),
        "inferenceGraph": meta["name"],
    }
    if graph_status.get("url"):
        new_status["url"] = graph_status["url"]
    if new_status["phase"] != status.get("phase"):
        events.append(("Normal", new_status["phase"], ready.message))
    return Outcome(
        status=new_status, events=events, children=_versions(applied, {"InferenceGraph"})
    )
