"""Pure render functions for the serving children of a ModelDeployment.

Each takes the owner CR (a dict), its typed spec and the operator Config and returns the
manifest dict to apply. Nothing here talks to a cluster, so every branch is unit-tested with
plain tables.
"""

from __future__ import annotations

import hashlib
from typing import Any

from modelplane_api.predictor import render_triton_config
from modelplane_api.predictor import served_format as served_format  # for render_inference_service
from modelplane_api.storage import parse_storage_uri

from modelplane_operator.config import Config
from modelplane_operator.naming import child_metadata, dns_name
from modelplane_operator.render_gpu import (
    container_resources,
    engine_products,
    gpu_request,
    gpu_scheduling,
    tensorrt_version,
)
from modelplane_operator.spec import DeploymentSpec, SpecError

MODEL_ROOT = "/mnt/models"  # where KServe puts the storageUri content; Triton's model repository
ENGINE_ROOT = "/mnt/engines"

# KServe modelFormat names the ClusterServingRuntimes declare.
KSERVE_FORMATS = {
    "onnx": "onnx",
    "tensorrt": "tensorrt",
    "torchscript": "pytorch",
    "python": "modelplane",
}

RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def triton_config_map_name(owner: dict[str, Any]) -> str:
    return dns_name(owner["metadata"]["name"], "triton-config")


def render_triton_config_map(
    owner: dict[str, Any], spec: DeploymentSpec, engine_ready: bool = False
) -> dict[str, Any]:
    """The ConfigMap mounted over ``<model>/config.pbtxt`` in the Triton model repository."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": child_metadata(
            owner, triton_config_map_name(owner), "triton-config", spec.stage
        ),
        "data": {"config.pbtxt": render_triton_config(spec, engine_ready)},
    }


def engine_cache_key(spec: DeploymentSpec, config: Config, product: str | None = None) -> str:
    """Folder of a built plan: plans are only valid for one model, precision, GPU and TensorRT.

    The GPU is the node class the pods land on (``nvidia.com/gpu.product`` as gpu-operator
    labels it, with its -MIG-<profile> or -SHARED suffix): ``product`` (one of
    ``engine_products``), else the predictor's. There is no catch-all: without a product this
    is the same error ``check_gpu_request`` gives. The TensorRT version is the builder's
    (``tensorrt_version``). The builder records the ONNX file's sha256 next to the plan and
    rebuilds when the model under a version changed.
    """
    gpu = gpu_request(spec, config, product).node_class
    if gpu is None:
        raise SpecError("GPUProductUnknown", "no GPU product to key the TensorRT plan by")
    trt = tensorrt_version(config)
    parts = [spec.model.name, f"v{spec.model.version}", spec.tensorrt.precision, gpu, f"trt-{trt}"]
    return "/".join(dns_name(p) for p in parts)


def engine_storage_uri(spec: DeploymentSpec, config: Config) -> str:
    """Where the predictor loads the plan from once built (a Triton repository root)."""
    return parse_storage_uri(spec.tensorrt.engine_cache_uri).join(engine_cache_key(spec, config))


def engine_job_name(
    owner: dict[str, Any], spec: DeploymentSpec, config: Config, product: str | None = None
) -> str:
    """Jobs are immutable: a new cache key gets a new Job, an unchanged one keeps its Job."""
    digest = hashlib.sha256(engine_cache_key(spec, config, product).encode()).hexdigest()[:8]
    return dns_name(owner["metadata"]["name"], limit=48) + f"-engine-{digest}"


def _model_fetch(
    spec: DeploymentSpec, config: Config
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(init containers, volumes, builder mounts) that put the ONNX model at MODEL_ROOT."""
    uri = parse_storage_uri(spec.model.storage_uri)
    volumes: list[dict[str, Any]] = [{"name": "models", "emptyDir": {}}]
    mount: dict[str, Any] = {"name": "models", "mountPath": MODEL_ROOT}
    if uri.scheme == "pvc":
        volumes = [
            {
                "name": "models",
                "persistentVolumeClaim": {"claimName": uri.authority, "readOnly": True},
            }
        ]
        return (
            [],
            volumes,
            [mount | {"readOnly": True, "subPath": uri.path}]
            if uri.path
            else [mount | {"readOnly": True}],
        )
    if uri.scheme == "oci":
        image = config.image(spec.model.storage_uri.removeprefix("oci://"))
        init: dict[str, Any] = {
            "name": "modelcar",
            "image": image,
            "command": ["cp", "-r", "/models/.", MODEL_ROOT],
        }
    else:
        image = config.image(config.storage_initializer_image)
        init = {
            "name": "storage-initializer",
            "image": image,
            "args": [spec.model.storage_uri, MODEL_ROOT],
        }
    init |= {"volumeMounts": [mount], "securityContext": RESTRICTED_CONTAINER}
    return [init], volumes, [mount]


