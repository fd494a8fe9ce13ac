"""The installed ``modelplane-operator`` command, as a separate process, against kmock.

This is what a cluster runs: the console script with its flags, credentials from KUBECONFIG,
kopf's liveness endpoint and the Prometheus metrics port. It turns every example into
schema-valid KServe objects and reports what it did on /metrics.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import kmock
import pytest
from helpers import NAMESPACE, load_examples
from kube import MD, MP, create, eventually, stored, stored_of


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status, response.read().decode()


@pytest.fixture()
async def operator_process(
    cluster: kmock.KubernetesEmulator, kubeconfig: Path, tmp_path: Path
) -> AsyncIterator[dict[str, Any]]:
    """``modelplane-operator -n claims`` running in its own process until the test ends."""
    command = shutil.which("modelplane-operator", path=str(Path(sys.executable).parent))
    assert command, "the modelplane-operator console script is not installed"
    ports = {"health": free_port(), "metrics": free_port()}
    log = (tmp_path / "operator.log").open("w")
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    process = subprocess.Popen(
        [
            command,
            "-n",
            NAMESPACE,
            "--log-format=plain",
            f"--health-port={ports['health']}",
            f"--metrics-port={ports['metrics']}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield {"process": process, "log": tmp_path / "operator.log", **ports}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


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
