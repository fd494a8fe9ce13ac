"""Turn children's status into the ModelDeployment's and ModelPipeline's status (pure).

KServe reports ``Ready`` (from ``PredictorReady``/``IngressReady``) plus
``modelStatus.transitionStatus`` and ``lastFailureInfo``; those reasons are carried into our
conditions verbatim so ``kubectl get md`` says *why* a model is not serving.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import Any


class Phase(enum.StrEnum):
    """``status.phase`` of a ModelDeployment or ModelPipeline: the one spelling of each.

    The CRDs' status schemas list the same values (a test compares them); a ModelPipeline only
    reaches Pending, Ready and Failed.
    """

    PENDING = "Pending"
    BUILDING_ENGINE = "BuildingEngine"
    DEPLOYING = "Deploying"
    READY = "Ready"
    DEGRADED = "Degraded"
    FAILED = "Failed"

    @property
    def is_warning(self) -> bool:
        """Whether entering this phase is worth a Warning event rather than a Normal one."""
        return self in {Phase.FAILED, Phase.DEGRADED}


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
        item["lastTransitionTime"] = (
            old.get("lastTransitionTime", stamp) if unchanged and old else stamp
        )
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
        return Condition(
            "ModelLoaded",
            False,
            failure.get("reason", "ModelLoadFailed"),
            failure.get("message", ""),
        )
    if transition in {"BlockedByFailedLoad", "InvalidSpec"}:
        return Condition("ModelLoaded", False, transition, f"KServe transitionStatus {transition}")
    if state == "Loaded":
        return Condition("ModelLoaded", True, "Loaded", "")
    predictor = _kserve_condition(isvc_status, "PredictorReady")
    if predictor and predictor.get("status") == "True" and not state:
        return Condition("ModelLoaded", True, "PredictorReady", "")
    return Condition(
        "ModelLoaded", False, state or transition or "Loading", "model is not loaded yet"
    )


def engine_built(enabled: bool, job: dict[str, Any] | None) -> Condition:
    """EngineBuilt from the build Job: True when not needed or succeeded."""
    if not enabled:
        return Condition("EngineBuilt", True, "NotRequired", "TensorRT is not enabled")
    status = (job or {}).get("status", {})
    if status.get("succeeded", 0) >= 1:
        return Condition("EngineBuilt", True, "Built", "TensorRT plan built and cached")
    failed = next(
        (
            c
            for c in status.get("conditions", [])
            if c.get("type") == "Failed" and c.get("status") == "True"
        ),
        None,
    )
    if failed:
        return Condition(
            "EngineBuilt", False, "BuildFailed", failed.get("message", "engine build Job failed")
        )
    return Condition("EngineBuilt", False, "Building", "TensorRT engine build Job is running")


def deployment_conditions(
    isvc_status: dict[str, Any] | None, engine: Condition, was_ready: bool
) -> tuple[list[Condition], Phase]:
    """All four conditions and the phase, from the ISVC's status and the engine's condition."""
    loaded = model_loaded(isvc_status)
    kserve_ready = _kserve_condition(isvc_status or {}, "Ready")
    isvc_ready = bool(kserve_ready and kserve_ready.get("status") == "True")
    if engine.status is False:
        ready = Condition(
            "Ready",
            False,
            "EngineNotBuilt" if engine.reason == "Building" else engine.reason,
            engine.message,
        )
    elif isvc_ready and loaded.status is not False:
        ready = Condition("Ready", True, "Serving", "InferenceService is Ready")
    elif loaded.status is False and loaded.reason not in {"Loading", "Pending"}:
        ready = Condition("Ready", False, loaded.reason, loaded.message)
    else:
        reason = (kserve_ready or {}).get("reason") or "InferenceServiceNotReady"
        message = (kserve_ready or {}).get(
            "message"
        ) or "waiting for the InferenceService to become Ready"
        ready = Condition("Ready", False, reason, message)
    failed_load = loaded.status is False and loaded.reason not in {"Loading", "Pending"}
    degraded = Condition(
        "Degraded",
        failed_load or engine.reason == "BuildFailed" or (was_ready and not ready.status),
        ready.reason if not ready.status else "AsExpected",
        ready.message if not ready.status else "",
    )
    if ready.status:
        phase = Phase.READY
    elif engine.reason == "Building":
        phase = Phase.BUILDING_ENGINE
    elif degraded.status:
        failed = failed_load or engine.reason == "BuildFailed"
        phase = Phase.FAILED if failed else Phase.DEGRADED
    else:
        phase = Phase.DEPLOYING
    return [ready, loaded, engine, degraded], phase


def spec_error_conditions(reason: str, message: str) -> list[Condition]:
    """A spec that cannot work: not Ready, with the reason the checks gave."""
    return [
        Condition("Ready", False, reason, message),
        Condition("ModelLoaded", False, reason, message),
        Condition("EngineBuilt", None, reason, message),
        Condition("Degraded", True, reason, message),
    ]


def _predictor_status(isvc: dict[str, Any] | None) -> dict[str, Any]:
    predictor: dict[str, Any] = (
        ((isvc or {}).get("status") or {}).get("components", {}).get("predictor", {})
    )
    return predictor


def new_revision_ready(isvc: dict[str, Any] | None, stable_revision: str | None) -> bool:
    """Whether a revision newer than ``stable_revision`` serves and is the latest one.

    Serverless mode names revisions: the old revision stays Ready (and latestCreated ==
    latestReady) until KServe has created the new one, so "Ready" alone would open the canary
    to the *old* revision (KServe 5983). Raw-deployment mode has no revisions: the ISVC must be
    Ready *and* have observed its current generation.
    """
    predictor = _predictor_status(isvc)
    created, ready = predictor.get("latestCreatedRevision"), predictor.get("latestReadyRevision")
    if created or stable_revision:
        return bool(ready) and ready == created and ready != stable_revision
    status = (isvc or {}).get("status") or {}
    cond = _kserve_condition(status, "Ready")
    generation = (isvc or {}).get("metadata", {}).get("generation", 0)
    caught_up = status.get("observedGeneration", 0) >= generation
    return bool(cond and cond.get("status") == "True") and caught_up


def canary_traffic(
    percent: int, rollout: dict[str, str], isvc: dict[str, Any] | None
) -> int | None:
    """Traffic for the latest revision: 0 while it is not Ready, ``percent`` once it is.

    None means "no canary" (all traffic to the latest revision, KServe's default); 100 clears a
    canary left by an earlier roll-out (a merge patch cannot drop the field). Once opened for
    this version the canary is held, so our own patch of the ISVC cannot close it again.
    """
    predictor = ((isvc or {}).get("spec") or {}).get("predictor", {})
    current = predictor.get("canaryTrafficPercent")
    if "previousModelVersion" not in rollout or percent >= 100:
        return 100 if current is not None else None
    annotations = (isvc or {}).get("metadata", {}).get("annotations") or {}
    serving_version = annotations.get("modelplane.io/model-version")
    if current == percent and serving_version == rollout["modelVersion"]:
        return percent
    return percent if new_revision_ready(isvc, rollout.get("stableRevision")) else 0


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


def rollout_fields(
    spec_version: str, status: dict[str, Any], isvc: dict[str, Any] | None
) -> dict[str, str]:
    """``versions`` plus ``stableRevision``: the revision that served when the version changed."""
    out = versions(spec_version, status)
    changing = bool(status.get("modelVersion")) and status.get("modelVersion") != spec_version
    stable = (
        _predictor_status(isvc).get("latestReadyRevision")
        if changing
        else status.get("stableRevision")
    )
    if stable and "previousModelVersion" in out:
        out["stableRevision"] = stable
    return out
