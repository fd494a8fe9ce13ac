"""An OOM-killed transformer, read from its pods and said in the ModelDeployment's conditions.

KServe mirrors the predictor's failures into the InferenceService (``lastFailureInfo``), but not
the transformer's: a transformer killed for memory restarts in a loop while the InferenceService
may still say Ready, and ``kubectl get md`` would never say why documents time out. The operator
watches the transformer pods KServe labels (``component: transformer``, read-only: list/watch),
and a container whose ``state`` or ``lastState`` is ``terminated`` with reason ``OOMKilled``
becomes the ``Transformer`` condition (False, reason OOMKilled) with the pod, the container, the
time and the memory limit it ran under, and what to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from modelplane_operator.status import Condition

ISVC_LABEL = "serving.kserve.io/inferenceservice"
COMPONENT_LABEL = "component"  # KServe's component label: predictor, transformer, explainer
OOM_KILLED = "OOMKilled"


def oom_kill(name: str, status: Mapping[str, Any]) -> dict[str, Any] | None:
    """The latest OOM kill among a pod's containers (``state`` now, else ``lastState``), as
    {pod, container, exitCode, finishedAt, restartCount}; None when no container was killed."""
    kills = []
    for container in status.get("containerStatuses") or []:
        for key in ("state", "lastState"):
            terminated = (container.get(key) or {}).get("terminated") or {}
            if terminated.get("reason") == OOM_KILLED:
                kills.append(
                    {
                        "pod": name,
                        "container": container.get("name", ""),
                        "exitCode": terminated.get("exitCode", 137),
                        "finishedAt": terminated.get("finishedAt", ""),
                        "restartCount": container.get("restartCount", 0),
                    }
                )
                break
    return max(kills, key=lambda k: str(k["finishedAt"]), default=None)


def transformer_condition(kills: Iterable[Mapping[str, Any]], memory_limit: str) -> Condition:
    """``Transformer``: False with reason OOMKilled naming the latest kill, else True."""
    latest = max(kills, key=lambda k: str(k["finishedAt"]), default=None)
    if latest is None:
        return Condition("Transformer", True, "Running", "no transformer container was OOM-killed")
    return Condition(
        "Transformer",
        False,
        OOM_KILLED,
        f"transformer pod {latest['pod']} container {latest['container']} was OOM-killed"
        f" (exit {latest['exitCode']}) at {latest['finishedAt'] or 'an unknown time'},"
        f" {latest['restartCount']} restarts, under a memory limit of {memory_limit}: raise"
        " spec.transformer.resources.limits.memory or lower spec.scaling.maxInFlight",
    )
