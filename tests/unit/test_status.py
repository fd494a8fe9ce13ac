"""Children's status -> CR status: KServe's reasons carried through, canary gating, versions."""

from __future__ import annotations

from typing import Any

import pytest

from modelplane_operator.status import (
    Condition,
    canary_traffic,
    deployment_conditions,
    engine_built,
    merge_conditions,
    model_loaded,
    versions,
)

NOT_NEEDED = engine_built(False, None)


def isvc_status(ready: str = "True", **extra: Any) -> dict[str, Any]:
    return {"conditions": [{"type": "Ready", "status": ready, "reason": extra.pop("reason", None)},
                           {"type": "PredictorReady", "status": ready}], **extra}


def by_type(conditions: list[Condition]) -> dict[str, Condition]:
    return {c.type: c for c in conditions}


@pytest.mark.parametrize(
    ("status", "phase", "ready_reason", "loaded"),
    [
        (None, "Deploying", "InferenceServiceNotReady", None),
        (isvc_status(modelStatus={"transitionStatus": "UpToDate", "states": {"activeModelState": "Loaded"}}),
         "Ready", "Serving", True),
        (isvc_status("False", reason="PredictorConfigurationNotReady",
                     modelStatus={"transitionStatus": "InProgress", "states": {"activeModelState": "Loading"}}),
         "Deploying", "PredictorConfigurationNotReady", False),
        # KServe 1859: a crash-looping storage initializer shows up as lastFailureInfo; never Ready.
        (isvc_status("True", modelStatus={"transitionStatus": "BlockedByFailedLoad",
                                          "lastFailureInfo": {"reason": "ModelLoadFailed", "message": "init container CrashLoopBackOff"}}),
         "Failed", "ModelLoadFailed", False),
        (isvc_status("False", modelStatus={"transitionStatus": "InvalidSpec"}), "Failed", "InvalidSpec", False),
    ],
)
def test_inference_service_status_mirrored(status: dict[str, Any] | None, phase: str, ready_reason: str, loaded: bool | None) -> None:
    conditions, got_phase = deployment_conditions(status, NOT_NEEDED, was_ready=False)
    conds = by_type(conditions)
    assert got_phase == phase
    assert conds["Ready"].reason == ready_reason
    assert conds["Ready"].status is (phase == "Ready")
    assert conds["ModelLoaded"].status is loaded


def test_failed_load_message_reaches_ready_condition() -> None:
    status = isvc_status("False", modelStatus={"transitionStatus": "BlockedByFailedLoad",
                                               "lastFailureInfo": {"reason": "ModelLoadFailed", "message": "bad onnx"}})
    conds = by_type(deployment_conditions(status, NOT_NEEDED, was_ready=False)[0])
    assert conds["Ready"].message == "bad onnx"
    assert conds["Degraded"].status is True


def test_losing_readiness_is_degraded() -> None:
    conditions, phase = deployment_conditions(isvc_status("False", reason="RevisionMissing"), NOT_NEEDED, was_ready=True)
    assert phase == "Degraded"
    assert by_type(conditions)["Degraded"].status is True


@pytest.mark.parametrize(
    ("enabled", "job", "status", "reason"),
    [
        (False, None, True, "NotRequired"),
        (True, None, False, "Building"),
        (True, {"status": {"active": 1}}, False, "Building"),
        (True, {"status": {"succeeded": 1}}, True, "Built"),
        (True, {"status": {"failed": 3, "conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}}, False, "BuildFailed"),
    ],
)
def test_engine_built(enabled: bool, job: dict[str, Any] | None, status: bool, reason: str) -> None:
    cond = engine_built(enabled, job)
    assert (cond.status, cond.reason) == (status, reason)


def test_engine_building_blocks_ready_even_if_onnx_predictor_serves() -> None:
    conditions, phase = deployment_conditions(isvc_status(), engine_built(True, None), was_ready=False)
    assert phase == "BuildingEngine"
    assert by_type(conditions)["Ready"].reason == "EngineNotBuilt"


def test_merge_conditions_keeps_transition_time_while_status_holds() -> None:
    first = merge_conditions([], [Condition("Ready", False, "Deploying")], now="2026-01-01T00:00:00Z")
    same = merge_conditions(first, [Condition("Ready", False, "StillDeploying")], now="2026-01-01T00:05:00Z")
    flipped = merge_conditions(same, [Condition("Ready", True, "Serving")], now="2026-01-01T00:09:00Z")
    assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert same[0]["reason"] == "StillDeploying"
    assert flipped[0]["lastTransitionTime"] == "2026-01-01T00:09:00Z"
    assert flipped[0]["status"] == "True"


def test_model_loaded_unknown_without_status() -> None:
    assert model_loaded(None).status is None


@pytest.mark.parametrize(
    ("percent", "rolling_out", "status", "expected"),
    [
        (20, False, None, None),  # first version: no canary
        (100, True, None, None),  # promoted
        (20, True, {"components": {"predictor": {"latestCreatedRevision": "r2", "latestReadyRevision": "r1"}}}, 0),
        (20, True, {"components": {"predictor": {"latestCreatedRevision": "r2", "latestReadyRevision": "r2"}}}, 20),
        (20, True, isvc_status("False"), 0),  # raw deployment mode: the ISVC's readiness decides
        (20, True, isvc_status("True"), 20),
    ],
)
def test_canary_only_once_the_new_revision_is_ready(percent: int, rolling_out: bool, status: dict[str, Any] | None, expected: int | None) -> None:
    assert canary_traffic(percent, rolling_out, status) == expected


def test_versions_keep_the_previous_for_rollback() -> None:
    assert versions("1", {}) == {"modelVersion": "1"}
    assert versions("2", {"modelVersion": "1"}) == {"modelVersion": "2", "previousModelVersion": "1"}
    assert versions("2", {"modelVersion": "2", "previousModelVersion": "1"}) == {"modelVersion": "2", "previousModelVersion": "1"}
    # Rolling back to 1 makes 2 the previous one.
    assert versions("1", {"modelVersion": "2", "previousModelVersion": "1"}) == {"modelVersion": "1", "previousModelVersion": "2"}
