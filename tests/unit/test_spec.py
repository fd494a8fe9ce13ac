"""Spec parsing: CRD defaults applied, and every spec that cannot work rejected with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from modelplane_api.crds import apply_defaults, spec_schema
from modelplane_operator.config import Config
from modelplane_operator.spec import (
    STAGES_WITH_TRANSFORMER,
    SpecError,
    check_model_image,
    parse_deployment,
)

BASE: dict[str, Any] = {
    "stage": "quality-gate",
    "model": {"name": "gate", "storageUri": "pvc://models/repo"},
    "resources": {"gpu": 1},
}


def spec(**overrides: Any) -> dict[str, Any]:
    out = {**BASE, **overrides}
    return out


def test_defaults_come_from_the_crd() -> None:
    parsed = parse_deployment(
        {"stage": "premium", "model": {"name": "p", "storageUri": "s3://b/m"}}
    )
    assert parsed.runtime == "triton"
    assert parsed.model.version == "1" and parsed.model.format == "onnx"
    assert parsed.batching.max_batch_size == 8
    assert parsed.batching.max_queue_delay_us == 2000
    assert parsed.scaling.min_replicas == 1 and parsed.scaling.max_replicas == 1
    assert parsed.resources.gpu == 0 and parsed.resources.gpu_resource_name == "nvidia.com/gpu"
    assert parsed.tensorrt.enabled is False and parsed.tensorrt.precision == "fp16"
    assert parsed.canary_percent == 100
    assert parsed.monitoring.enabled and parsed.monitoring.latency_p99_ms == 500


def test_apply_defaults_leaves_given_values_and_input_alone() -> None:
    given = {"stage": "breed", "runtime": "python", "model": {"name": "b", "storageUri": "pvc://x"}}
    out = apply_defaults(given, spec_schema("modeldeployments"))
    assert out["runtime"] == "python"
    assert out["model"]["version"] == "1"
    assert "version" not in given["model"], "input must not be mutated"


@pytest.mark.parametrize("stage", sorted(STAGES_WITH_TRANSFORMER | {"custom"}))
def test_transformer_default_per_stage(stage: str) -> None:
    parsed = parse_deployment(spec(stage=stage))
    assert parsed.transformer is (stage != "custom")


def test_mig_profile_selects_mig_resource() -> None:
    parsed = parse_deployment(spec(resources={"gpu": 1, "migProfile": "1g.10gb"}))
    assert parsed.resources.gpu_resource_name == "nvidia.com/mig-1g.10gb"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"tensorrt": {"enabled": True}, "resources": {"gpu": 0}}, "TensorRTWithoutGPU"),
        (
            {
                "model": {"name": "g", "format": "tensorrt", "storageUri": "pvc://m"},
                "resources": {},
            },
            "TensorRTWithoutGPU",
        ),
        (
            {
                "tensorrt": {"enabled": True},
                "model": {"name": "g", "format": "torchscript", "storageUri": "pvc://m"},
            },
            "TensorRTNeedsONNX",
        ),
        ({"stage": "document-parse"}, "StageNeedsPythonRuntime"),
        (
            {"model": {"name": "g", "format": "python", "storageUri": "pvc://m"}},
            "FormatNotServable",
        ),
        (
            {
                "runtime": "python",
                "model": {"name": "g", "format": "tensorrt", "storageUri": "pvc://m"},
            },
            "FormatNotServable",
        ),
        ({"scaling": {"minReplicas": 3, "maxReplicas": 2}}, "InvalidScaling"),
        ({"batching": {"maxBatchSize": 4, "preferredBatchSizes": [2, 8]}}, "InvalidBatching"),
        (
            {
                "tensorrt": {
                    "enabled": True,
                    "shapes": [{"input": "x", "min": [3, 64], "opt": [3, 32], "max": [3, 128]}],
                }
            },
            "InvalidTensorRTShapes",
        ),
        (
            {
                "tensorrt": {
                    "enabled": True,
                    "shapes": [{"input": "x", "min": [3], "opt": [3, 32], "max": [3, 64]}],
                }
            },
            "InvalidTensorRTShapes",
        ),
        (
            {
                "resources": {
                    "gpu": 1,
                    "migProfile": "1g.10gb",
                    "gpuResourceName": "nvidia.com/mig-2g.20gb",
                }
            },
            "ConflictingGPUResource",
        ),
        ({"model": {"name": "g", "storageUri": "file:///models"}}, "LocalStorageInCluster"),
        ({"model": {"name": "g"}}, "InvalidSpec"),
    ],
)
def test_specs_that_cannot_work(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_deployment(spec(**overrides))
    assert info.value.reason == reason
    assert info.value.message  # a person gets told what to change


def test_missing_stage_is_invalid_spec() -> None:
    with pytest.raises(SpecError, match="stage"):
        parse_deployment({"model": {"name": "g", "storageUri": "pvc://m"}})


def test_tensorrt_on_gpu_is_accepted() -> None:
    parsed = parse_deployment(spec(tensorrt={"enabled": True, "precision": "int8"}))
    assert parsed.tensorrt.enabled and parsed.tensorrt.precision == "int8"


def test_modelcar_from_a_registry_outside_the_mirror_is_refused() -> None:
    modelcar = {"name": "gate", "storageUri": "oci://ghcr.io/x/gate:1"}
    parsed = parse_deployment(spec(model=modelcar))
    with pytest.raises(SpecError) as err:
        check_model_image(parsed, Config(image_registry="mirror.claims.local"))
    assert err.value.reason == "ModelImageNotAllowed"
    assert "ghcr.io/x/gate:1" in err.value.message
    check_model_image(parsed, Config())  # nothing configured: allowed
