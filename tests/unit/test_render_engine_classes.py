"""TensorRT plans per GPU node class: never one plan shared across GPU models.

A plan is valid only on the GPU model it was built on (TensorRT's docs), so the engine cache key
names the ``nvidia.com/gpu.product`` class: the pinned ``spec.tensorrt.gpuProduct``, else one
build Job per product the cluster lists (chart ``gpu.products``). Expected keys and selectors
are written out by hand from gpu-operator's label names.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import make_deployment
from modelplane_operator.config import Config
from modelplane_operator.gpu_nodes import with_node_classes
from modelplane_operator.render_gpu import check_gpu_request, unpinned_engine_note
from modelplane_operator.render_inference_service import render_inference_service
from modelplane_operator.render_serving import engine_cache_key, render_engine_build_jobs
from modelplane_operator.spec import SpecError, parse_deployment

A100 = "NVIDIA-A100-SXM4-40GB"
PRODUCT = "nvidia.com/gpu.product"
MIG = {"gpu": 1, "migProfile": "1g.5gb"}

# (MIG strategy, time slicing, resources, gpu.products, gpuProduct)
#   -> [(cache key's GPU segment, build Job's nodeSelector)], predictor's class first
TABLE: list[tuple[str, str, dict[str, Any], str, str | None, list[tuple[str, dict[str, str]]]]] = [
    ("mixed", "false", {"gpu": 1}, "NVIDIA-L4,NVIDIA-A10G", A100,
     [("nvidia-a100-sxm4-40gb", {PRODUCT: A100})]),
    ("mixed", "false", {"gpu": 1}, "NVIDIA-L4, NVIDIA-A10G", None,
     [("nvidia-l4", {PRODUCT: "NVIDIA-L4"}), ("nvidia-a10g", {PRODUCT: "NVIDIA-A10G"})]),
    ("single", "false", MIG, A100, None,
     [("nvidia-a100-sxm4-40gb-mig-1g-5gb", {PRODUCT: f"{A100}-MIG-1g.5gb"})]),
    ("mixed", "false", MIG, A100, None,
     [("nvidia-a100-sxm4-40gb-mig-1g-5gb", {PRODUCT: A100})]),
    ("none", "true", {"gpu": 1}, "NVIDIA-L4", None,
     [("nvidia-l4-shared", {PRODUCT: "NVIDIA-L4-SHARED"})]),
]  # fmt: skip


@pytest.mark.parametrize(("strategy", "slicing", "resources", "products", "pinned", "want"), TABLE)
def test_one_plan_per_node_class(
    strategy: str,
    slicing: str,
    resources: dict[str, Any],
    products: str,
    pinned: str | None,
    want: list[tuple[str, dict[str, str]]],
) -> None:
    config = Config(mig_strategy=strategy, gpu_time_slicing=slicing, gpu_products=products)
    trt = {"enabled": True, "gpuProduct": pinned} if pinned else {"enabled": True}
    owner = make_deployment(resources=resources, tensorrt=trt)
    spec = parse_deployment(owner["spec"])
    check_gpu_request(spec, config)
    jobs = render_engine_build_jobs(owner, spec, config)
    keys = [j["metadata"]["annotations"]["modelplane.io/engine-cache-key"] for j in jobs]
    assert [k.split("/")[3] for k in keys] == [gpu for gpu, _ in want]
    assert [j["spec"]["template"]["spec"]["nodeSelector"] for j in jobs] == [s for _, s in want]
    assert len({j["metadata"]["name"] for j in jobs}) == len(jobs)
    assert "any-gpu" not in json.dumps(jobs)
    # The predictor loads the first class's plan and runs on that class's nodes.
    predictor = render_inference_service(owner, spec, config, True)["spec"]["predictor"]
    assert predictor["model"]["storageUri"].endswith("/" + keys[0])
    assert predictor["nodeSelector"] == want[0][1]
    assert engine_cache_key(spec, config) == keys[0]


def test_unpinned_without_known_products_is_a_spec_error() -> None:
    spec = parse_deployment(make_deployment(tensorrt={"enabled": True})["spec"])
    check_gpu_request(spec, Config())  # admitted: the classes may come from the Nodes
    with pytest.raises(SpecError) as err:
        with_node_classes(spec, Config(), [])
    assert err.value.reason == "NoGPUNodes"
    assert "nvidia.com/gpu.product" in err.value.message
    with pytest.raises(SpecError) as err:
        engine_cache_key(spec, Config())
    assert err.value.reason == "GPUProductUnknown"
    assert render_engine_build_jobs(make_deployment(), spec, Config()) == []


def test_status_names_each_node_class_build() -> None:
    config = Config(gpu_products="NVIDIA-L4,NVIDIA-A10G", gpu_time_slicing="true")
    spec = parse_deployment(
        make_deployment(tensorrt={"enabled": True}, resources={"gpu": 1})["spec"]
    )
    note = unpinned_engine_note(spec, config, ["Built", "BuildFailed"]) or ""
    assert "NVIDIA-L4-SHARED: Built, NVIDIA-A10G-SHARED: BuildFailed" in note
    assert "predictor runs on NVIDIA-L4-SHARED" in note
    pinned = parse_deployment(
        make_deployment(tensorrt={"enabled": True, "gpuProduct": A100})["spec"]
    )
    assert unpinned_engine_note(pinned, config, ["Built"]) is None


def test_products_come_from_the_environment() -> None:
    config = Config.from_env({"MODELPLANE_GPU_PRODUCTS": " NVIDIA-L4 ,NVIDIA-A10G,"})
    assert config.gpu_product_list == ["NVIDIA-L4", "NVIDIA-A10G"]
