"""Start ``modelplane-operator`` as the chart starts it: the rendered Deployment's command,
args and env, run as a real process on loopback (ports swapped for free ones).

Used by the operator tiers that need whole processes (leader election, namespace defaulting):
what runs is the console script a pod runs, not the handlers imported into the test.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import ROOT, helm_python

CHART = ROOT / "charts" / "modelplane"
COMPONENT = "app.kubernetes.io/component"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=2) as response:
        body: dict[str, Any] = json.loads(response.read())
        return body


def chart_container(
    values: dict[str, Any], namespace: str, component: str = "operator", kind: str = "Deployment"
) -> dict[str, Any]:
    """The container of the chart's ``kind`` (a Deployment, a hook Job) for ``component``,
    rendered by the real Helm."""
    import yaml

    chart = helm_python().Chart.load(CHART)
    try:
        rendered = chart.render(
            values=values, name="modelplane", namespace=namespace, is_upgrade=True
        )
    finally:
        chart.close()
    for path, text in rendered.items():
        for doc in yaml.safe_load_all(text) if path.endswith(".yaml") else []:
            labels = (doc or {}).get("metadata", {}).get("labels", {})
            if doc and doc["kind"] == kind and labels.get(COMPONENT) == component:
                container: dict[str, Any] = doc["spec"]["template"]["spec"]["containers"][0]
                return container
    raise AssertionError(f"the chart renders no {component} {kind}")


@dataclass
class OperatorProcess:
    """One running ``modelplane-operator`` and where to reach it."""

    process: subprocess.Popen[bytes]
    health_port: int
    metrics_port: int
    log: Path
    name: str

    def health(self) -> dict[str, Any]:
        return get_json(f"http://127.0.0.1:{self.health_port}/healthz")

    def stop(self) -> None:
        """SIGTERM (a pod's termination), SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_from_container(
    container: dict[str, Any], kubeconfig: Path, log: Path, pod: str, pod_namespace: str
) -> OperatorProcess:
    """Run the container's command with its args and env, as the kubelet would, with the
    downward-API env (POD_NAME, POD_NAMESPACE) filled in and free ports instead of the pod's."""
    command = shutil.which(container["command"][0], path=str(Path(sys.executable).parent))
    assert command, f"{container['command'][0]} is not installed"
    health, metrics = free_port(), free_port()
    args = []
    for arg in container.get("args", []):
        if arg.startswith("--health-port="):
            arg = f"--health-port={health}"
        elif arg.startswith("--metrics-port=") and arg != "--metrics-port=0":
            arg = f"--metrics-port={metrics}"
        args.append(arg)
    fields = {"metadata.name": pod, "metadata.namespace": pod_namespace}
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_SERVICE")}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            env[item["name"]] = fields[item["valueFrom"]["fieldRef"]["fieldPath"]]
    env["KUBECONFIG"] = str(kubeconfig)
    with log.open("a") as out:
        process = subprocess.Popen(
            [command, *args, "--log-format=plain"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return OperatorProcess(process, health, metrics, log, pod)
