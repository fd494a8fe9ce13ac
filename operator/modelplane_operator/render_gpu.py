"""GPU requests as NVIDIA's gpu-operator exposes GPUs: whole, MIG slices, or time-sliced.

gpu-operator's device plugin names what a pod may request, and its feature discovery labels
the nodes, differently per configuration (Ref: its MIG and GPU-sharing guides):

- MIG ``mixed``: each slice profile is its own resource, ``nvidia.com/mig-<profile>``; the
  node's ``nvidia.com/gpu.product`` stays the full GPU's name.
- MIG ``single``: every GPU of a node is cut into the same profile and exposed as
  ``nvidia.com/gpu``; the product label becomes ``<product>-MIG-<profile>``, and mig-manager
  labels the node ``nvidia.com/mig.config=all-<profile>``.
- MIG ``none``: no slices exist; a ``migProfile`` cannot be scheduled.
- time-slicing: with ``renameByDefault: true`` shared GPUs are ``nvidia.com/gpu.shared``; with
  ``false`` they stay ``nvidia.com/gpu`` and the product label gets ``-SHARED``.

One function turns a spec and the cluster's configuration into the resource to request, the
node selector, and the node class (the product label value) a TensorRT plan is built for.

A plan is valid only on the GPU model it was built on, so there is no catch-all node class:
a TensorRT deployment either pins ``spec.tensorrt.gpuProduct`` or gets one plan per product
the cluster lists (``Config.gpu_products``: chart ``gpu.products``, else the classes the
Nodes carry, ``gpu_nodes``), and its predictor runs on the first listed class
(``serving_product``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelplane_operator.config import Config
from modelplane_operator.spec import DeploymentSpec, SpecError

GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
WHOLE_GPU = "nvidia.com/gpu"
SHARED_GPU = "nvidia.com/gpu.shared"


@dataclass(frozen=True)
class GPURequest:
    """What a GPU pod asks for: ``resource`` (requests and limits), ``node_selector``, and
    ``node_class``, the ``nvidia.com/gpu.product`` value of the nodes it runs on (None when the
    spec does not pin one)."""

    resource: str
    node_selector: dict[str, str] = field(default_factory=dict)
    node_class: str | None = None


def check_gpu_request(spec: DeploymentSpec, config: Config) -> None:
    """Reject what this cluster's GPU configuration cannot schedule (Ready=False, admission).

    An unpinned TensorRT spec is not refused here: the classes it is built for may come from
    the cluster's Nodes (``gpu_nodes.with_node_classes``, at reconcile)."""
    res = spec.resources
    if res.mig_profile and config.mig_strategy == "none":
        raise SpecError(
            "MIGNotEnabled",
            f"migProfile {res.mig_profile} needs MIG, but the cluster's gpu-operator runs"
            " migStrategy none (chart value gpu.migStrategy): remove migProfile or enable MIG",
        )
    explicit_slice = res.gpu_resource_name.startswith("nvidia.com/mig-") and not res.mig_profile
    if explicit_slice and config.mig_strategy != "mixed":
        raise SpecError(
            "MIGResourceNotExposed",
            f"{res.gpu_resource_name} exists only with MIG strategy mixed; this cluster runs"
            f" {config.mig_strategy}: set migProfile instead of gpuResourceName",
        )


def engine_products(spec: DeploymentSpec, config: Config) -> list[str]:
    """The GPU products a plan is built for: the pinned one, else every configured class."""
    pinned = spec.tensorrt.gpu_product
    return [pinned] if pinned else config.gpu_product_list


def serving_product(spec: DeploymentSpec, config: Config) -> str | None:
    """The product the predictor runs on: pinned, else (TensorRT) the first configured class."""
    if spec.tensorrt.gpu_product or not spec.tensorrt.enabled:
        return spec.tensorrt.gpu_product
    return next(iter(config.gpu_product_list), None)


