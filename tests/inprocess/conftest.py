"""The operator integration tier's fixtures (kmock emulator, kubeconfig, cluster), for the
in-process tests that run in their own pytest process (tests/conftest.py says why)."""

from __future__ import annotations

# pytest finds a conftest's fixtures by the names it holds, imported ones included.
from kube_fixtures import cluster, gpu_node_classes, kmock_options, kubeconfig

__all__ = ["cluster", "gpu_node_classes", "kmock_options", "kubeconfig"]
