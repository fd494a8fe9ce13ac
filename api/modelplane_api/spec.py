"""Typed, defaulted views of a ModelDeployment spec, shared by the operator and the local server.

:func:`parse_deployment` turns a (possibly undefaulted) spec dict into frozen dataclasses with the
CRD's defaults (:mod:`modelplane_api.crds`). It rejects only what no consumer can work with (a
missing required field) with :class:`SpecError`; the checks that depend on where the spec runs
(a ``file://`` model in a cluster, an allowed image registry) stay with the operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelplane_api.crds import apply_defaults, spec_schema
from modelplane_api.triton import Batching

# Stages whose model needs modelplane pre/post-processing around the Triton predictor: the
# default of ``spec.transformer.enabled``.
STAGES_WITH_TRANSFORMER = frozenset(
    {"quality-gate", "text-detection", "text-recognition", "breed", "premium"}
)


class SpecError(ValueError):
    """A spec the schema accepts but that cannot work; ``reason`` is a CamelCase reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str
    format: str
    storage_uri: str


@dataclass(frozen=True)
class TensorRTShape:
    input: str
    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]


@dataclass(frozen=True)
class TensorRT:
    enabled: bool
    precision: str
    workspace_mib: int
    engine_cache_uri: str
    gpu_product: str | None
    shapes: tuple[TensorRTShape, ...]


@dataclass(frozen=True)
class Resources:
    gpu: int
    gpu_resource_name: str
    mig_profile: str | None
    cpu: str
    memory: str
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Scaling:
    min_replicas: int
    max_replicas: int
    metric: str
    target: int
    # spec.scaling.topologySpread as given (defaulted items), None when unset: the operator
    # then spreads over nodes whenever maxReplicas > 1.
    topology_spread: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True)
class Monitoring:
    enabled: bool
    latency_p99_ms: int
    error_budget_percent: float


@dataclass(frozen=True)
class DeploymentSpec:
    stage: str
    runtime: str
    model: ModelRef
    tensorrt: TensorRT
    batching: Batching
    resources: Resources
    scaling: Scaling
    canary_percent: int
    transformer: bool
    monitoring: Monitoring
    # Stage settings for the transformer / python runtime (``--param KEY=VALUE``).
    parameters: dict[str, str] = field(default_factory=dict)
    # ``spec.batching`` as the manifest wrote it (defaulted within): what ``modelplane serve``
    # lays over a model's own config.pbtxt; ``batching`` is the full, defaulted setting.
    batching_given: dict[str, Any] = field(default_factory=dict)


def _section(spec: dict[str, Any], name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """One object-valued part of the spec with its defaults, present or not."""
    defaulted: dict[str, Any] = apply_defaults(spec.get(name) or {}, schema["properties"][name])
    return defaulted


def parse_deployment(spec: dict[str, Any]) -> DeploymentSpec:
    """Defaulted, typed ModelDeployment spec; raises SpecError when a required field is missing."""
    schema = spec_schema("modeldeployments")
    top = apply_defaults(spec, schema)
    for required in ("stage", "model"):
        if required not in top:
            raise SpecError("InvalidSpec", f"spec.{required} is required")
    model, trt = _section(top, "model", schema), _section(top, "tensorrt", schema)
    res, mon = _section(top, "resources", schema), _section(top, "monitoring", schema)
    scaling = _section(top, "scaling", schema)
    if "name" not in model or "storageUri" not in model:
        raise SpecError("InvalidSpec", "spec.model.name and spec.model.storageUri are required")
    mig = res.get("migProfile")
    return DeploymentSpec(
        stage=top["stage"],
        runtime=top["runtime"],
        model=ModelRef(model["name"], str(model["version"]), model["format"], model["storageUri"]),
        tensorrt=TensorRT(
            enabled=trt["enabled"],
            precision=trt["precision"],
            workspace_mib=trt["workspaceMiB"],
            engine_cache_uri=trt["engineCacheUri"],
            gpu_product=trt.get("gpuProduct"),
            shapes=tuple(
                TensorRTShape(s["input"], tuple(s["min"]), tuple(s["opt"]), tuple(s["max"]))
                for s in trt.get("shapes", [])
            ),
        ),
        batching=Batching().updated(_section(top, "batching", schema)),
        resources=Resources(
            gpu=res["gpu"],
            gpu_resource_name=f"nvidia.com/mig-{mig}" if mig else res["gpuResourceName"],
            mig_profile=mig,
            cpu=str(res["cpu"]),
            memory=str(res["memory"]),
            node_selector=dict(res.get("nodeSelector", {})),
            tolerations=tuple(res.get("tolerations", [])),
        ),
        scaling=Scaling(
            scaling["minReplicas"],
            scaling["maxReplicas"],
            scaling["metric"],
            scaling["target"],
            None if "topologySpread" not in scaling else tuple(scaling["topologySpread"]),
        ),
        canary_percent=_section(top, "canary", schema)["trafficPercent"],
        transformer=_section(top, "transformer", schema).get(
            "enabled", top["stage"] in STAGES_WITH_TRANSFORMER
        ),
        monitoring=Monitoring(mon["enabled"], mon["latencyP99Ms"], mon["errorBudgetPercent"]),
        parameters={str(k): str(v) for k, v in (top.get("parameters") or {}).items()},
        batching_given=dict(top.get("batching") or {}),
    )
