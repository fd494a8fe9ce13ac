"""Tier 3: everything the operator renders passes the real upstream schemas.

KServe and Prometheus-operator kinds are checked against their upstream CRDs (vendored, pinned:
tests/schemas/upstream-crds/PROVENANCE.md), core kinds with kubernetes-validate, and the
examples against modelplane's own CRDs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
import yaml
from helpers import (
    K8S_VERSION,
    OWN_CRDS,
    UPSTREAM_CRDS,
    as_stored,
    load_examples,
    make_deployment,
)
from modelplane_operator.config import Config
from modelplane_operator.render_inference_service import render_inference_service
from modelplane_operator.render_monitoring import (
    render_metrics_services,
    render_prometheus_rule,
    render_service_monitor,
)
from modelplane_operator.render_pipeline import parse_pipeline, render_inference_graph
from modelplane_operator.render_serving import render_engine_build_job, render_triton_config_map
from modelplane_operator.spec import parse_deployment

Validate = Callable[[dict[str, Any]], None]
CONFIG = Config(
    image_registry="registry.local:5000", image_pull_secrets="regcred", gpu_products="NVIDIA-L4"
)


def all_children(owner: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object a ModelDeployment can produce, in each of its states."""
    spec = parse_deployment(owner["spec"])
    children = [
        render_inference_service(owner, spec, CONFIG, engine_ready=False, canary_traffic=None),
        render_inference_service(owner, spec, CONFIG, engine_ready=True, canary_traffic=20),
        *render_metrics_services(owner, spec),
        render_service_monitor(owner, spec, Config()),
        render_prometheus_rule(owner, spec, Config()),
    ]
    if spec.runtime == "triton":
        children.append(render_triton_config_map(owner, spec))
    if spec.tensorrt.enabled:
        children.append(render_engine_build_job(owner, spec, CONFIG))
    return children


@pytest.mark.parametrize("path", sorted(OWN_CRDS.glob("*.yaml")), ids=lambda p: p.name)
def test_own_crds_are_valid_crds(path: Any) -> None:
    kubernetes_validate.validate(yaml.safe_load(path.read_text()), K8S_VERSION, strict=True)


EXAMPLES = load_examples()


@pytest.mark.parametrize("manifest", EXAMPLES, ids=lambda m: f"{m['kind']}/{m['metadata']['name']}")
def test_examples_valid_and_render_schema_valid_children(
    manifest: dict[str, Any], validate: Validate
) -> None:
    validate(manifest)
    owner = as_stored(manifest)
    if manifest["kind"] == "ModelDeployment":
        children = all_children(owner)
    else:
        children = [render_inference_graph(owner, parse_pipeline(owner["spec"]))]
    for child in children:
        validate(child)


def test_examples_cover_three_pipelines_with_every_step_defined() -> None:
    deployments = {m["metadata"]["name"] for m in EXAMPLES if m["kind"] == "ModelDeployment"}
    pipelines = [m for m in EXAMPLES if m["kind"] == "ModelPipeline"]
    assert {p["metadata"]["name"] for p in pipelines} >= {"documents", "car-claims", "pet-premium"}
    for pipeline in pipelines:
        for node in pipeline["spec"]["nodes"]:
            for step in node["steps"]:
                assert step.get("deployment", "") in deployments


VARIANTS: list[dict[str, Any]] = [
    {
        "stage": "text-detection",
        "tensorrt": {
            "enabled": True,
            "gpuProduct": "NVIDIA-L4",
            "shapes": [
                {"input": "x", "min": [3, 32, 32], "opt": [3, 640, 640], "max": [3, 960, 960]}
            ],
        },
        "model": {"name": "det", "storageUri": "s3://models/repo"},
    },
    {
        "stage": "text-recognition",
        "model": {
            "name": "rec",
            "format": "torchscript",
            "storageUri": "oci://registry.local/rec:1",
        },
        "tensorrt": {"enabled": False},
        "scaling": {"metric": "queue-time", "maxReplicas": 3, "target": 10000},
    },
    {
        "stage": "breed",
        "resources": {
            "gpu": 1,
            "migProfile": "2g.20gb",
            "tolerations": [{"key": "mig", "operator": "Exists"}],
        },
        "scaling": {"metric": "cpu", "target": 70, "maxReplicas": 2},
    },
    {"stage": "premium", "resources": {"gpu": 0}, "batching": {"maxBatchSize": 0}},
    {
        "stage": "custom",
        "model": {"name": "c", "format": "tensorrt", "storageUri": "pvc://plans/custom"},
    },
    {
        "stage": "document-parse",
        "runtime": "python",
        "model": {"name": "parse", "format": "python", "storageUri": "pvc://m"},
    },
    {
        "stage": "quality-gate",
        "runtime": "python",
        "model": {"name": "g", "storageUri": "gs://b/repo"},
        "resources": {"gpu": 0},
    },
    {
        "stage": "quality-gate",
        "tensorrt": {"enabled": True},
        "model": {"name": "g", "storageUri": "oci://registry.local/gate:2"},
    },
]


@pytest.mark.parametrize(
    "spec", VARIANTS, ids=lambda s: f"{s['stage']}-{s.get('runtime', 'triton')}"
)
def test_every_stage_variant_renders_schema_valid(spec: dict[str, Any], validate: Validate) -> None:
    for child in all_children(make_deployment("variant", **spec)):
        validate(child)


def test_validation_rejects_a_bad_object(validate: Validate) -> None:
    """The validator itself must be able to fail, or the tests above prove nothing."""
    isvc = render_inference_service(
        make_deployment(), parse_deployment(make_deployment()["spec"]), CONFIG
    )
    isvc["spec"]["predictor"]["scaleMetric"] = "queue-time"  # not one of KServe's enum values
    with pytest.raises(Exception, match="queue-time"):
        validate(isvc)
    isvc = render_inference_service(
        make_deployment(), parse_deployment(make_deployment()["spec"]), CONFIG
    )
    isvc["spec"]["predictor"]["modelFormt"] = {"name": "onnx"}  # a typo a real server would prune
    with pytest.raises(Exception, match="modelFormt"):
        validate(isvc)


def test_vendored_upstream_crds_are_the_pinned_files() -> None:
    """Every vendored CRD is listed in PROVENANCE.md and is byte for byte the pinned upstream
    file (its sha256), with its project's licence beside it: an edit made to get a test
    through would show here."""
    table = (UPSTREAM_CRDS / "PROVENANCE.md").read_text()
    pinned = dict(re.findall(r"^\| (\S+\.yaml) \|.*\| ([0-9a-f]{64}) \|$", table, re.M))
    vendored = sorted(str(p.relative_to(UPSTREAM_CRDS)) for p in UPSTREAM_CRDS.rglob("*.yaml"))
    assert vendored == sorted(pinned)
    for name, digest in pinned.items():
        assert hashlib.sha256((UPSTREAM_CRDS / name).read_bytes()).hexdigest() == digest, name
    for project in {name.split("/")[0] for name in pinned}:
        assert "Apache License" in (UPSTREAM_CRDS / project / "LICENSE").read_text()
