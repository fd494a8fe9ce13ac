"""The chart's CRD upgrade hook, run as its Job runs it, against the emulator: a cluster that
holds the previous chart's CRD (and a CR created under it) ends up with the new CRD, and the
old CR is still listed (``kubectl get md``) and valid under the installed schema. Schema
compatibility across versions, for every object clusters hold, is tests/unit/test_crd_compat.py."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp
import kmock
import pytest
import yaml
from helpers import (
    NAMESPACE,
    ROOT,
    helm_python,
    make_deployment,
    previous_chart_crd,
    upgrade_problems,
)
from kube import VERBS, create, stored, stored_of
from processes import chart_container

CRDS = "apiextensions.k8s.io/v1/customresourcedefinitions"
MD_CRD = "modeldeployments.modelplane.io"

# Whole operator processes on a shared 2-core machine: more than the suite default.
pytestmark = pytest.mark.timeout(300)


def hook_files(folder: Path) -> Path:
    """The hook ConfigMap's files, as the Job mounts them at /crds."""
    with helm_python().Chart.load(ROOT / "charts" / "modelplane") as chart:
        rendered = chart.render(values={}, name="modelplane", namespace="ops", is_upgrade=True)
    for doc in yaml.safe_load_all(rendered["modelplane/templates/crd-upgrade.yaml"]):
        if doc and doc["kind"] == "ConfigMap":
            for name, text in doc["data"].items():
                (folder / name).write_text(text)
    return folder


async def run_hook(kubeconfig: Path, crds: Path) -> str:
    """The hook Job's container command, with its /crds mount at ``crds``."""
    container = chart_container({}, "ops", component="crd-upgrade", kind="Job")
    args = [a.replace("=/crds", f"={crds}") for a in container["args"]]
    process = await asyncio.create_subprocess_exec(
        *container["command"],
        *args,
        "--log-format=plain",
        env={"KUBECONFIG": str(kubeconfig), "PATH": str(Path(sys.executable).parent)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, out.decode()[-3000:]
    return out.decode()


async def list_deployments(cluster: kmock.KubernetesEmulator) -> list[str]:
    """``kubectl get md -n claims``: the names the API serves."""
    path = f"/apis/modelplane.io/v1alpha1/namespaces/{NAMESPACE}/modeldeployments"
    async with aiohttp.ClientSession(str(cluster.url)) as session, session.get(path) as response:
        assert response.status == 200
        body = await response.json()
    return [item["metadata"]["name"] for item in body["items"]]


async def test_upgrade_hook_applies_the_new_crds(
    cluster: kmock.KubernetesEmulator, kubeconfig: Path, tmp_path: Path
) -> None:
    cluster.resources[CRDS] = kmock.ResourceInfo(
        kind="CustomResourceDefinition", verbs=VERBS, namespaced=False
    )
    old = previous_chart_crd("modeldeployments")
    cluster.objects[CRDS, None, MD_CRD] = old
    await create(cluster, make_deployment("gate"))  # made under the previous version
    crds = hook_files(tmp_path)
    new = yaml.safe_load((crds / "modelplane.io_modeldeployments.yaml").read_text())
    assert new["spec"] != old["spec"]

    out = await run_hook(kubeconfig, crds)
    assert f"CRD {MD_CRD} updated" in out
    assert "CRD modelpipelines.modelplane.io created" in out
    installed = stored(cluster, CRDS, MD_CRD, None) or {}
    assert installed["spec"] == new["spec"]
    assert await list_deployments(cluster) == ["gate"]
    # kmock serves the old CR whatever the CRD says; the schema the hook installed must too.
    assert upgrade_problems(installed, stored_of(cluster, "modeldeployments")) == []

    again = await run_hook(kubeconfig, crds)  # re-running an upgrade changes nothing
    assert f"CRD {MD_CRD} unchanged" in again
