"""The operator integration fixtures: a kmock emulator serving every resource the operator uses,
reached via KUBECONFIG.

A module of their own (not a conftest) so that both tiers that run the operator import them by
name: tests/integration, and tests/inprocess, which runs in a pytest process of its own
(tests/conftest.py says why). kmock's pytest plugin provides ``kmock`` itself; it reads
``kmock_options``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kmock
import pytest
from kube import ApiServer, declare_resources, write_kubeconfig


@pytest.fixture()
def kmock_options() -> dict[str, Any]:
    """Serve with ``ApiServer``: kmock plus server-assigned metadata (uid, generation, ...)."""
    return {"cls": ApiServer}


@pytest.fixture(autouse=True)
def gpu_node_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cluster's GPU products, as the chart's gpu.products sets them: a TensorRT CR that
    pins no gpuProduct is built for these (one plan per class) instead of being refused."""
    monkeypatch.setenv("MODELPLANE_GPU_PRODUCTS", "NVIDIA-L4")


@pytest.fixture()
def kubeconfig(
    tmp_path: Path, kmock: kmock.KubernetesEmulator, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point every client (kopf's and the operator's) at the emulator, as KUBECONFIG does."""
    path = write_kubeconfig(str(kmock.url), tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return path


@pytest.fixture()
def cluster(kmock: kmock.KubernetesEmulator, kubeconfig: Path) -> kmock.KubernetesEmulator:
    """The emulator with every resource the operator uses, monitoring CRDs included."""
    declare_resources(kmock)
    return kmock
