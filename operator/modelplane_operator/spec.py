"""Typed views of ModelDeployment and ModelPipeline specs, and the checks the schema cannot make.

``parse_deployment`` turns a (possibly undefaulted) spec dict into frozen dataclasses with the
CRD's defaults; anything the schema would allow but that cannot work raises ``SpecError`` with a
machine-readable reason, which the operator reports as ``Ready=False`` instead of crashing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelplane_operator.config import Config
from modelplane_operator.crds import apply_defaults, spec_schema
from modelplane_operator.naming import parse_storage_uri

# Stages whose model needs modelplane pre/post-processing around the Triton predictor.
STAGES_WITH_TRANSFORMER = frozenset(
    {"quality-gate", "text-detection", "text-recognition", "breed", "premium"}
)
# Stages with no neural network: only the python runtime can serve them.
PYTHON_ONLY_STAGES = frozenset({"document-parse"})
TRITON_FORMATS = frozenset({"onnx", "tensorrt", "torchscript"})


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
class Batching:
    max_batch_size: int
    max_queue_delay_us: int
    preferred_batch_sizes: tuple[int, ...]
    instance_count: int


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


def _section(spec: dict[str, Any], name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """One object-valued part of the spec with its defaults, present or not."""
    defaulted: dict[str, Any] = apply_defaults(spec.get(name) or {}, schema["properties"][name])
    return defaulted


def parse_deployment(spec: dict[str, Any]) -> DeploymentSpec:
    """Defaulted, typed and checked ModelDeployment spec; raises SpecError when it cannot work."""
    schema = spec_schema("modeldeployments")
    top = apply_defaults(spec, schema)
    for required in ("stage", "model"):
        if required not in top:
            raise SpecError("InvalidSpec", f"spec.{required} is required")
    model, trt = _section(top, "model", schema), _section(top, "tensorrt", schema)
    batching, res = _section(top, "batching", schema), _section(top, "resources", schema)
    scaling, mon = _section(top, "scaling", schema), _section(top, "monitoring", schema)
    if "name" not in model or "storageUri" not in model:
        raise SpecError("InvalidSpec", "spec.model.name and spec.model.storageUri are required")
    mig = res.get("migProfile")
    parsed = DeploymentSpec(
        stage=top["stage"],
        runtime=top["runtime"],
        model=ModelRef(model["name"], model["version"], model["format"], model["storageUri"]),
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
        batching=Batching(
            max_batch_size=batching["maxBatchSize"],
            max_queue_delay_us=batching["maxQueueDelayMicroseconds"],
            preferred_batch_sizes=tuple(batching.get("preferredBatchSizes", [])),
            instance_count=batching["instanceCount"],
        ),
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
            scaling["minReplicas"], scaling["maxReplicas"], scaling["metric"], scaling["target"]
        ),
        canary_percent=_section(top, "canary", schema)["trafficPercent"],
        transformer=_section(top, "transformer", schema).get(
            "enabled", top["stage"] in STAGES_WITH_TRANSFORMER
        ),
        monitoring=Monitoring(mon["enabled"], mon["latencyP99Ms"], mon["errorBudgetPercent"]),
        parameters={str(k): str(v) for k, v in (top.get("parameters") or {}).items()},
    )
    check_deployment(parsed, explicit_gpu_resource=res.get("gpuResourceName"))
    return parsed


def check_deployment(spec: DeploymentSpec, explicit_gpu_resource: str | None = None) -> None:
    """Reject combinations the schema cannot express; each check names what to change."""
    model, res = spec.model, spec.resources
    if spec.stage in PYTHON_ONLY_STAGES and spec.runtime != "python":
        raise SpecError(
            "StageNeedsPythonRuntime",
            f"stage {spec.stage} has no neural model; set spec.runtime: python",
        )
    if spec.runtime == "triton" and model.format not in TRITON_FORMATS:
        raise SpecError(
            "FormatNotServable",
            f"runtime triton cannot serve format {model.format}; use onnx, tensorrt or torchscript,"
            " or set spec.runtime: python",
        )
    if spec.runtime == "python" and model.format not in {"onnx", "python"}:
        raise SpecError(
            "FormatNotServable",
            f"runtime python serves onnx or python models, not {model.format}; use runtime triton",
        )
    needs_gpu = spec.tensorrt.enabled or model.format == "tensorrt"
    if needs_gpu and res.gpu == 0:
        raise SpecError(
            "TensorRTWithoutGPU",
            "TensorRT engines run only on a GPU: set spec.resources.gpu >= 1"
            " or disable spec.tensorrt / use format onnx",
        )
    if spec.tensorrt.enabled and model.format != "onnx":
        raise SpecError(
            "TensorRTNeedsONNX", f"a TensorRT plan is built from an onnx model, not {model.format}"
        )
    if spec.tensorrt.enabled and spec.runtime != "triton":
        raise SpecError("TensorRTNeedsTriton", "TensorRT plans are served by runtime triton")
    explicit = explicit_gpu_resource not in (None, "nvidia.com/gpu")
    if res.mig_profile and explicit and explicit_gpu_resource != res.gpu_resource_name:
        raise SpecError(
            "ConflictingGPUResource",
            f"migProfile {res.mig_profile} selects {res.gpu_resource_name},"
            f" but gpuResourceName is {explicit_gpu_resource}",
        )
    _check_scaling_and_batching(spec)
    if parse_storage_uri(model.storage_uri).scheme == "file":
        raise SpecError(
            "LocalStorageInCluster",
            f"{model.storage_uri} is a local path, only `modelplane serve` can read it;"
            " use pvc://, s3:// or oci:// in a cluster",
        )


def _check_scaling_and_batching(spec: DeploymentSpec) -> None:
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


def check_model_image(spec: DeploymentSpec, config: Config) -> None:
    """An oci:// modelcar image must come from a registry the operator is configured to allow."""
    uri = spec.model.storage_uri
    if uri.startswith("oci://") and not config.model_image_allowed(uri.removeprefix("oci://")):
        raise SpecError(
            "ModelImageNotAllowed",
            f"{config.image(uri.removeprefix('oci://'))} is not under an allowed registry"
            " (MODELPLANE_MODEL_IMAGE_REGISTRIES, else MODELPLANE_IMAGE_REGISTRY)",
        )
