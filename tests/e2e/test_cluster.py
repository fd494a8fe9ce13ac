"""Against a real cluster (``make e2e``: the CRDs and examples applied with kubectl first).

Runs the installed ``modelplane-operator`` against ``$KUBECONFIG``'s cluster, watching the
namespace the examples were applied to, and checks what a user would check with ``kubectl get
md,mp,isvc,ig``: every example has its KServe child, owned by it, and a status with a phase and
a Ready condition carrying a reason. Needs KServe's CRDs in the cluster; Ready itself depends on
the cluster's GPUs and storage, so it is reported, not required.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import load_examples

pytestmark = pytest.mark.e2e
NAMESPACE = os.environ.get("MODELPLANE_E2E_NAMESPACE", "default")
CHILD = {
    "ModelDeployment": ("serving.kserve.io", "v1beta1", "inferenceservices", "modeldeployments"),
    "ModelPipeline": ("serving.kserve.io", "v1alpha1", "inferencegraphs", "modelpipelines"),
}


@pytest.fixture(scope="module")
def operator() -> Iterator[subprocess.Popen[bytes]]:
    """The operator watching NAMESPACE, for as long as the module's tests run."""
    command = shutil.which("modelplane-operator", path=str(Path(sys.executable).parent))
    assert command, "the modelplane-operator console script is not installed"
    process = subprocess.Popen([command, "-n", NAMESPACE, "--log-format=plain", "--metrics-port=0"])
    yield process
    process.terminate()
    process.wait(timeout=30)


def _get(api: Any, group: str, version: str, plural: str, name: str) -> dict[str, Any] | None:
    from kubernetes.client.exceptions import NotFoundException

    try:
        obj: dict[str, Any] = api.get_namespaced_custom_object(
            group, version, NAMESPACE, plural, name
        )
    except NotFoundException:
        return None
    return obj


def _wait(check: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s")


@pytest.mark.parametrize("example", load_examples(), ids=lambda d: d["metadata"]["name"])
def test_example_gets_its_kserve_child_and_a_status(
    operator: subprocess.Popen[bytes], example: dict[str, Any]
) -> None:
    from kubernetes import client, config

    config.load_kube_config()
    api = client.CustomObjectsApi()
    name, kind = example["metadata"]["name"], example["kind"]
    group, version, plural, own_plural = CHILD[kind]
    child = _wait(lambda: _get(api, group, version, plural, name))

    def reconciled() -> dict[str, Any] | None:
        owner = _get(api, "modelplane.io", "v1alpha1", own_plural, name) or {}
        return owner if (owner.get("status") or {}).get("phase") else None

    owner = _wait(reconciled)
    assert child["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]
    status = owner["status"]
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["reason"], status
    print(f"{kind} {name}: {status['phase']}, Ready={ready['status']} ({ready['reason']})")
    assert operator.poll() is None
