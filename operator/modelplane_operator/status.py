"""Turn children's status into the ModelDeployment's and ModelPipeline's status (pure).

KServe reports ``Ready`` (from ``PredictorReady``/``IngressReady``) plus
``modelStatus.transitionStatus`` and ``lastFailureInfo``; those reasons are carried into our
conditions verbatim so ``kubectl get md`` says *why* a model is not serving.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

CONDITION_TYPES = ("Ready", "ModelLoaded", "EngineBuilt", "Degraded")


@dataclass(frozen=True)
class Condition:
    type: str
    status: bool | None  # None = Unknown
    reason: str
    message: str = ""

    def as_dict(self) -> dict[str, str]:
        status = "Unknown" if self.status is None else str(self.status)
        return {"type": self.type, "status": status, "reason": self.reason, "message": self.message}


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_conditions(
    previous: list[dict[str, Any]], new: list[Condition], now: str | None = None
) -> list[dict[str, Any]]:
    """New conditions, keeping ``lastTransitionTime`` where the status did not change."""
    stamp = now or now_rfc3339()
    before = {c.get("type"): c for c in previous or []}
    merged = []
    for cond in new:
        item: dict[str, Any] = cond.as_dict()
        old = before.get(cond.type)
        unchanged = old is not None and old.get("status") == item["status"]
        item["lastTransitionTime"] = old.get("lastTransitionTime", stamp) if unchanged and old else stamp
        merged.append(item)
    return merged


def _kserve_condition(isvc_status: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in isvc_status.get("conditions", []) if c.get("type") == kind), None)


def model_loaded(isvc_status: dict[str, Any] | None) -> Condition:
    """ModelLoaded from modelStatus; a failed load or crash-looping storage initializer is False."""
    if not isvc_status:
        return Condition("ModelLoaded", None, "Pending", "InferenceService has no status yet")
    model_status = isvc_status.get("modelStatus", {})
    failure = model_status.get("lastFailureInfo")
    transition = model_status.get("transitionStatus", "")
    state = model_status.get("states", {}).get("activeModelState", "")
    if failure:
        return Condition("ModelLoaded", False, failure.get("reason", "ModelLoadFailed"), failure.get("message", ""))
    if transition in {"BlockedByFailedLoad", "InvalidSpec"}:
        return Condition("ModelLoaded", False, transition, f"KServe transitionStatus {transition}")
    if state == "Loaded":
        return Condition("ModelLoaded", True, "Loaded", "")
    predictor = _kserve_condition(isvc_status, "PredictorReady")
    if predictor and predictor.get("status") == "True" and not state:
        return Condition("ModelLoaded", True, "PredictorReady", "")
    return Condition("ModelLoaded", False, state or transition or "Loading", "model is not loaded yet")


def engine_built(enabled: bool, job: dict[str, Any] | None) -> Condition:
    """EngineBuilt from the build Job: True when not needed or succeeded."""
    if not enabled:
        return Condition("EngineBuilt", True, "NotRequired", "TensorRT is not enabled")
    status = (job or {}).get("status", {})
    if status.get("succeeded", 0) >= 1:
        return Condition("EngineBuilt", True, "Built", "TensorRT plan built and cached")
    failed = next((c for c in status.get("conditions", []) if c.get("type") == "Failed" and c.get("status") == "True"), None)
    if failed:
        return Condition("EngineBuilt", False, "BuildFailed", failed.get("message", "engine build Job failed"))
    return Condition("EngineBuilt", False, "Building", "TensorRT engine build Job is running")


def deployment_conditions(
    isvc_status: dict[str, Any] | None, engine: Condition, was_ready: bool
) -> tuple[list[Condition], str]:
    """All four conditions and the phase, from the ISVC's status and the engine's condition."""
    loaded = model_loaded(isvc_status)
    kserve_ready = _kserve_condition(isvc_status or {}, "Ready")
    isvc_ready = bool(kserve_ready and kserve_ready.get("status") == "True")
    if engine.status is False:
        ready = Condition("Ready", False, "EngineNotBuilt" if engine.reason == "Building" else engine.reason, engine.message)
    elif isvc_ready and loaded.status is not False:
        ready = Condition("Ready", True, "Serving", "InferenceService is Ready")
    elif loaded.status is False and loaded.reason not in {"Loading", "Pending"}:
        ready = Condition("Ready", False, loaded.reason, loaded.message)
    else:
        reason = (kserve_ready or {}).get("reason") or "InferenceServiceNotReady"
        message = (kserve_ready or {}).get("message") or "waiting for the InferenceService to become Ready"
        ready = Condition("Ready", False, reason, message)
    failed_load = loaded.status is False and loaded.reason not in {"Loading", "Pending"}
    degraded = Condition(
        "Degraded",
        failed_load or engine.reason == "BuildFailed" or (was_ready and not ready.status),
        ready.reason if not ready.status else "AsExpected",
        ready.message if not ready.status else "",
    )
    if ready.status:
        phase = "Ready"
    elif engine.reason == "Building":
        phase = "BuildingEngine"
    elif degraded.status:
        phase = "Failed" if failed_load or engine.reason == "BuildFailed" else "Degraded"
    else:
        phase = "Deploying"
    return [ready, loaded, engine, degraded], phase


def spec_error_conditions(reason: str, message: str) -> list[Condition]:
    """A spec that cannot work: not Ready, with the reason the checks gave."""
    return [
        Condition("Ready", False, reason, message),
        Condition("ModelLoaded", False, reason, message),
        Condition("EngineBuilt", None, reason, message),
        Condition("Degraded", True, reason, message),
    ]


def latest_revision_ready(isvc_status: dict[str, Any] | None) -> bool:
    """Whether the newest predictor revision is Ready (serverless), or the ISVC is (raw mode)."""
    predictor = (isvc_status or {}).get("components", {}).get("predictor", {})
    created, ready = predictor.get("latestCreatedRevision"), predictor.get("latestReadyRevision")
    if created:
        return created == ready
    cond = _kserve_condition(isvc_status or {}, "Ready")
    return bool(cond and cond.get("status") == "True")


def canary_traffic(
    percent: int, rolling_out: bool, isvc_status: dict[str, Any] | None
) -> int | None:
    """Traffic for the latest revision: none while it is not Ready, ``percent`` once it is.

    None means "no canary" (all traffic to the latest revision, KServe's default).
    """
    if not rolling_out or percent >= 100:
        return None
    return percent if latest_revision_ready(isvc_status) else 0


def versions(spec_version: str, status: dict[str, Any]) -> dict[str, str]:
    """modelVersion / previousModelVersion after a reconcile; a rollback is a spec change back."""
    current = status.get("modelVersion")
    previous = status.get("previousModelVersion")
    if current and current != spec_version:
        previous = current
    out = {"modelVersion": spec_version}
    if previous and previous != spec_version:
        out["previousModelVersion"] = previous
    return out
