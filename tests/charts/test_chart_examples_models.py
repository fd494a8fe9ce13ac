"""Where the example ModelDeployments find their models, as the real Helm engine renders them.

By default the examples read the PVC named in manifests/examples. An air-gapped install points
them at the bundle's models image instead: ``install.sh`` passes ``examples.modelsStorageUri =
oci://<site registry>/modelplane/models@sha256:...`` (ci/02-airgapped does the same), so no
``kubectl cp`` of the repository is needed. The operator must then accept that image: the
rendered operator configuration is loaded as its pod would load it, and every rendered example
goes through the operator's own checks and pure render functions.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest
from chartkit import Docs, find, operator_config
from helpers import as_stored, helm_python, load_examples, validate_manifest
from modelplane_operator.render_inference_service import render_inference_service
from modelplane_operator.render_serving import render_engine_build_job
from modelplane_operator.spec import SpecError, check_model_image, parse_deployment

helm = helm_python()  # fails, naming `make install`, where it is not installed

# What ci/02-airgapped-values.yaml sets: the models image under its global.imageRegistry.
MIRROR = "registry.claims.local:5000/mirror"
MODELS_IMAGE = f"{MIRROR}/modelplane/models@sha256:{'8' * 64}"
EXAMPLES_PVC = "pvc://modelplane-models/repository"


def example_deployments() -> dict[str, dict[str, Any]]:
    """The ModelDeployments of manifests/examples by name, read without the chart."""
    return {d["metadata"]["name"]: d for d in load_examples() if d["kind"] == "ModelDeployment"}


def storage_uris(docs: Docs) -> dict[str, str]:
    return {
        d["metadata"]["name"]: d["spec"]["model"]["storageUri"]
        for d in find(docs, "ModelDeployment")
    }


def test_examples_keep_their_pvc_by_default(render: Callable[..., Docs]) -> None:
    docs = render({"examples": {"enabled": True}})
    expected = {name: d["spec"]["model"]["storageUri"] for name, d in example_deployments().items()}
    assert storage_uris(docs) == expected
    assert set(expected.values()) == {EXAMPLES_PVC}


def test_models_storage_uri_points_every_example_at_the_image(scenarios: dict[str, Docs]) -> None:
    """Every example, and nothing else in it, now reads the models image by digest."""
    docs = scenarios["02-airgapped"]
    examples = example_deployments()
    assert storage_uris(docs) == dict.fromkeys(examples, f"oci://{MODELS_IMAGE}")
    for rendered in find(docs, "ModelDeployment"):
        source = copy.deepcopy(examples[rendered["metadata"]["name"]]["spec"])
        source["model"]["storageUri"] = f"oci://{MODELS_IMAGE}"
        assert rendered["spec"] == source


def test_operator_accepts_and_renders_the_models_image(scenarios: dict[str, Docs]) -> None:
    """The allowed-registries rule of the rendered configuration (no
    MODELPLANE_MODEL_IMAGE_REGISTRIES: global.imageRegistry) lets the image through, and the
    predictor, the transformer and the engine build Job all take the models from it."""
    docs = scenarios["02-airgapped"]
    config = operator_config(docs)
    assert config.model_image_registries == ""
    assert config.image_registry == MIRROR
    assert config.gpu_product_list == ["NVIDIA-L4", "NVIDIA-A10G"]  # chart gpu.products
    deployments = find(docs, "ModelDeployment")
    assert len(deployments) == len(example_deployments())
    engine_jobs = 0
    for deployment in deployments:
        spec = parse_deployment(deployment["spec"])
        check_model_image(spec, config)  # raises SpecError("ModelImageNotAllowed") otherwise
        owner = as_stored(deployment, namespace="claims")
        isvc = render_inference_service(owner, spec, config)
        validate_manifest(isvc)
        assert isvc["spec"]["predictor"]["model"]["storageUri"] == f"oci://{MODELS_IMAGE}"
        for container in isvc["spec"].get("transformer", {}).get("containers", []):
            assert {"name": "STORAGE_URI", "value": f"oci://{MODELS_IMAGE}"} in container["env"]
        if spec.tensorrt.enabled:
            job = render_engine_build_job(owner, spec, config)
            (init,) = job["spec"]["template"]["spec"]["initContainers"]
            assert (init["name"], init["image"]) == ("modelcar", MODELS_IMAGE)
            engine_jobs += 1
    assert engine_jobs == 1  # doc-text-detection builds a TensorRT plan


def test_an_image_outside_the_mirror_is_not_allowed(scenarios: dict[str, Docs]) -> None:
    """The same rule refuses a models image from any other registry (the check is live)."""
    config = operator_config(scenarios["02-airgapped"])
    (deployment, *_) = find(scenarios["02-airgapped"], "ModelDeployment")
    spec = copy.deepcopy(deployment["spec"])
    spec["model"]["storageUri"] = f"oci://quay.io/modelplane/models@sha256:{'8' * 64}"
    with pytest.raises(SpecError) as refused:
        check_model_image(parse_deployment(spec), config)
    assert refused.value.reason == "ModelImageNotAllowed"


@pytest.mark.parametrize(
    "uri",
    [
        f"oci://{MIRROR}/modelplane/models:latest",  # a tag moves: the examples pin a digest
        f"oci://{MIRROR}/modelplane/models@sha256:1234",
        "/models/repository",
    ],
)
def test_schema_rejects_a_storage_uri_without_scheme_or_digest(
    uri: str, render_raw: Callable[..., dict[str, str]]
) -> None:
    with pytest.raises(helm.HelmValuesError, match=re.escape("/examples/modelsStorageUri")):
        render_raw({"examples": {"enabled": True, "modelsStorageUri": uri}})
