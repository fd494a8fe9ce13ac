"""API answers as typed errors, and per-CR locks that do not outlive their CR.

``Cluster.request`` is the one place a non-2xx answer becomes an exception; here kmock answers
each status a real API server sends (a Kubernetes ``Status`` body, Retry-After on 429) and the
operator's client must raise the matching class, carrying the server's message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import kmock
import kopf
import pytest
from helpers import make_deployment
from kube import ISVC, MD, MP, create, delete, eventually, inject, running_operator, stored
from modelplane_operator.cluster import Cluster, object_path
from modelplane_operator.errors import (
    APIClientError,
    APIConflictError,
    APIError,
    APIForbiddenError,
    APINotFoundError,
    APIServerError,
    APITooManyRequestsError,
    APIUnprocessableEntityError,
)
from prometheus_client import REGISTRY

ISVC_PATH = object_path("serving.kserve.io/v1beta1", "InferenceService", "claims", "gate")


@pytest.fixture()
async def client(cluster: kmock.KubernetesEmulator) -> AsyncIterator[Cluster]:
    """The operator's own API client, connected to the emulator through KUBECONFIG."""
    session = await Cluster.connect()
    try:
        yield session
    finally:
        await session.close()


@pytest.mark.parametrize(
    ("code", "reason", "error", "retryable"),
    [
        (403, "Forbidden", APIForbiddenError, False),
        (404, "NotFound", APINotFoundError, False),
        (409, "Conflict", APIConflictError, True),
        (422, "Invalid", APIUnprocessableEntityError, False),
        (400, "BadRequest", APIClientError, False),
        (500, "InternalError", APIServerError, True),
        (503, "ServiceUnavailable", APIServerError, True),
    ],
)
async def test_each_answer_raises_its_own_type(
    cluster: kmock.KubernetesEmulator,
    client: Cluster,
    code: int,
    reason: str,
    error: type[APIError],
    retryable: bool,
) -> None:
    served = inject(cluster, 1, "GET", "inferenceservices", code, reason)
    with pytest.raises(error) as caught:
        await client.request("GET", ISVC_PATH)
    assert served, "the fault was not served"
    assert type(caught.value) is error
    assert (caught.value.status, caught.value.retryable) == (code, retryable)
    assert caught.value.message == f"injected {code} {reason}"  # Status.message, not the JSON


async def test_throttling_carries_retry_after(
    cluster: kmock.KubernetesEmulator, client: Cluster
) -> None:
    inject(cluster, 1, "GET", "inferenceservices", 429, "TooManyRequests", **{"Retry-After": "3"})
    with pytest.raises(APITooManyRequestsError) as caught:
        await client.request("GET", ISVC_PATH)
    assert (caught.value.retryable, caught.value.retry_after) == (True, 3.0)


async def test_get_of_a_missing_object_is_none_and_other_errors_pass(
    cluster: kmock.KubernetesEmulator, client: Cluster
) -> None:
    inject(cluster, 1, "GET", "inferenceservices", 403, "Forbidden")
    with pytest.raises(APIForbiddenError):
        await client.get("serving.kserve.io/v1beta1", "InferenceService", "claims", "x")
    assert await client.get("serving.kserve.io/v1beta1", "InferenceService", "claims", "x") is None


async def test_per_cr_state_is_dropped_once_their_crs_are_gone(
    cluster: kmock.KubernetesEmulator,
) -> None:
    """Create and delete deployments and a pipeline: no lock is left behind for any of them,
    and they leave the by-phase gauge (a deleted Failed CR must not keep an alert firing)."""
    memo = kopf.Memo()
    names = ["gate", "breed", "premium"]
    pipeline = {
        "apiVersion": "modelplane.io/v1alpha1",
        "kind": "ModelPipeline",
        "metadata": {"name": "claims-flow"},
        "spec": {
            "nodes": [
                {
                    "name": "root",
                    "routerType": "Sequence",
                    "steps": [{"name": n, "deployment": n, "data": "$request"} for n in names],
                }
            ]
        },
    }
    async with running_operator(memo=memo):
        for name in names:
            await create(cluster, make_deployment(name))
        await create(cluster, pipeline)
        for name in names:
            await eventually(
                lambda n=name: (stored(cluster, MD, n) or {}).get("status", {}).get("phase"),
                timeout=60,
                what=f"{name} reconciled",
            )
        await eventually(
            lambda: (stored(cluster, MP, "claims-flow") or {}).get("status", {}).get("phase"),
            timeout=60,
            what="pipeline reconciled",
        )
        assert stored(cluster, ISVC, "gate"), "the operator did reconcile"
        assert _gauge("ModelDeployment", "Deploying") == 3
        assert _gauge("ModelPipeline", "Pending") == 1
        for name in names:
            await delete(cluster, MD, name)
        await delete(cluster, MP, "claims-flow")
        await eventually(lambda: len(memo.locks) == 0, timeout=30, what="locks pruned")
        await eventually(lambda: len(memo.phases) == 0, timeout=30, what="phases forgotten")
    assert _gauge("ModelDeployment", "Deploying") == 0
    assert _gauge("ModelPipeline", "Pending") == 0


def _gauge(kind: str, phase: str) -> float | None:
    labels = {"kind": kind, "phase": phase}
    return REGISTRY.get_sample_value("modelplane_operator_resources", labels)
