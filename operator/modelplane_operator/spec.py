"""The operator's checks of a ModelDeployment spec: what the schema cannot reject.

The typed, defaulted spec itself is the shared contract (:mod:`modelplane_api.spec`, also used by
``modelplane serve``), with the checks that hold everywhere (parameters, batching, scaling,
shapes, the storage URI); here ``parse_deployment`` adds the checks that matter in a cluster.
Anything the schema would allow but that cannot work raises ``SpecError`` with a machine-readable
reason, which the operator reports as ``Ready=False`` instead of crashing.
"""

from __future__ import annotations

from typing import Any

from modelplane_api import spec as api
from modelplane_api.spec import (
    STAGES_WITH_TRANSFORMER,
    DeploymentSpec,
    ModelRef,
    Monitoring,
    Resources,
    Scaling,
    SpecError,
    TensorRT,
    TensorRTShape,
)
from modelplane_api.triton import Batching

from modelplane_operator.config import Config

__all__ = [
    "PYTHON_ONLY_STAGES",
    "STAGES_WITH_TRANSFORMER",
    "TRITON_FORMATS",
    "Batching",
    "DeploymentSpec",
    "ModelRef",
    "Monitoring",
    "Resources",
    "Scaling",
    "SpecError",
    "TensorRT",
    "TensorRTShape",
    "check_deployment",
    "check_model_image",
    "parse_deployment",
]

# Stages with no neural network: only the python runtime can serve them.
PYTHON_ONLY_STAGES = frozenset({"document-parse"})
TRITON_FORMATS = frozenset({"onnx", "tensorrt", "torchscript"})


def parse_deployment(spec: dict[str, Any]) -> DeploymentSpec:
    """Defaulted, typed and checked ModelDeployment spec; raises SpecError when it cannot work."""
    parsed = api.parse_deployment(spec)
    declared = (spec.get("resources") or {}).get("gpuResourceName")
    check_deployment(parsed, explicit_gpu_resource=declared)
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
    if model.storage.scheme == "file":
        raise SpecError(
            "LocalStorageInCluster",
            f"{model.storage_uri} is a local path, only `modelplane serve` can read it;"
            " use pvc://, s3:// or oci:// in a cluster",
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
