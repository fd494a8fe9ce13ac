"""Children's status -> CR status: KServe's reasons carried through, canary gating, versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from modelplane_operator.status import (
    Condition,
    Phase,
    canary_traffic,
    deployment_conditions,
    engine_built,
    merge_conditions,
    model_loaded,
    rollout_fields,
    versions,
)

NOT_NEEDED = engine_built(False, None)
CRDS = Path(__file__).resolve().parents[2] / "manifests" / "crds"


def isvc_status(ready: str = "True", **extra: Any) -> dict[str, Any]:
    return {
        "conditions": [
            {"type": "Ready", "status": ready, "reason": extra.pop("reason", None)},
            {"type": "PredictorReady", "status": ready},
        ],
        **extra,
    }


def by_type(conditions: list[Condition]) -> dict[str, Condition]:
    return {c.type: c for c in conditions}


@pytest.mark.parametrize(
    ("status", "phase", "ready_reason", "loaded"),
    [
        (None, "Deploying", "InferenceServiceNotReady", None),
        (
            isvc_status(
                modelStatus={
                    "transitionStatus": "UpToDate",
                    "states": {"activeModelState": "Loaded"},
                }
            ),
            "Ready",
            "Serving",
            True,
        ),
        (
            isvc_status(
                "False",
                reason="PredictorConfigurationNotReady",
                modelStatus={
                    "transitionStatus": "InProgress",
                    "states": {"activeModelState": "Loading"},
                },
            ),
            "Deploying",
            "PredictorConfigurationNotReady",
            False,
        ),
        # KServe 1859: a crash-looping storage initializer shows up as lastFailureInfo; never Ready.
        (
            isvc_status(
                "True",
                modelStatus={
                    "transitionStatus": "BlockedByFailedLoad",
                    "lastFailureInfo": {
                        "reason": "ModelLoadFailed",
                        "message": "init container CrashLoopBackOff",
                    },
                },
            ),
            "Failed",
            "ModelLoadFailed",
            False,
        ),
        (
            isvc_status("False", modelStatus={"transitionStatus": "InvalidSpec"}),
            "Failed",
            "InvalidSpec",
            False,
        ),
    ],
)
def test_inference_service_status_mirrored(
    status: dict[str, Any] | None, phase: str, ready_reason: str, loaded: bool | None
) -> None:
    conditions, got_phase = deployment_conditions(status, NOT_NEEDED, was_ready=False)
    conds = by_type(conditions)
    assert got_phase == phase
    assert conds["Ready"].reason == ready_reason
    assert conds["Ready"].status is (phase == "Ready")
    assert conds["ModelLoaded"].status is loaded


def test_failed_load_message_reaches_ready_condition() -> None:
    status = isvc_status(
        "False",
        modelStatus={
            "transitionStatus": "BlockedByFailedLoad",
            "lastFailureInfo": {"reason": "ModelLoadFailed", "message": "bad onnx"},
        },
    )
    conds = by_type(deployment_conditions(status, NOT_NEEDED, was_ready=False)[0])
    assert conds["Ready"].message == "bad onnx"
    assert conds["Degraded"].status is True


def test_losing_readiness_is_degraded() -> None:
    conditions, phase = deployment_conditions(
        isvc_status("False", reason="RevisionMissing"), NOT_NEEDED, was_ready=True
    )
    assert phase == "Degraded"
    assert by_type(conditions)["Degraded"].status is True


@pytest.mark.parametrize(
    ("enabled", "job", "status", "reason"),
    [
        (False, None, True, "NotRequired"),
        (True, None, False, "Building"),
        (True, {"status": {"active": 1}}, False, "Building"),
        (True, {"status": {"succeeded": 1}}, True, "Built"),
        (
            True,
            {
                "status": {
                    "failed": 3,
                    "conditions": [
                        {"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}
                    ],
                }
            },
            False,
            "BuildFailed",
        ),
    ],
)
def test_engine_built(enabled: bool, job: dict[str, Any] | None, status: bool, reason: str) -> None:
    cond = engine_built(enabled, job)
    assert (cond.status, cond.reason) == (status, reason)


def test_engine_building_blocks_ready_even_if_onnx_predictor_serves() -> None:
    conditions, phase = deployment_conditions(
        isvc_status(), engine_built(True, None), was_ready=False
    )
    assert phase == "BuildingEngine"
    assert by_type(conditions)["Ready"].reason == "EngineNotBuilt"


def test_merge_conditions_keeps_transition_time_while_status_holds() -> None:
    first = merge_conditions(
        [], [Condition("Ready", False, "Deploying")], now="2026-01-01T00:00:00Z"
    )
    same = merge_conditions(
        first, [Condition("Ready", False, "StillDeploying")], now="2026-01-01T00:05:00Z"
    )
    flipped = merge_conditions(
        same, [Condition("Ready", True, "Serving")], now="2026-01-01T00:09:00Z"
    )
    assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert same[0]["reason"] == "StillDeploying"
    assert flipped[0]["lastTransitionTime"] == "2026-01-01T00:09:00Z"
    assert flipped[0]["status"] == "True"


def test_model_loaded_unknown_without_status() -> None:
    assert model_loaded(None).status is None


def _isvc(
    status: dict[str, Any] | None = None,
    canary: int | None = None,
    version: str = "2",
    generation: int = 2,
) -> dict[str, Any]:
    predictor: dict[str, Any] = {} if canary is None else {"canaryTrafficPercent": canary}
    return {
        "metadata": {
            "generation": generation,
            "annotations": {"modelplane.io/model-version": version},
        },
        "spec": {"predictor": predictor},
        "status": status or {},
    }


def _revisions(created: str, ready: str) -> dict[str, Any]:
    return {
        "components": {
            "predictor": {"latestCreatedRevision": created, "latestReadyRevision": ready}
        }
    }


FIRST = {"modelVersion": "1"}
ROLLING = {"modelVersion": "2", "previousModelVersion": "1", "stableRevision": "r1"}


@pytest.mark.parametrize(
    ("percent", "rollout", "isvc", "expected"),
    [
        (20, FIRST, None, None),  # first version: no canary
        (100, ROLLING, _isvc(), None),  # no canary asked, none set
        (100, ROLLING, _isvc(canary=20), 100),  # promoted: clear the old canary explicitly
        # KServe has not created the new revision yet: the old one is still "latest and Ready".
        (20, ROLLING, _isvc(_revisions("r1", "r1")), 0),
        (20, ROLLING, _isvc(_revisions("r2", "r1")), 0),  # new revision created, not Ready
        (20, ROLLING, _isvc(_revisions("r2", "r2")), 20),  # new revision Ready
        (20, ROLLING, _isvc(_revisions("r2", "r2"), canary=20, version="1"), 20),
        # Opened for this version: held even while KServe catches up with our own patch.
        (20, ROLLING, _isvc(_revisions("r2", "r1"), canary=20), 20),
        # A canary opened for the previous version does not carry over to this one.
        (20, ROLLING, _isvc(_revisions("r1", "r1"), canary=20, version="1"), 0),
    ],
)
def test_canary_opens_only_once_a_newer_revision_is_ready(
    percent: int, rollout: dict[str, str], isvc: dict[str, Any] | None, expected: int | None
) -> None:
    assert canary_traffic(percent, rollout, isvc) == expected


@pytest.mark.parametrize(
    ("ready", "observed", "expected"),
    [("True", 2, True), ("True", 1, False), ("False", 2, False)],
)
def test_raw_deployment_canary_needs_ready_and_caught_up(
    ready: str, observed: int, expected: bool
) -> None:
    rollout = {"modelVersion": "2", "previousModelVersion": "1"}  # raw mode: no revisions
    isvc = _isvc(isvc_status(ready) | {"observedGeneration": observed})
    assert canary_traffic(20, rollout, isvc) == (20 if expected else 0)


def test_rollout_records_the_revision_serving_the_old_version() -> None:
    isvc = _isvc(_revisions("r1", "r1"), version="1")
    assert rollout_fields("1", {}, isvc) == {"modelVersion": "1"}
    started = rollout_fields("2", {"modelVersion": "1"}, isvc)
    assert started == {"modelVersion": "2", "previousModelVersion": "1", "stableRevision": "r1"}
    # Later reconciles keep it, even after KServe moved on to r2.
    assert rollout_fields("2", started, _isvc(_revisions("r2", "r2")))["stableRevision"] == "r1"


def test_versions_keep_the_previous_for_rollback() -> None:
    assert versions("1", {}) == {"modelVersion": "1"}
    assert versions("2", {"modelVersion": "1"}) == {
        "modelVersion": "2",
        "previousModelVersion": "1",
    }
    assert versions("2", {"modelVersion": "2", "previousModelVersion": "1"}) == {
        "modelVersion": "2",
        "previousModelVersion": "1",
    }
    # Rolling back to 1 makes 2 the previous one.
    assert versions("1", {"modelVersion": "2", "previousModelVersion": "1"}) == {
        "modelVersion": "1",
        "previousModelVersion": "2",
    }


def _phase_enum(crd: str) -> list[str]:
    document = yaml.safe_load((CRDS / crd).read_text())
    status = document["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    return list(status["properties"]["phase"]["enum"])


def test_phases_are_the_crds_phases() -> None:
    """The operator's one spelling of each phase is the CRDs' (what ``kubectl`` validates)."""
    assert [p.value for p in Phase] == _phase_enum("modelplane.io_modeldeployments.yaml")
    assert {"Pending", "Ready", "Failed"} <= set(_phase_enum("modelplane.io_modelpipelines.yaml"))
    assert Phase("Ready") == "Ready" and Phase.BUILDING_ENGINE == "BuildingEngine"
