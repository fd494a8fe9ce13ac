"""Fixtures: a kmock emulator serving every resource the operator uses, reached via KUBECONFIG
(defined in tests/kube_fixtures.py, shared with tests/inprocess)."""

from __future__ import annotations

# pytest finds a conftest's fixtures by the names it holds, imported ones included.
from kube_fixtures import cluster, gpu_node_classes, kmock_options, kubeconfig

__all__ = ["cluster", "gpu_node_classes", "kmock_options", "kubeconfig"]
