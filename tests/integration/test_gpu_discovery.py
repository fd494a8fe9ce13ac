"""GPU classes discovered from the cluster's Nodes: the real operator against kmock.

With the chart's defaults (``gpu.products`` empty), an unpinned TensorRT ModelDeployment gets one
engine build Job per ``nvidia.com/gpu.product`` class that gpu-feature-discovery put on a Node;
a class that joins later gets its plan without a restart, and with no GPU node at all the
Ready=False reason says so. Nodes are created and relabelled over HTTP as the kubelet and GFD
would; assertions are on what the emulator stored and on the operator's requests.
"""

from __future__ import annotations

from typing import Any

import kmock
import pytest
from helpers import load_examples, make_deployment
from kube import ISVC, MD, call, condition, create, eventually, running_operator, stored, stored_of

PRODUCT = "nvidia.com/gpu.product"
A100 = "NVIDIA-A100-SXM4-40GB"


@pytest.fixture(autouse=True)
def chart_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chart's default values: gpu.products empty, so the Nodes name the classes."""
    monkeypatch.delenv("MODELPLANE_GPU_PRODUCTS", raising=False)


async def add_node(
    cluster: kmock.KubernetesEmulator, name: str, labels: dict[str, str], created: str
) -> None:
    """A Node as the kubelet registers it, with GFD's labels (none for a CPU node)."""
    body = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "creationTimestamp": created},
    }
    await call(cluster, "POST", "/api/v1/nodes", body)


def build_selectors(cluster: kmock.KubernetesEmulator, deployment: str) -> list[dict[str, str]]:
    """The nodeSelector of each engine build Job of one ModelDeployment."""
    jobs = [
        j
        for j in stored_of(cluster, "jobs")
        if j["metadata"]["labels"]["modelplane.io/deployment"] == deployment
    ]
    return [j["spec"]["template"]["spec"]["nodeSelector"] for j in jobs]


def ready_reason(cluster: kmock.KubernetesEmulator, name: str) -> str | None:
    status = (stored(cluster, MD, name) or {}).get("status") or {}
    return condition(status, "Ready").get("reason")


async def test_examples_apply_with_the_chart_defaults(cluster: kmock.KubernetesEmulator) -> None:
    await add_node(cluster, "cpu-1", {"kubernetes.io/os": "linux"}, "2026-01-01T00:00:00Z")
    await add_node(cluster, "gpu-1", {PRODUCT: "NVIDIA-L4"}, "2026-01-02T00:00:00Z")
    examples = load_examples()
    deployments = [d["metadata"]["name"] for d in examples if d["kind"] == "ModelDeployment"]
    async with running_operator():
        for doc in examples:
            await create(cluster, doc)
        await eventually(
            lambda: len(stored_of(cluster, "inferenceservices")) == len(deployments),
            timeout=30,
            what="an InferenceService per example ModelDeployment",
        )
        await eventually(
            lambda: ready_reason(cluster, "doc-text-detection") == "EngineNotBuilt",
            what="doc-text-detection building its plan",
        )
    assert len(deployments) >= 7  # issue 23: 7 of 7 (6 before discovery); more examples since
    assert {i["metadata"]["name"] for i in stored_of(cluster, "inferenceservices")} == set(
        deployments
    )
    assert build_selectors(cluster, "doc-text-detection") == [{PRODUCT: "NVIDIA-L4"}]
    predictor = stored(cluster, ISVC, "doc-text-detection")["spec"]["predictor"]
    assert predictor["nodeSelector"][PRODUCT] == "NVIDIA-L4"


async def test_no_gpu_node_then_classes_join_without_a_restart(
    cluster: kmock.KubernetesEmulator,
) -> None:
    await add_node(cluster, "cpu-1", {"kubernetes.io/os": "linux"}, "2026-01-01T00:00:00Z")
    async with running_operator():
        await create(cluster, make_deployment("trt", tensorrt={"enabled": True}))
        await eventually(lambda: ready_reason(cluster, "trt") == "NoGPUNodes", what="NoGPUNodes")
        message = condition(stored(cluster, MD, "trt")["status"], "Ready")["message"]
        assert PRODUCT in message and "gpu-feature-discovery" in message
        assert stored_of(cluster, "jobs") == [] and stored(cluster, ISVC, "trt") is None

        # A MIG-single node joins (GFD appends -MIG-<profile>): its class is the A100.
        labels = {PRODUCT: f"{A100}-MIG-1g.10gb", "nvidia.com/mig.strategy": "single"}
        await add_node(cluster, "gpu-a100", labels, "2026-01-02T00:00:00Z")
        await eventually(
            lambda: build_selectors(cluster, "trt") == [{PRODUCT: A100}], what="A100 plan"
        )
        await eventually(lambda: stored(cluster, ISVC, "trt"), what="InferenceService")

        # A second class joins later: a second plan, and the predictor stays on the first.
        await add_node(cluster, "gpu-a10g", {PRODUCT: "NVIDIA-A10G"}, "2026-01-03T00:00:00Z")
        await eventually(
            lambda: build_selectors(cluster, "trt") == [{PRODUCT: A100}, {PRODUCT: "NVIDIA-A10G"}],
            what="A10G plan",
        )
        predictor = stored(cluster, ISVC, "trt")["spec"]["predictor"]
        assert predictor["nodeSelector"][PRODUCT] == A100
    # The operator reads Nodes (list and watch) and never writes one; the POSTs are the test's.
    assert len(cluster["get", kmock.resource("v1/nodes")]) >= 2
    assert len(cluster["post", kmock.resource("v1/nodes")]) == 3
    assert not any(len(cluster[m, kmock.resource("v1/nodes")]) for m in ("patch", "put", "delete"))


async def test_chart_products_override_discovery(
    cluster: kmock.KubernetesEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELPLANE_GPU_PRODUCTS", "NVIDIA-H100")
    await add_node(cluster, "gpu-l4", {PRODUCT: "NVIDIA-L4"}, "2026-01-01T00:00:00Z")
    spec: dict[str, Any] = {"tensorrt": {"enabled": True}}
    async with running_operator():
        await create(cluster, make_deployment("trt", **spec))
        await eventually(lambda: build_selectors(cluster, "trt"), what="build Job")
        await add_node(cluster, "gpu-a10g", {PRODUCT: "NVIDIA-A10G"}, "2026-01-02T00:00:00Z")
        await eventually(lambda: stored(cluster, ISVC, "trt"), what="InferenceService")
    assert build_selectors(cluster, "trt") == [{PRODUCT: "NVIDIA-H100"}]
