"""GPU requests per gpu-operator configuration: MIG strategy none/single/mixed, time-slicing.

Expected values are gpu-operator's documented names: resources ``nvidia.com/gpu``,
``nvidia.com/mig-<profile>``, ``nvidia.com/gpu.shared``; node labels
``nvidia.com/gpu.product`` (``<product>-MIG-<profile>`` under single, ``<product>-SHARED``
when time-sliced without renaming) and mig-manager's ``nvidia.com/mig.config``.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import make_deployment
from modelplane_operator.config import Config, ConfigError
from modelplane_operator.render_gpu import check_gpu_request, gpu_request
from modelplane_operator.render_inference_service import render_inference_service
from modelplane_operator.render_serving import engine_cache_key, render_engine_build_job
from modelplane_operator.spec import SpecError, parse_deployment

A100 = "NVIDIA-A100-SXM4-40GB"


def request(config: Config, resources: dict[str, Any], product: str | None = None) -> Any:
    tensorrt = {"gpuProduct": product} if product else {}
    owner = make_deployment(resources=resources, tensorrt=tensorrt)
    spec = parse_deployment(owner["spec"])
    check_gpu_request(spec, config)
    return owner, spec, gpu_request(spec, config)


# (strategy, time slicing, resources, gpuProduct) -> (resource, nodeSelector, node class)
TABLE = [
    ("none", "false", {"gpu": 1}, None, "nvidia.com/gpu", {}, None),
    ("none", "false", {"gpu": 2}, A100, "nvidia.com/gpu", {"nvidia.com/gpu.product": A100}, A100),
    (
        "mixed",
        "false",
        {"gpu": 1, "migProfile": "1g.5gb"},
        A100,
        "nvidia.com/mig-1g.5gb",
        {"nvidia.com/gpu.product": A100},
        f"{A100}-MIG-1g.5gb",
    ),
    ("mixed", "false", {"gpu": 1, "migProfile": "1g.5gb"}, None, "nvidia.com/mig-1g.5gb", {}, None),
    (
        "single",
        "false",
        {"gpu": 1, "migProfile": "1g.5gb"},
        A100,
        "nvidia.com/gpu",
        {"nvidia.com/gpu.product": f"{A100}-MIG-1g.5gb"},
        f"{A100}-MIG-1g.5gb",
    ),
    (
        "single",
        "false",
        {"gpu": 1, "migProfile": "2g.10gb"},
        None,
        "nvidia.com/gpu",
        {"nvidia.com/mig.config": "all-2g.10gb"},
        None,
    ),
    # Time-slicing, renameByDefault true: the shared resource, the product label unchanged.
    (
        "none",
        "false",
        {"gpu": 1, "gpuResourceName": "nvidia.com/gpu.shared"},
        "Tesla-T4",
        "nvidia.com/gpu.shared",
        {"nvidia.com/gpu.product": "Tesla-T4"},
        "Tesla-T4",
    ),
    # Time-slicing, renameByDefault false: nvidia.com/gpu on nodes labelled <product>-SHARED.
    (
        "none",
        "true",
        {"gpu": 1},
        "Tesla-T4",
        "nvidia.com/gpu",
        {"nvidia.com/gpu.product": "Tesla-T4-SHARED"},
        "Tesla-T4-SHARED",
    ),
]


@pytest.mark.parametrize(
    ("strategy", "slicing", "resources", "product", "resource", "selector", "node_class"), TABLE
)
def test_request_per_strategy(
    strategy: str,
    slicing: str,
    resources: dict[str, Any],
    product: str | None,
    resource: str,
    selector: dict[str, str],
    node_class: str | None,
) -> None:
    config = Config(mig_strategy=strategy, gpu_time_slicing=slicing)
    owner, spec, gpu = request(config, resources, product)
    assert (gpu.resource, gpu.node_selector, gpu.node_class) == (resource, selector, node_class)
    # The InferenceService asks for exactly that, in requests and limits, on those nodes.
    predictor = render_inference_service(owner, spec, config)["spec"]["predictor"]
    count = str(resources["gpu"])
    assert predictor["model"]["resources"]["requests"][resource] == count
    assert predictor["model"]["resources"]["limits"][resource] == count
    others = {k for k in predictor["model"]["resources"]["limits"] if k.startswith("nvidia.com/")}
    assert others == {resource}
    assert predictor.get("nodeSelector", {}) == selector


def test_no_mig_strategy_rejects_a_profile() -> None:
    with pytest.raises(SpecError) as err:
        request(Config(mig_strategy="none"), {"gpu": 1, "migProfile": "1g.5gb"})
    assert err.value.reason == "MIGNotEnabled"


@pytest.mark.parametrize("strategy", ["none", "single"])
def test_slice_resource_only_exists_under_mixed(strategy: str) -> None:
    resources = {"gpu": 1, "gpuResourceName": "nvidia.com/mig-1g.5gb"}
    with pytest.raises(SpecError) as err:
        request(Config(mig_strategy=strategy), resources)
    assert err.value.reason == "MIGResourceNotExposed"
    request(Config(mig_strategy="mixed"), resources)


def test_engine_job_builds_on_the_node_class_it_is_keyed_by() -> None:
    config = Config(mig_strategy="single", tensorrt_version="10.8.0.43")
    owner = make_deployment(
        resources={"gpu": 1, "migProfile": "1g.5gb"},
        tensorrt={"enabled": True, "gpuProduct": A100},
    )
    spec = parse_deployment(owner["spec"])
    key = engine_cache_key(spec, config)
    # Path segments are DNS-safe (dots become dashes).
    assert key.split("/")[3:] == ["nvidia-a100-sxm4-40gb-mig-1g-5gb", "trt-10-8-0-43"]
    job = render_engine_build_job(owner, spec, config)
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": f"{A100}-MIG-1g.5gb"}
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_cache_key_follows_the_tensorrt_version_not_the_image_tag() -> None:
    owner = make_deployment(tensorrt={"enabled": True, "gpuProduct": A100})
    spec = parse_deployment(owner["spec"])
    keys = {
        engine_cache_key(spec, Config(engine_builder_image=image, tensorrt_version=trt))
        for image in ("modelplane/engine-builder:0.1.0", "modelplane/engine-builder:0.2.0")
        for trt in ("10.8.0.43",)
    }
    assert len(keys) == 1 and next(iter(keys)).endswith("/trt-10-8-0-43")
    other = engine_cache_key(spec, Config(tensorrt_version="10.9.0.34"))
    assert other.endswith("/trt-10-9-0-34")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("mig_strategy", "partial"), ("gpu_time_slicing", "yes")],
)
def test_bad_gpu_settings_are_config_errors(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"MODELPLANE_{variable.upper()}"):
        Config.from_env({f"MODELPLANE_{variable.upper()}": value})


def test_an_unpinned_engine_is_said_in_status() -> None:
    from modelplane_operator.render_gpu import unpinned_engine_note

    def note(**tensorrt: Any) -> str | None:
        owner = make_deployment(tensorrt=tensorrt)
        config = Config(gpu_products="NVIDIA-L4")
        return unpinned_engine_note(parse_deployment(owner["spec"]), config, ["Building"])

    assert "set spec.tensorrt.gpuProduct" in (note(enabled=True) or "")
    assert note(enabled=True, gpuProduct=A100) is None
    assert note(enabled=False) is None
