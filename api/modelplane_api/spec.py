"""Typed, defaulted views of a ModelDeployment spec, shared by the operator and the local server.

:func:`parse_deployment` turns a (possibly undefaulted) spec dict into frozen dataclasses with the
CRD's defaults (:mod:`modelplane_api.crds`). It rejects what no consumer can work with (a missing
required field, a storage URI that does not parse, parameters the stage does not take
(:mod:`modelplane_api.parameters`), batching or shapes that contradict themselves) with
:class:`SpecError`, the same for the operator and the local server; the checks that depend on
where the spec runs (a ``file://`` model in a cluster, an allowed image registry, GPUs) stay with
the operator.

``spec.batching`` has one meaning: a field the manifest leaves out takes the CRD's default. The
operator renders the whole ``config.pbtxt`` into a ConfigMap mounted over the model's own, so in a
cluster the model's file never decides; ``modelplane serve`` runs the same defaulted
:class:`Batching` (``DeploymentSpec.batching``), not the model's ``config.pbtxt`` batching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelplane_api.crds import apply_defaults, spec_schema
from modelplane_api.errors import SpecError
from modelplane_api.parameters import StageParameters, parse_parameters
from modelplane_api.resources import ComputeResources, parse_resources
from modelplane_api.storage import StorageUri, parse_storage_uri
from modelplane_api.triton import Batching

__all__ = ["SpecError", "StorageUri"]  # with the dataclasses below: the contract's names

# Stages whose model needs modelplane pre/post-processing around the Triton predictor: the
# default of ``spec.transformer.enabled``.
STAGES_WITH_TRANSFORMER = frozenset(
    {"quality-gate", "damage-severity", "text-detection", "text-recognition", "breed", "premium"}
)


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str
    format: str
    storage_uri: str

    @property
    def storage(self) -> StorageUri:
        """The parsed URI (it parsed when the spec was read, see ``parse_deployment``)."""
        return parse_storage_uri(self.storage_uri)


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
    # spec.scaling.maxInFlight: the stage's in-flight cap (429 past it); None = the stage
    # kind's default.
    max_in_flight: int | None = None


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
    # ``spec.parameters`` as written (strings: the transformer's ``--param KEY=VALUE`` flags)
    # and as the stage receives them, typed and checked (modelplane_api.parameters).
    parameters: dict[str, str] = field(default_factory=dict)
    # spec.transformer.resources as written (checked), None = the stage kind's default.
    transformer_resources: ComputeResources | None = None
    stage_params: StageParameters = field(default_factory=StageParameters)


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
    try:
        parse_storage_uri(model["storageUri"])
    except ValueError as exc:
        raise SpecError("InvalidStorageUri", f"spec.model.storageUri: {exc}") from None
    mig = res.get("migProfile")
    parameters = {str(k): str(v) for k, v in (top.get("parameters") or {}).items()}
    parsed = DeploymentSpec(
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
            scaling.get("maxInFlight"),
        ),
        canary_percent=_section(top, "canary", schema)["trafficPercent"],
        transformer=_section(top, "transformer", schema).get(
            "enabled", top["stage"] in STAGES_WITH_TRANSFORMER
        ),
        monitoring=Monitoring(mon["enabled"], mon["latencyP99Ms"], mon["errorBudgetPercent"]),
        parameters=parameters,
        transformer_resources=parse_resources(
            _section(top, "transformer", schema).get("resources"), "spec.transformer.resources"
        ),
        stage_params=parse_parameters(top["stage"], parameters),
    )
    check_consistency(parsed)
    return parsed


def check_consistency(spec: DeploymentSpec) -> None:
    """Parts of one spec that contradict each other, wherever it runs."""
    scaling, batching = spec.scaling, spec.batching
    if scaling.min_replicas > scaling.max_replicas:
        raise SpecError(
            "InvalidScaling",
            f"minReplicas {scaling.min_replicas} > maxReplicas {scaling.max_replicas}",
        )
    too_big = [b for b in batching.preferred_batch_sizes if b > batching.max_batch_size]
    if too_big:
        raise SpecError(
            "InvalidBatching",
            f"preferredBatchSizes {too_big} exceed maxBatchSize {batching.max_batch_size}",
        )
    for shape in spec.tensorrt.shapes:
        dims = {len(shape.min), len(shape.opt), len(shape.max)}
        ordered = all(a <= b <= c for a, b, c in zip(shape.min, shape.opt, shape.max, strict=False))
        if len(dims) != 1 or not ordered:
            raise SpecError(
                "InvalidTensorRTShapes",
                f"input {shape.input}: min <= opt <= max must hold with equal ranks",
            )
