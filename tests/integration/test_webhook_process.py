"""The webhook Deployment's pod as a process: ``modelplane-operator --webhook-only`` with the
chart's args (TLS swapped for plain HTTP, the certificate being cert-manager's job) answers
AdmissionReviews, including the MIG check, and reconciles nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import kmock
import pytest
from helpers import make_deployment
from kube import admission_review, create, eventually, stored_of
from modelplane_operator.admission import DEPLOYMENT_WEBHOOK
from processes import chart_container, free_port, start_from_container

pytestmark = pytest.mark.timeout(240)
ADMISSION = {"admission": {"enabled": True, "certManager": {"enabled": True}}}


async def admit(port: int, obj: dict[str, Any]) -> dict[str, Any]:
    """POST a review, retrying while the webhook is still starting."""
    deadline = asyncio.get_running_loop().time() + 150
    while True:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"http://127.0.0.1:{port}/{DEPLOYMENT_WEBHOOK}",
                    json=admission_review(obj, "modeldeployments"),
                ) as answer,
            ):
                assert answer.status == 200
                response: dict[str, Any] = (await answer.json())["response"]
                return response
        except aiohttp.ClientConnectionError:
            assert asyncio.get_running_loop().time() < deadline, "webhook never listened"
            await asyncio.sleep(0.5)


def watches(cluster: kmock.KubernetesEmulator, plural: str) -> list[int]:
    """Ids of the LIST and WATCH requests on ``plural`` (kmock's recorded requests): what any
    reconciler must send before it can act on an object of that kind."""
    return [
        request.id
        for request in cluster
        if request.resource is not None
        and request.resource.plural == plural
        and request.action in {kmock.action.LIST, kmock.action.WATCH}
    ]


async def test_webhook_only_pod_validates_and_reconciles_nothing(
    cluster: kmock.KubernetesEmulator, kubeconfig: Path, tmp_path: Path
) -> None:
    container = chart_container(ADMISSION, "modelplane-system", component="webhook")
    port = free_port()
    container["args"] = [
        a
        for a in container["args"]
        if not a.startswith(("--admission-cert", "--admission-key", "--admission-port"))
    ] + [f"--admission-port={port}", "--admission-insecure"]
    container["env"].append({"name": "MODELPLANE_MIG_STRATEGY", "value": "none"})
    pod = start_from_container(
        container, kubeconfig, tmp_path / "webhook.log", "webhook-1", "modelplane-system"
    )
    try:
        ok = await admit(port, make_deployment("gate"))
        assert ok["allowed"] is True, ok
        mig = make_deployment("sliced", resources={"gpu": 1, "migProfile": "1g.10gb"})
        denied = await admit(port, mig)
        assert denied["allowed"] is False
        assert denied["status"]["message"].startswith("MIGNotEnabled:"), denied
        # kopf opens its watches once discovery is done, the CRD watch beside any resource's:
        # from then on a reconciler in this pod would be listing and watching ModelDeployments.
        await eventually(lambda: watches(cluster, "customresourcedefinitions"), timeout=60)
        await create(cluster, make_deployment("gate"))
        assert (await admit(port, make_deployment("later")))["allowed"] is True  # loop still up
        assert watches(cluster, "modeldeployments") == []  # never even looked
        assert stored_of(cluster, "inferenceservices") == []
        assert (await asyncio.to_thread(pod.health))["role"] == "active"
    finally:
        await asyncio.to_thread(pod.stop)
