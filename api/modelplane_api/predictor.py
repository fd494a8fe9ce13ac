"""The Triton predictor's ``config.pbtxt``, as the operator renders it into the ConfigMap.

One function for every place that needs it: the operator mounts its text over
``<model>/config.pbtxt`` in the cluster, and ``modelplane serve --predictors triton`` loads the
same text (with only the ONNX Runtime platform swapped for the python backend, see
``modelplane_inference.runtime.triton_local``) into a real local ``tritonserver``.
"""

from __future__ import annotations

from modelplane_api import triton
from modelplane_api.spec import DeploymentSpec

TRITON_PLATFORMS = {
    "onnx": "onnxruntime_onnx",
    "tensorrt": "tensorrt_plan",
    "torchscript": "pytorch_libtorch",
}


def served_format(spec: DeploymentSpec, engine_ready: bool) -> str:
    """The format the predictor serves now: a built TensorRT plan replaces the ONNX model."""
    return "tensorrt" if spec.tensorrt.enabled and engine_ready else spec.model.format


def render_triton_config(spec: DeploymentSpec, engine_ready: bool = False) -> str:
    """config.pbtxt for the model: platform, version, batching and instances.

    Written from Triton's ``ModelConfig`` message (modelplane_api.triton), never formatted by
    hand. Inputs and outputs are left to Triton's auto-complete, which reads them from the ONNX
    model or the TensorRT plan, so the tensor names have one source: the exported model.
    """
    config = triton.new_config(
        name=spec.model.name, platform=TRITON_PLATFORMS[served_format(spec, engine_ready)]
    )
    config.version_policy.specific.versions.append(int(spec.model.version))
    spec.batching.to_config(config, "KIND_GPU" if spec.resources.gpu > 0 else "KIND_CPU")
    return triton.format_config(config)
