"""An OOM-killed transformer becomes the ModelDeployment's Transformer condition (real operator,
kmock).

KServe does not report a transformer's container kills in the InferenceService, so the
operator reads the transformer pods KServe labels. Here the test plays the kubelet's part: it
creates the pod KServe would and writes ``lastState.terminated.reason: OOMKilled`` into its
status, as the kubelet does after the kernel's OOM killer ended the container.
"""

from __future__ import annotations

from typing import Any

import kmock
from helpers import NAMESPACE, make_deployment
from kube import ISVC, MD, call, condition, create, eventually, running_operator, stored, stored_of

POD = "v1/pods"


def transformer_pod(name: str, isvc: str, container_statuses: list[dict[str, Any]]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {"serving.kserve.io/inferenceservice": isvc, "component": "transformer"},
        },
        "spec": {"containers": [{"name": "kserve-container", "image": "modelplane/inference"}]},
        "status": {"containerStatuses": container_statuses},
    }


RUNNING = [{"name": "kserve-container", "restartCount": 0, "state": {"running": {}}}]
KILLED = [
    {
        "name": "kserve-container",
        "restartCount": 3,
        "state": {"running": {}},
        "lastState": {
            "terminated": {
                "reason": "OOMKilled",
                "exitCode": 137,
                "finishedAt": "2026-12-03T04:00:00Z",
            }
        },
    }
]


def transformer_condition(cluster: kmock.KubernetesEmulator) -> dict[str, Any]:
    return condition((stored(cluster, MD, "gate") or {}).get("status") or {}, "Transformer")


async def test_oom_killed_transformer_is_a_condition(cluster: kmock.KubernetesEmulator) -> None:
    async with running_operator():
        await create(cluster, make_deployment("gate"))
        await eventually(lambda: stored(cluster, ISVC, "gate"), what="InferenceService")
        await eventually(lambda: transformer_condition(cluster)["reason"] == "Running")
        path = f"/api/v1/namespaces/{NAMESPACE}/pods"
        await call(cluster, "POST", path, transformer_pod("gate-transformer-1", "gate", RUNNING))
        await call(
            cluster,
            "PATCH",
            f"{path}/gate-transformer-1/status",
            {"status": {"containerStatuses": KILLED}},
        )
        found = await eventually(
            lambda: (
                transformer_condition(cluster)["status"] == "False"
                and transformer_condition(cluster)
            ),
            what="Transformer OOMKilled",
        )
        assert found["reason"] == "OOMKilled"
        for part in ("gate-transformer-1", "kserve-container", "exit 137", "3 restarts"):
            assert part in found["message"], part
        limit = stored(cluster, ISVC, "gate")["spec"]["transformer"]["containers"][0]
        assert limit["resources"]["limits"]["memory"] in found["message"]
        warnings = await eventually(  # kopf posts events in the background
            lambda: [e for e in stored_of(cluster, "events") if e.get("reason") == "OOMKilled"],
            what="OOMKilled event",
        )
        assert len(warnings) == 1 and warnings[0]["type"] == "Warning"

        # The killed pod is replaced by a healthy one: the condition clears.
        await call(cluster, "DELETE", f"{path}/gate-transformer-1", {})
        await call(cluster, "POST", path, transformer_pod("gate-transformer-2", "gate", RUNNING))
        await eventually(lambda: transformer_condition(cluster)["status"] == "True", what="clear")
    # Pods are only read: no write of the operator's reached them (the test's own are 4).
    writes = sum(len(cluster[m, kmock.resource(POD)]) for m in ("post", "patch", "delete"))
    assert writes == 4
