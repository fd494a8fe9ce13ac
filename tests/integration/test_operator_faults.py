"""The real operator against kmock when things go wrong: API faults, bad specs, missing steps.

Faults are kmock reactions placed in front of the emulator: each answers an error for its first
few matching requests and then lets the emulator serve, as a flaky API server would. The
emulator stores what a create or patch carries even when a reaction answers an error (a server
that committed the write but failed to say so), which is exactly what makes retries dangerous:
the tests assert that nothing is duplicated or half-made.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import kmock
from helpers import make_deployment
from kube import (
    IG,
    ISVC,
    JOB,
    MD,
    MP,
    READY_ISVC,
    condition,
    create,
    delete,
    eventually,
    first_requests,
    inject,
    patch_spec,
    patch_status,
    running_operator,
    stored,
    stored_of,
)


def _status(cluster: kmock.KubernetesEmulator, resource: str, name: str) -> dict[str, Any]:
    return dict((stored(cluster, resource, name) or {}).get("status") or {})


async def test_conflict_throttling_and_server_errors_are_retried(
    cluster: kmock.KubernetesEmulator,
) -> None:
    conflicts = inject(cluster, 1, "POST", "inferenceservices", 409, "AlreadyExists")
    errors = inject(cluster, 2, "GET", "services", 500, "InternalError")
    throttled = inject(
        cluster,
        1,
        "PATCH",
        "modeldeployments",
        429,
        "TooManyRequests",
        subresource="status",
        **{"Retry-After": "1"},
    )
    async with running_operator():
        await create(cluster, make_deployment("gate"))
        await eventually(
            lambda: _status(cluster, MD, "gate").get("phase") == "Deploying",
            timeout=30,
            what="gate converges to Deploying",
        )
    assert (len(conflicts), len(errors), len(throttled)) == (1, 2, 1)  # every fault was served
    assert [i["metadata"]["name"] for i in stored_of(cluster, "inferenceservices")] == ["gate"]
    assert len(stored_of(cluster, "prometheusrules")) == 1
    status = _status(cluster, MD, "gate")
    assert condition(status, "Ready")["status"] == "False"
    assert condition(status, "Monitoring")["reason"] == "Configured"
    assert status["observedGeneration"] == 1


async def test_invalid_spec_is_reported_and_other_deployments_are_served(
    cluster: kmock.KubernetesEmulator,
) -> None:
    tensorrt_on_cpu = make_deployment("detect", tensorrt={"enabled": True}, resources={"gpu": 0})
    async with running_operator():
        await create(cluster, tensorrt_on_cpu)
        await eventually(
            lambda: _status(cluster, MD, "detect").get("phase") == "Failed", what="Failed"
        )
        await create(cluster, make_deployment("gate"))
        await eventually(
            lambda: stored(cluster, ISVC, "gate"), what="the valid deployment is served"
        )

        status = _status(cluster, MD, "detect")
        ready = condition(status, "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "TensorRTWithoutGPU")
        assert "spec.resources.gpu" in ready["message"]
        assert condition(status, "Degraded")["status"] == "True"
        assert stored(cluster, ISVC, "detect") is None and stored_of(cluster, "jobs") == []
        warnings = [
            e for e in stored_of(cluster, "events") if e.get("reason") == "TensorRTWithoutGPU"
        ]
        assert warnings and warnings[0]["type"] == "Warning"

        await patch_spec(cluster, MD, "detect", {"resources": {"gpu": 1}})
        await eventually(
            lambda: _status(cluster, MD, "detect").get("phase") == "BuildingEngine",
            what="fixed spec heals",
        )
    assert stored(cluster, ISVC, "detect") is not None
    assert len(stored_of(cluster, "jobs")) == 1
    assert condition(_status(cluster, MD, "detect"), "Ready")["reason"] == "EngineNotBuilt"


PIPELINE = {
    "apiVersion": "modelplane.io/v1alpha1",
    "kind": "ModelPipeline",
    "metadata": {"name": "claims"},
    "spec": {
        "nodes": [
            {
                "name": "root",
                "routerType": "Sequence",
                "steps": [{"name": "gate", "deployment": "gate", "data": "$request"}],
            }
        ]
    },
}


async def test_pipeline_waits_for_a_missing_step_and_heals_when_it_appears(
    cluster: kmock.KubernetesEmulator,
) -> None:
    async with running_operator():
        await create(cluster, PIPELINE)
        await eventually(
            lambda: _status(cluster, MP, "claims").get("phase") == "Failed", what="MissingStep"
        )
        ready = condition(_status(cluster, MP, "claims"), "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "MissingStep")
        assert "gate" in ready["message"]
        assert stored(cluster, IG, "claims") is None

        await create(cluster, make_deployment("gate"))
        graph = await eventually(
            lambda: stored(cluster, IG, "claims"), what="InferenceGraph after the step appears"
        )
        await eventually(
            lambda: _status(cluster, MP, "claims").get("phase") == "Pending", what="healed"
        )
    assert graph["spec"]["nodes"]["root"]["steps"][0]["serviceName"] == "gate"
    assert condition(_status(cluster, MP, "claims"), "Ready")["reason"] == "InferenceGraphNotReady"


async def test_pipeline_cycle_is_rejected_without_a_graph(
    cluster: kmock.KubernetesEmulator,
) -> None:
    cyclic = {
        **PIPELINE,
        "metadata": {"name": "loop"},
        "spec": {
            "nodes": [
                {"name": "root", "routerType": "Sequence", "steps": [{"node": "again"}]},
                {"name": "again", "routerType": "Sequence", "steps": [{"node": "root"}]},
            ]
        },
    }
    async with running_operator():
        await create(cluster, cyclic)
        await eventually(
            lambda: _status(cluster, MP, "loop").get("phase") == "Failed", what="PipelineCycle"
        )
    ready = condition(_status(cluster, MP, "loop"), "Ready")
    assert ready["reason"] == "PipelineCycle"
    assert "root -> again -> root" in ready["message"]
    assert stored_of(cluster, "inferencegraphs") == []


async def test_watch_gone_and_dropped_streams_are_reopened(
    cluster: kmock.KubernetesEmulator,
) -> None:
    # A watch from a resourceVersion the server compacted away: an ERROR event with 410 Gone.
    expired, gone = first_requests(1, "GET", "modeldeployments", watch=True)
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": "Expired",
        "code": 410,
        "message": "too old resource version",
    }
    cluster[expired] << 200 << json.dumps({"type": "ERROR", "object": status}).encode() + b"\n"
    matching, dropped = first_requests(2, "GET", "inferenceservices", watch=True)
    cluster[matching] << 200 << b""  # the stream ends at once, as a dropped connection does
    async with running_operator():
        await create(cluster, make_deployment("gate"))
        await eventually(lambda: stored(cluster, ISVC, "gate"), timeout=30, what="InferenceService")
        await patch_status(cluster, ISVC, "gate", READY_ISVC)
        await eventually(
            lambda: _status(cluster, MD, "gate").get("phase") == "Ready",
            timeout=30,
            what="child status mirrored over the reopened InferenceService watch",
        )
    assert (len(gone), len(dropped)) == (1, 2)
    assert len(stored_of(cluster, "inferenceservices")) == 1


async def collect_garbage(cluster: kmock.KubernetesEmulator, quiet_s: float = 2.0) -> int:
    """Play Kubernetes' garbage collector (kmock has none): delete every Job and InferenceService
    whose owner no longer exists, until ``quiet_s`` pass with nothing to delete."""
    deleted, deadline = 0, asyncio.get_running_loop().time() + quiet_s
    while asyncio.get_running_loop().time() < deadline:
        live = {o["metadata"]["uid"] for o in stored_of(cluster, "modeldeployments")}
        for plural, resource in (("jobs", JOB), ("inferenceservices", ISVC)):
            for child in stored_of(cluster, plural):
                if child["metadata"]["ownerReferences"][0]["uid"] not in live:
                    await delete(cluster, resource, child["metadata"]["name"])
                    deleted += 1
                    deadline = asyncio.get_running_loop().time() + quiet_s
        await asyncio.sleep(0.1)
    return deleted


async def test_deleting_a_deployment_during_its_engine_build_leaves_nothing_behind(
    cluster: kmock.KubernetesEmulator,
) -> None:
    async with running_operator():
        await create(cluster, make_deployment("detect", tensorrt={"enabled": True}))
        await eventually(lambda: stored_of(cluster, "jobs"), what="engine build running")
        owner = stored(cluster, MD, "detect")
        assert owner is not None and not owner["metadata"].get("finalizers")  # nothing to wait for
        await delete(cluster, MD, "detect")
        await eventually(lambda: stored(cluster, MD, "detect") is None, what="deleted at once")
        collected = await collect_garbage(cluster)
    assert collected >= 2  # the Job and the InferenceService were owned, so GC takes them
    assert stored_of(cluster, "jobs") == [] and stored_of(cluster, "inferenceservices") == []
    # A reconcile already in flight at the delete may write once more (GC removes that too);
    # nothing keeps re-creating children for an owner that is gone.
    assert len(cluster["post", kmock.resource(JOB)]) <= 2
    assert len(cluster["post", kmock.resource(ISVC)]) <= 2