def gpu_request(spec: DeploymentSpec, config: Config, product: str | None = None) -> GPURequest:
    """The request for ``spec``'s GPUs under ``config``'s MIG strategy and time-slicing, on
    ``product`` (one of ``engine_products``) or else ``serving_product``."""
    res, product = spec.resources, product or serving_product(spec, config)
    if res.mig_profile:
        return _mig_request(res.mig_profile, product, config.mig_strategy)
    resource = res.gpu_resource_name
    if product and resource == WHOLE_GPU and config.gpu_time_slicing == "true":
        product = f"{product}-SHARED"
    return GPURequest(resource, {GPU_PRODUCT_LABEL: product} if product else {}, product)


def _mig_request(profile: str, product: str | None, strategy: str) -> GPURequest:
    if strategy == "single":
        if product:
            label = f"{product}-MIG-{profile}"
            return GPURequest(WHOLE_GPU, {GPU_PRODUCT_LABEL: label}, label)
        return GPURequest(WHOLE_GPU, {MIG_CONFIG_LABEL: f"all-{profile}"}, None)
    # mixed (none was rejected by check_gpu_request): the resource name selects the slice.
    selector = {GPU_PRODUCT_LABEL: product} if product else {}
    return GPURequest(
        f"nvidia.com/mig-{profile}", selector, f"{product}-MIG-{profile}" if product else None
    )


def gpu_scheduling(
    spec: DeploymentSpec, config: Config, product: str | None = None
) -> dict[str, Any]:
    """nodeSelector and tolerations that put a pod on the right GPU, slice or shared GPU."""
    res = spec.resources
    selector = dict(res.node_selector)
    if res.gpu > 0 or spec.tensorrt.enabled:
        for key, value in gpu_request(spec, config, product).node_selector.items():
            selector.setdefault(key, value)
    out: dict[str, Any] = {}
    if selector:
        out["nodeSelector"] = selector
    tolerations = [dict(t) for t in res.tolerations]
    if res.gpu > 0 and not any(t.get("key") == WHOLE_GPU for t in tolerations):
        tolerations.append({"key": WHOLE_GPU, "operator": "Exists", "effect": "NoSchedule"})
    if tolerations:
        out["tolerations"] = tolerations
    return out


def container_resources(spec: DeploymentSpec, config: Config, gpus: int) -> dict[str, Any]:
    """requests/limits with the GPU resource in both, as the device plugin requires."""
    res = spec.resources
    requests: dict[str, Any] = {"cpu": res.cpu, "memory": res.memory}
    limits: dict[str, Any] = {"cpu": res.cpu, "memory": res.memory}
    if gpus > 0:
        resource = gpu_request(spec, config).resource
        requests[resource] = str(gpus)
        limits[resource] = str(gpus)
    return {"requests": requests, "limits": limits}


def tensorrt_version(config: Config) -> str:
    """The TensorRT inside the engine builder: configured (chart gpu.tensorrtVersion, from the
    builder image's metadata), else the builder image's tag or digest."""
    if config.tensorrt_version:
        return config.tensorrt_version
    builder = config.image(config.engine_builder_image)
    return builder.split("@", 1)[1][:19] if "@" in builder else builder.rsplit(":", 1)[-1]


def unpinned_engine_note(spec: DeploymentSpec, config: Config, states: list[str]) -> str | None:
    """What EngineBuilt adds when no GPU product is pinned: the plan is built per node class
    (``states``: each build Job's reason, in ``engine_products`` order) and where it serves."""
    if not spec.tensorrt.enabled or spec.tensorrt.gpu_product:
        return None
    classes = [gpu_request(spec, config, p).node_class or p for p in engine_products(spec, config)]
    built = ", ".join(f"{c}: {state}" for c, state in zip(classes, states, strict=True))
    return (
        f"GPU product not pinned: one plan per GPU node class (chart gpu.products, else the"
        f" nodes' {GPU_PRODUCT_LABEL}; {built});"
        f" the predictor runs on {classes[0]}, the first listed; set spec.tensorrt.gpuProduct"
        " to choose"
    )
