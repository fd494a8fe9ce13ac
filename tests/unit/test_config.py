"""Operator configuration from MODELPLANE_* variables, and the image-registry rewrite."""

from __future__ import annotations

import pytest
from modelplane_operator.config import Config, ConfigError


def test_from_env_reads_prefixed_values() -> None:
    config = Config.from_env(
        {
            "MODELPLANE_IMAGE_REGISTRY": "registry.local:5000",
            "MODELPLANE_METRICS_PORT": "9100",
            "MODELPLANE_IMAGE_PULL_SECRETS": "a, b",
        }
    )
    assert config.metrics_port == 9100
    assert config.pull_secrets == [{"name": "a"}, {"name": "b"}]
    assert config.image("modelplane/inference:1") == "registry.local:5000/modelplane/inference:1"


def test_bad_integer_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="MODELPLANE_HEALTH_PORT"):
        Config.from_env({"MODELPLANE_HEALTH_PORT": "eighty"})


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("kserve/storage-initializer:v0.21.0", "mirror.local/kserve/storage-initializer:v0.21.0"),
        ("quay.io/org/image:1", "quay.io/org/image:1"),  # already names a registry
        ("localhost/image:1", "localhost/image:1"),
        ("busybox", "mirror.local/busybox"),
    ],
)
def test_image_registry_rewrite(reference: str, expected: str) -> None:
    assert Config(image_registry="mirror.local").image(reference) == expected


def test_no_registry_leaves_images_alone() -> None:
    assert Config().image("modelplane/inference:0.1.0") == "modelplane/inference:0.1.0"


@pytest.mark.parametrize(
    ("registry", "allowed", "reference", "ok"),
    [
        ("", "", "ghcr.io/anyone/model:1", True),  # nothing configured: any registry
        ("mirror.local:5000", "", "models/gate:1", True),  # prefixed with the mirror
        ("mirror.local:5000", "", "ghcr.io/anyone/model:1", False),
        ("", "mirror.local:5000/models", "mirror.local:5000/models/gate:1", True),
        ("", "mirror.local:5000/models", "mirror.local:5000/other/gate:1", False),
        ("", "a.local, b.local", "b.local/gate:1", True),
    ],
)
def test_model_images_only_from_allowed_registries(
    registry: str, allowed: str, reference: str, ok: bool
) -> None:
    config = Config(image_registry=registry, model_image_registries=allowed)
    assert config.model_image_allowed(reference) is ok
