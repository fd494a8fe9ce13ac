"""Namespace scope like kubectl: with no -n/-A the operator watches the kubeconfig context's
namespace, and its first log line says what it watches and how."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import kmock
import pytest
from helpers import make_deployment
from kube import ISVC, MD, create, eventually, stored, write_kubeconfig
from processes import OperatorProcess, free_port

CONTEXT_NAMESPACE = "ml-serving"

# Whole operator processes on a shared 2-core machine: more than the suite default.
pytestmark = pytest.mark.timeout(240)


async def test_no_flag_watches_the_context_namespace(
    cluster: kmock.KubernetesEmulator, tmp_path: Path
) -> None:
    cluster.objects["v1/namespaces", None, CONTEXT_NAMESPACE] = {
        "metadata": {"name": CONTEXT_NAMESPACE}
    }
    kubeconfig = write_kubeconfig(str(cluster.url), tmp_path, namespace=CONTEXT_NAMESPACE)
    command = shutil.which("modelplane-operator", path=str(Path(sys.executable).parent))
    assert command
    log = tmp_path / "operator.log"
    health = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [command, "--log-format=plain", f"--health-port={health}", "--metrics-port=0"],
            env={"KUBECONFIG": str(kubeconfig), "PATH": "/usr/bin:/bin"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    operator = OperatorProcess(process, health, 0, log, "solo")
    try:
        await create(cluster, make_deployment("gate"), namespace=CONTEXT_NAMESPACE)
        await eventually(
            lambda: (
                (stored(cluster, MD, "gate", CONTEXT_NAMESPACE) or {})
                .get("status", {})
                .get("phase")
            ),
            timeout=120,
            what="the CR in the context's namespace reconciled",
        )
        assert stored(cluster, ISVC, "gate", CONTEXT_NAMESPACE) is not None
        assert operator.health()["role"] == "active"
    finally:
        operator.stop()
    first = next(line for line in log.read_text().splitlines() if line.strip())
    assert f"watching namespace(s) {CONTEXT_NAMESPACE} (namespaced" in first, first
    assert "kubeconfig context" in first and "standalone" in first, first
