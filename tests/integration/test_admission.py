"""The validating webhook, called as the API server calls it: an AdmissionReview over HTTP."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import kmock
import pytest
from helpers import make_deployment
from kube import admission_review, running_operator
from modelplane_operator.admission import DEPLOYMENT_WEBHOOK, PIPELINE_WEBHOOK


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def admit(port: int, path: str, obj: dict[str, Any], plural: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{port}/{path}", json=admission_review(obj, plural)
        ) as answer,
    ):
        assert answer.status == 200
        body: dict[str, Any] = await answer.json()
    response: dict[str, Any] = body["response"]
    return response


def pipeline(name: str, nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.io/v1alpha1",
        "kind": "ModelPipeline",
        "metadata": {"name": name},
        "spec": {"nodes": nodes},
    }


CYCLE = [
    {"name": "root", "routerType": "Sequence", "steps": [{"node": "again"}]},
    {"name": "again", "routerType": "Sequence", "steps": [{"node": "root"}]},
]
MISSING_STEP = [{"name": "root", "routerType": "Sequence", "steps": [{"deployment": "not-yet"}]}]


@pytest.mark.parametrize(
    ("path", "plural", "obj", "allowed", "reason"),
    [
        (DEPLOYMENT_WEBHOOK, "modeldeployments", make_deployment("gate"), True, None),
        (
            DEPLOYMENT_WEBHOOK,
            "modeldeployments",
            make_deployment("trt", tensorrt={"enabled": True}, resources={"gpu": 0}),
            False,
            "TensorRTWithoutGPU",
        ),
        (
            DEPLOYMENT_WEBHOOK,
            "modeldeployments",
            make_deployment("local", model={"name": "m", "storageUri": "file:///models"}),
            False,
            "LocalStorageInCluster",
        ),
        (PIPELINE_WEBHOOK, "modelpipelines", pipeline("loop", CYCLE), False, "PipelineCycle"),
        # Steps may be created after their pipeline: admitted, healed later.
        (PIPELINE_WEBHOOK, "modelpipelines", pipeline("early", MISSING_STEP), True, None),
    ],
)
async def test_webhook_rejects_what_cannot_work(
    cluster: kmock.KubernetesEmulator,
    path: str,
    plural: str,
    obj: dict[str, Any],
    allowed: bool,
    reason: str | None,
) -> None:
    port = free_port()
    async with running_operator(admission_port=port):
        response = await _admit_when_listening(port, path, obj, plural)
    assert response["allowed"] is allowed
    if reason:
        assert response["status"]["code"] == 422
        assert response["status"]["message"].startswith(f"{reason}: ")


async def _admit_when_listening(
    port: int, path: str, obj: dict[str, Any], plural: str
) -> dict[str, Any]:
    """The webhook server starts with the operator; retry the connection until it listens."""
    for _ in range(100):
        try:
            return await admit(port, path, obj, plural)
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"no webhook listening on {port}")
