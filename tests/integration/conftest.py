"""Fixtures: a kmock emulator serving every resource the operator uses, reached via KUBECONFIG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kmock
import pytest
from kube import ApiServer, declare_resources


@pytest.fixture()
def kmock_options() -> dict[str, Any]:
    """Serve with ``ApiServer``: kmock plus server-assigned metadata (uid, generation, ...)."""
    return {"cls": ApiServer}


@pytest.fixture()
def kubeconfig(
    tmp_path: Path, kmock: kmock.KubernetesEmulator, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point every client (kopf's and the operator's) at the emulator, as KUBECONFIG does."""
    path = tmp_path / "kubeconfig"
    path.write_text(f"""
apiVersion: v1
kind: Config
current-context: kmock
clusters: [{{name: kmock, cluster: {{server: "{kmock.url!s}"}}}}]
contexts: [{{name: kmock, context: {{cluster: kmock, user: kmock}}}}]
users: [{{name: kmock, user: {{token: test}}}}]
""")
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return path


@pytest.fixture()
def cluster(kmock: kmock.KubernetesEmulator, kubeconfig: Path) -> kmock.KubernetesEmulator:
    """The emulator with every resource the operator uses, monitoring CRDs included."""
    declare_resources(kmock)
    return kmock
