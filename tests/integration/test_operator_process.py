"""The installed ``modelplane-operator`` command, as a separate process, against kmock.

This is what a cluster runs: the console script with its flags, credentials from KUBECONFIG,
kopf's liveness endpoint and the Prometheus metrics port. It turns every example into
schema-valid KServe objects and reports what it did on /metrics.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import kmock
import pytest
from helpers import NAMESPACE, load_examples, make_deployment
from kube import ISVC, MD, MP, create, eventually, first_requests, stored, stored_of
from processes import free_port


def http_get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status, response.read().decode()


def start_operator(
    kubeconfig: Path, log_path: Path
) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    """``modelplane-operator -n claims`` in its own process, logging to ``log_path``."""
    command = shutil.which("modelplane-operator", path=str(Path(sys.executable).parent))
    assert command, "the modelplane-operator console script is not installed"
    ports = {"health": free_port(), "metrics": free_port()}
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [
                command,
                "-n",
                NAMESPACE,
                "--log-format=plain",
                f"--health-port={ports['health']}",
                f"--metrics-port={ports['metrics']}",
            ],
            env={**os.environ, "KUBECONFIG": str(kubeconfig)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, ports


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture()
async def operator_process(
    cluster: kmock.KubernetesEmulator, kubeconfig: Path, tmp_path: Path
) -> AsyncIterator[dict[str, Any]]:
    """``modelplane-operator -n claims`` running in its own process until the test ends."""
    process, ports = start_operator(kubeconfig, tmp_path / "operator.log")
    try:
        yield {"process": process, "log": tmp_path / "operator.log", **ports}
    finally:
        stop(process)


async def _get(url: str) -> tuple[int, str]:
    return await asyncio.to_thread(http_get, url)


async def test_operator_command_serves_examples_health_and_metrics(
    cluster: kmock.KubernetesEmulator,
    operator_process: dict[str, Any],
    validate: Callable[[dict[str, Any]], None],
) -> None:
    examples = load_examples()
    for doc in examples:
        await create(cluster, doc)
    for doc in examples:
        resource = MD if doc["kind"] == "ModelDeployment" else MP
        name = doc["metadata"]["name"]
        await eventually(
            lambda r=resource, n=name: (stored(cluster, r, n) or {}).get("status", {}).get("phase"),
            timeout=60,
            what=f"{doc['kind']} {name} reconciled by the process",
        )
    deployments = {d["metadata"]["name"] for d in examples if d["kind"] == "ModelDeployment"}
    services = stored_of(cluster, "inferenceservices")
    assert {i["metadata"]["name"] for i in services} == deployments
    for child in [*services, *stored_of(cluster, "inferencegraphs"), *stored_of(cluster, "jobs")]:
        validate(child)

    status, _ = await _get(f"http://127.0.0.1:{operator_process['health']}/healthz")
    assert status == 200
    status, metrics = await _get(f"http://127.0.0.1:{operator_process['metrics']}/metrics")
    assert status == 200
    ok = [
        line
        for line in metrics.splitlines()
        if line.startswith(
            'modelplane_operator_reconciles_total{kind="ModelDeployment",result="ok"}'
        )
    ]
    assert ok and float(ok[0].split()[-1]) >= len(deployments)
    assert operator_process["process"].poll() is None, operator_process["log"].read_text()[-2000:]


async def test_killed_between_children_and_status_restarts_without_duplicates(
    cluster: kmock.KubernetesEmulator, kubeconfig: Path, tmp_path: Path
) -> None:
    # Hold the read before the last child (the PrometheusRule) long enough to kill the process
    # after it created the InferenceService and before it wrote any status. (kmock stores a
    # write even while a reaction holds its answer, so a read is what can be held.)
    matching, held = first_requests(1, "GET", "prometheusrules")
    cluster[matching] << (lambda: asyncio.sleep(20))
    log = tmp_path / "operator.log"
    first, _ = start_operator(kubeconfig, log)
    try:
        await create(cluster, make_deployment("gate"))
        await eventually(
            lambda: held and stored(cluster, ISVC, "gate"),
            timeout=60,
            what="children made, status write in flight",
        )
    finally:
        first.kill()  # SIGKILL: no cleanup, no status written
        first.wait()
    assert "phase" not in (stored(cluster, MD, "gate") or {}).get("status", {})
    assert stored_of(cluster, "prometheusrules") == []

    second, _ = start_operator(kubeconfig, log)
    try:
        await eventually(
            lambda: (stored(cluster, MD, "gate") or {}).get("status", {}).get("phase"),
            timeout=60,
            what="the restarted operator writes the status",
        )
    finally:
        stop(second)
    for plural in ("inferenceservices", "configmaps", "prometheusrules", "servicemonitors"):
        assert len(stored_of(cluster, plural)) == 1, plural
    assert len(cluster["post", kmock.resource(ISVC)]) == 1  # found and kept, not re-created
    assert stored(cluster, MD, "gate")["status"]["observedGeneration"] == 1
