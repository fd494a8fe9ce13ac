"""GPU node classes read from gpu-feature-discovery's Node labels (``gpu_nodes``).

Label values are written out by hand from GFD's documented conventions: the MIG ``single``
strategy appends ``-MIG-<profile>``, time-slicing without renaming appends ``-SHARED``, MIG
``mixed`` leaves the product as it is.
"""

from __future__ import annotations

import pytest
from helpers import make_deployment
from modelplane_operator.config import Config
from modelplane_operator.gpu_nodes import (
    node_gpu_class,
    ordered_classes,
    unpinned_tensorrt,
    with_node_classes,
)
from modelplane_operator.render_serving import render_engine_build_jobs
from modelplane_operator.spec import SpecError, parse_deployment

A100 = "NVIDIA-A100-SXM4-40GB"


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"nvidia.com/gpu.product": "NVIDIA-L4"}, "NVIDIA-L4"),
        (
            {"nvidia.com/gpu.product": f"{A100}-MIG-1g.5gb", "nvidia.com/mig.strategy": "single"},
            A100,
        ),
        ({"nvidia.com/gpu.product": A100, "nvidia.com/mig.strategy": "mixed"}, A100),
        ({"nvidia.com/gpu.product": "NVIDIA-A10G-SHARED"}, "NVIDIA-A10G"),
        ({"nvidia.com/gpu.product": f"{A100}-MIG-1g.10gb-SHARED"}, A100),
        ({"kubernetes.io/os": "linux"}, None),
        ({"nvidia.com/gpu.product": " "}, None),
    ],
)
def test_node_class_strips_the_strategy_suffixes(
    labels: dict[str, str], expected: str | None
) -> None:
    assert node_gpu_class(labels) == expected


def test_classes_keep_the_order_they_joined_in() -> None:
    seen = [
        ("NVIDIA-L4", "2026-01-02T00:00:00Z"),
        ("NVIDIA-A10G", "2026-03-01T00:00:00Z"),  # joined later: after L4 although A < L
        ("NVIDIA-L4", "2026-01-01T00:00:00Z"),
    ]
    assert ordered_classes(seen) == ["NVIDIA-L4", "NVIDIA-A10G"]
    assert ordered_classes([("B", "t"), ("A", "t")]) == ["A", "B"]  # ties by name


def test_discovered_classes_build_one_plan_each_and_the_chart_overrides() -> None:
    owner = make_deployment(tensorrt={"enabled": True}, resources={"gpu": 1})
    spec = parse_deployment(owner["spec"])
    found = with_node_classes(spec, Config(), ["NVIDIA-L4", A100])
    jobs = render_engine_build_jobs(owner, spec, found)
    assert [j["spec"]["template"]["spec"]["nodeSelector"] for j in jobs] == [
        {"nvidia.com/gpu.product": "NVIDIA-L4"},
        {"nvidia.com/gpu.product": A100},
    ]
    pinned_by_chart = with_node_classes(spec, Config(gpu_products="NVIDIA-H100"), [A100])
    assert pinned_by_chart.gpu_product_list == ["NVIDIA-H100"]
    sliced = with_node_classes(spec, Config(gpu_time_slicing="true"), ["NVIDIA-L4"])
    job = render_engine_build_jobs(owner, spec, sliced)[0]
    assert job["spec"]["template"]["spec"]["nodeSelector"] == {
        "nvidia.com/gpu.product": "NVIDIA-L4-SHARED"
    }


def test_no_gpu_node_is_a_reason_only_for_an_unpinned_plan() -> None:
    onnx = parse_deployment(make_deployment()["spec"])
    assert with_node_classes(onnx, Config(), []) == Config()
    pinned = parse_deployment(
        make_deployment(tensorrt={"enabled": True, "gpuProduct": A100})["spec"]
    )
    assert with_node_classes(pinned, Config(), []) == Config()
    unpinned = parse_deployment(make_deployment(tensorrt={"enabled": True})["spec"])
    with pytest.raises(SpecError) as err:
        with_node_classes(unpinned, Config(), [])
    assert err.value.reason == "NoGPUNodes"


def test_which_raw_specs_follow_discovery() -> None:
    assert unpinned_tensorrt({"tensorrt": {"enabled": True}})
    assert not unpinned_tensorrt({"tensorrt": {"enabled": True, "gpuProduct": A100}})
    assert not unpinned_tensorrt({"tensorrt": {"enabled": False}})
    assert not unpinned_tensorrt({})
