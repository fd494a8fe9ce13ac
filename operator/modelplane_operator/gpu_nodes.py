"""GPU node classes read from the cluster's Nodes, as gpu-feature-discovery labels them.

A TensorRT plan runs only on the GPU model it was built on. Before this, an unpinned TensorRT
ModelDeployment waited for a person to type the cluster's products into the chart value
``gpu.products``, although gpu-feature-discovery (GFD) already labels every GPU node with
``nvidia.com/gpu.product``. The operator now watches Nodes (get/list/watch only) and builds one
plan per class it finds when neither the CR (``spec.tensorrt.gpuProduct``) nor the chart pins
one; ``gpu.products`` still overrides discovery.

GFD's product label carries the node's sharing mode as a suffix (Ref: GFD's "Generated labels",
gpu-operator's MIG and GPU-sharing guides):

- MIG ``single`` (the node's ``nvidia.com/mig.strategy``): ``<product>-MIG-<profile>``;
- MIG ``mixed`` or ``none``: ``<product>``, slices are separate resources;
- time-slicing with ``renameByDefault: false``: ``<product>-SHARED``.

A class is the product without those suffixes, the form ``gpu.products`` takes: the render
functions add the suffix the cluster's strategy calls for (``render_gpu.gpu_request``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from modelplane_operator.config import Config
from modelplane_operator.render_gpu import GPU_PRODUCT_LABEL
from modelplane_operator.spec import DeploymentSpec, SpecError

MIG_SUFFIX = "-MIG-"
SHARED_SUFFIX = "-SHARED"


def node_gpu_class(labels: Mapping[str, str]) -> str | None:
    """A node's GPU class: its ``nvidia.com/gpu.product`` without the MIG-single and
    time-slicing suffixes; None for a node GFD has not labelled (no GPU)."""
    product = (labels.get(GPU_PRODUCT_LABEL) or "").strip()
    if not product:
        return None
    product = product.removesuffix(SHARED_SUFFIX)
    return product.split(MIG_SUFFIX, 1)[0] or None


def ordered_classes(first_seen: Iterable[tuple[str, str]]) -> list[str]:
    """Classes from (class, node creationTimestamp) pairs, the class whose oldest node is
    oldest first, ties by name.

    The predictor serves on the first class, so a class that joins later must sort after the
    ones already serving (by name it could jump ahead and move the predictor to a class whose
    plan is still being built); creation times order the same way after a restart.
    """
    oldest: dict[str, str] = {}
    for product, created in first_seen:
        oldest[product] = min(created, oldest.get(product, created))
    return sorted(oldest, key=lambda p: (oldest[p], p))


def with_node_classes(spec: DeploymentSpec, config: Config, classes: list[str]) -> Config:
    """``config`` with the discovered classes as its GPU products when the chart lists none.

    Raises NoGPUNodes for an unpinned TensorRT spec when neither the chart nor any Node names
    a GPU product: there is nothing to build the plan for yet (it is built when a GPU node
    joins, without a restart).
    """
    if config.gpu_product_list:
        return config
    needs_class = spec.tensorrt.enabled and not spec.tensorrt.gpu_product
    if needs_class and not classes:
        raise SpecError(
            "NoGPUNodes",
            "a TensorRT plan runs only on the GPU model it was built on, and no Node carries a"
            f" {GPU_PRODUCT_LABEL} label (gpu-feature-discovery): the plan is built once a GPU"
            " node joins; or set spec.tensorrt.gpuProduct, or the chart value gpu.products",
        )
    return replace(config, gpu_products=",".join(classes)) if classes else config


def unpinned_tensorrt(spec: Mapping[str, object]) -> bool:
    """Whether a raw ModelDeployment spec builds plans per discovered class (TensorRT on, no
    gpuProduct): those are re-reconciled when the cluster's classes change."""
    tensorrt = spec.get("tensorrt")
    if not isinstance(tensorrt, Mapping):
        return False
    return bool(tensorrt.get("enabled")) and not tensorrt.get("gpuProduct")