def render_engine_build_jobs(
    owner: dict[str, Any], spec: DeploymentSpec, config: Config
) -> list[dict[str, Any]]:
    """One build Job per GPU node class the plan is for (``engine_products``), the predictor's
    class first: a plan built on one GPU model is not valid on another."""
    return [render_engine_build_job(owner, spec, config, p) for p in engine_products(spec, config)]


def render_engine_build_job(
    owner: dict[str, Any], spec: DeploymentSpec, config: Config, product: str | None = None
) -> dict[str, Any]:
    """A batch/v1 Job that builds the TensorRT plan once per cache key on a matching GPU node."""
    key = engine_cache_key(spec, config, product)
    cache = parse_storage_uri(spec.tensorrt.engine_cache_uri)
    model_dir = f"{spec.model.name}/{spec.model.version}"
    args = [
        "--onnx",
        f"{MODEL_ROOT}/{model_dir}/model.onnx",
        "--output",
        f"{ENGINE_ROOT}/{key}/{model_dir}/model.plan",
        "--precision",
        spec.tensorrt.precision,
        "--workspace-mib",
        str(spec.tensorrt.workspace_mib),
        "--max-batch-size",
        str(max(spec.batching.max_batch_size, 1)),
    ]
    for shape in spec.tensorrt.shapes:
        dims = [",".join(str(d) for d in s) for s in (shape.min, shape.opt, shape.max)]
        args += ["--shape", f"{shape.input}:{':'.join(dims)}"]
    init_containers, volumes, model_mounts = _model_fetch(spec, config)
    engine_mount = {"name": "engines", "mountPath": ENGINE_ROOT}
    if cache.path:
        engine_mount["subPath"] = cache.path
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": init_containers,
        "containers": [
            {
                "name": "build-engine",
                "image": config.image(config.engine_builder_image),
                "command": ["modelplane-build-engine"],
                "args": args,
                "resources": container_resources(spec, config, gpus=1),
                "securityContext": RESTRICTED_CONTAINER,
                "volumeMounts": [*model_mounts, engine_mount, {"name": "tmp", "mountPath": "/tmp"}],
            }
        ],
        "volumes": [
            *volumes,
            {"name": "engines", "persistentVolumeClaim": {"claimName": cache.authority}},
            {"name": "tmp", "emptyDir": {}},
        ],
        **gpu_scheduling(spec, config, product),
    }
    if not init_containers:
        del pod_spec["initContainers"]
    secrets = config.pull_secrets_for(owner["metadata"]["namespace"])
    if secrets:
        pod_spec["imagePullSecrets"] = secrets
    metadata = child_metadata(
        owner, engine_job_name(owner, spec, config, product), "engine-build", spec.stage
    )
    metadata["annotations"] = {"modelplane.io/engine-cache-key": key}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": 2,
            "activeDeadlineSeconds": 3600,
            "template": {"metadata": {"labels": dict(metadata["labels"])}, "spec": pod_spec},
        },
    }
