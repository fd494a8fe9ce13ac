"""The real operator against kmock: create, mirror status, build engines, roll forward, resume.

Each test posts custom resources over HTTP exactly as ``kubectl apply`` would, plays KServe's
and the Job controller's part by patching the children's ``status`` subresource, and asserts on
what the emulator stored and on the requests the operator made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kmock
from helpers import load_examples, make_deployment
from kube import (
    ISVC,
    JOB,
    MD,
    MP,
    READY_ISVC,
    condition,
    create,
    eventually,
    patch_spec,
    patch_status,
    running_operator,
    stored,
    stored_of,
)

OWNED_KINDS = (
    "inferenceservices",
    "inferencegraphs",
    "jobs",
    "configmaps",
    "services",
    "servicemonitors",
    "prometheusrules",
)


def _phase(cluster: kmock.KubernetesEmulator, resource: str, name: str) -> str | None:
    obj = stored(cluster, resource, name) or {}
    return (obj.get("status") or {}).get("phase")


async def test_examples_become_owned_schema_valid_children(
    cluster: kmock.KubernetesEmulator, validate: Callable[[dict[str, Any]], None]
) -> None:
    examples = load_examples()
    async with running_operator():
        for doc in examples:
            await create(cluster, doc)
        for doc in examples:
            resource = MD if doc["kind"] == "ModelDeployment" else MP
            name = doc["metadata"]["name"]
            await eventually(
                lambda r=resource, n=name: _phase(cluster, r, n), what=f"{doc['kind']} {name}"
            )

    owners = {
        stored(cluster, MD if d["kind"] == "ModelDeployment" else MP, d["metadata"]["name"])[
            "metadata"
        ]["uid"]: d
        for d in examples
    }
    children = [obj for kind in OWNED_KINDS for obj in stored_of(cluster, kind)]
    for child in children:
        validate(child)
        refs = child["metadata"]["ownerReferences"]
        assert len(refs) == 1 and refs[0]["controller"] is True
        owner = owners[refs[0]["uid"]]
        assert (refs[0]["kind"], refs[0]["name"]) == (owner["kind"], owner["metadata"]["name"])
        assert child["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "modelplane"

    deployments = [d for d in examples if d["kind"] == "ModelDeployment"]
    pipelines = [d for d in examples if d["kind"] == "ModelPipeline"]
    assert {i["metadata"]["name"] for i in stored_of(cluster, "inferenceservices")} == {
        d["metadata"]["name"] for d in deployments
    }
    assert {g["metadata"]["name"] for g in stored_of(cluster, "inferencegraphs")} == {
        p["metadata"]["name"] for p in pipelines
    }
    with_tensorrt = {
        d["metadata"]["name"] for d in deployments if d["spec"].get("tensorrt", {}).get("enabled")
    }
    assert {
        j["metadata"]["labels"]["modelplane.io/deployment"] for j in stored_of(cluster, "jobs")
    } == with_tensorrt
    for d in deployments:
        status = stored(cluster, MD, d["metadata"]["name"])["status"]
        assert status["phase"] == (
            "BuildingEngine" if d["metadata"]["name"] in with_tensorrt else "Deploying"
        )
        assert condition(status, "Ready")["status"] == "False"
        assert condition(status, "Monitoring")["reason"] == "Configured"
        assert status["observedGeneration"] == 1
    for p in pipelines:
        assert stored(cluster, MP, p["metadata"]["name"])["status"]["phase"] == "Pending"


async def test_inference_service_status_is_mirrored(cluster: kmock.KubernetesEmulator) -> None:
    async with running_operator():
        await create(cluster, make_deployment("gate"))
        await eventually(lambda: stored(cluster, ISVC, "gate"), what="InferenceService")
        await patch_status(cluster, ISVC, "gate", READY_ISVC)
        await eventually(lambda: _phase(cluster, MD, "gate") == "Ready", what="Ready")
        status = stored(cluster, MD, "gate")["status"]
        assert status["url"] == READY_ISVC["url"]
        assert condition(status, "ModelLoaded")["status"] == "True"

        failure = {
            "reason": "ModelLoadFailed",
            "message": "config.pbtxt: unexpected input 'images'",
        }
        await patch_status(
            cluster,
            ISVC,
            "gate",
            {
                "conditions": [{"type": "Ready", "status": "False", "reason": "PredictorNotReady"}],
                "modelStatus": {
                    "transitionStatus": "BlockedByFailedLoad",
                    "lastFailureInfo": failure,
                },
            },
        )
        await eventually(lambda: _phase(cluster, MD, "gate") == "Failed", what="Failed")
        status = stored(cluster, MD, "gate")["status"]
        assert condition(status, "Ready") | {
            "status": "False",
            "reason": "ModelLoadFailed",
        } == condition(status, "Ready")
        assert failure["message"] in condition(status, "Ready")["message"]
        assert condition(status, "Degraded")["status"] == "True"
    reasons = [e.get("reason") for e in stored_of(cluster, "events")]
    assert "Ready" in reasons and "Failed" in reasons


async def test_built_engine_switches_the_predictor_to_the_plan(
    cluster: kmock.KubernetesEmulator,
) -> None:
    spec = {"tensorrt": {"enabled": True, "precision": "fp16"}}
    async with running_operator():
        await create(cluster, make_deployment("detect", **spec))
        job = await eventually(lambda: stored_of(cluster, "jobs"), what="engine Job")
        assert len(job) == 1
        job_name = job[0]["metadata"]["name"]
        isvc = await eventually(lambda: stored(cluster, ISVC, "detect"), what="InferenceService")
        assert isvc["spec"]["predictor"]["model"]["modelFormat"]["name"] == "onnx"
        await eventually(
            lambda: _phase(cluster, MD, "detect") == "BuildingEngine", what="BuildingEngine"
        )

        await patch_status(
            cluster,
            JOB,
            job_name,
            {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]},
        )
        await eventually(
            lambda: (
                stored(cluster, ISVC, "detect")["spec"]["predictor"]["model"]["modelFormat"]["name"]
                == "tensorrt"
            ),
            what="predictor switched to tensorrt",
        )
    model = stored(cluster, ISVC, "detect")["spec"]["predictor"]["model"]
    cache_key = job[0]["metadata"]["annotations"]["modelplane.io/engine-cache-key"]
    assert cache_key in model["storageUri"]
    config = stored(cluster, "v1/configmaps", "detect-triton-config")["data"]["config.pbtxt"]
    assert 'platform: "tensorrt_plan"' in config
    status = stored(cluster, MD, "detect")["status"]
    assert condition(status, "EngineBuilt") | {"status": "True", "reason": "Built"} == condition(
        status, "EngineBuilt"
    )


async def test_failed_engine_build_fails_the_deployment(cluster: kmock.KubernetesEmulator) -> None:
    async with running_operator():
        await create(cluster, make_deployment("detect", tensorrt={"enabled": True}))
        jobs = await eventually(lambda: stored_of(cluster, "jobs"), what="engine Job")
        await patch_status(
            cluster,
            JOB,
            jobs[0]["metadata"]["name"],
            {
                "failed": 3,
                "conditions": [
                    {"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}
                ],
            },
        )
        await eventually(lambda: _phase(cluster, MD, "detect") == "Failed", what="Failed")
    status = stored(cluster, MD, "detect")["status"]
    assert condition(status, "EngineBuilt")["reason"] == "BuildFailed"
    assert condition(status, "Ready")["status"] == "False"
    assert (
        stored(cluster, ISVC, "detect")["spec"]["predictor"]["model"]["modelFormat"]["name"]
        == "onnx"
    )


async def test_new_version_rolls_forward_behind_a_held_canary(
    cluster: kmock.KubernetesEmulator,
) -> None:
    async with running_operator():
        await create(cluster, make_deployment("gate", canary={"trafficPercent": 20}))
        await eventually(lambda: stored(cluster, ISVC, "gate"), what="InferenceService")
        await patch_status(cluster, ISVC, "gate", READY_ISVC)
        await eventually(lambda: _phase(cluster, MD, "gate") == "Ready", what="Ready")
        assert "canaryTrafficPercent" not in stored(cluster, ISVC, "gate")["spec"]["predictor"]

        await patch_spec(cluster, MD, "gate", {"model": {"version": "2"}})
        await eventually(
            lambda: stored(cluster, MD, "gate")["status"]["observedGeneration"] == 2,
            what="generation 2",
        )
        status = stored(cluster, MD, "gate")["status"]
        assert (status["modelVersion"], status["previousModelVersion"]) == ("2", "1")
        isvc = stored(cluster, ISVC, "gate")
        assert isvc["spec"]["predictor"]["canaryTrafficPercent"] == 0  # new revision not Ready yet
        assert isvc["metadata"]["annotations"]["modelplane.io/model-version"] == "2"

        revisions = {
            "latestCreatedRevision": "gate-predictor-2",
            "latestReadyRevision": "gate-predictor-2",
        }
        await patch_status(cluster, ISVC, "gate", {"components": {"predictor": revisions}})
        await eventually(
            lambda: (
                stored(cluster, ISVC, "gate")["spec"]["predictor"].get("canaryTrafficPercent") == 20
            ),
            what="canary opened to 20%",
        )


async def test_restart_resumes_without_duplicating_children(
    cluster: kmock.KubernetesEmulator,
) -> None:
    async with running_operator():
        await create(cluster, make_deployment("gate"))
        await eventually(lambda: _phase(cluster, MD, "gate"), what="status")
    posts_before = len(cluster["post", kmock.resource(ISVC)])
    status_before = stored(cluster, MD, "gate")["status"]
    async with running_operator():
        await create(cluster, make_deployment("second"))
        await eventually(lambda: _phase(cluster, MD, "second"), what="second deployment")
        await patch_status(cluster, ISVC, "gate", READY_ISVC)
        await eventually(
            lambda: _phase(cluster, MD, "gate") == "Ready", what="resumed deployment mirrors status"
        )
    assert posts_before == 1
    assert (
        len(cluster["post", kmock.resource(ISVC)]) == 2
    )  # only "second" was created after the restart
    assert {i["metadata"]["name"] for i in stored_of(cluster, "inferenceservices")} == {
        "gate",
        "second",
    }
    resumed = stored(cluster, MD, "gate")["status"]
    assert condition(resumed, "Monitoring") == condition(
        status_before, "Monitoring"
    )  # transition time kept
