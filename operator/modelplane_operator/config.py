"""Operator settings, loaded once from ``MODELPLANE_*`` environment variables.

Every image the operator renders is configurable (air-gapped sites mirror them into a private
registry), including the storage initializer and the engine builder that peers hard-code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from modelplane_api.references import names_registry

MIG_STRATEGIES = ("none", "single", "mixed")


def _items(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


class ConfigError(ValueError):
    """A bad MODELPLANE_* value; the message names the variable."""


@dataclass(frozen=True)
class Config:
    # Registry prefixed to every image below that has no registry of its own ("" = as written).
    image_registry: str = ""
    # The modelplane inference image: transformer and python runtime containers.
    inference_image: str = "modelplane/inference:0.1.0"
    # Runs the TensorRT engine build Job (modelplane[gpu] + TensorRT matching the Triton image).
    engine_builder_image: str = "modelplane/engine-builder:0.1.0"
    # KServe's storage initializer, used by the engine build Job to fetch the ONNX model.
    storage_initializer_image: str = "kserve/storage-initializer:v0.21.0"
    # Comma-separated imagePullSecrets added to every pod the operator renders.
    image_pull_secrets: str = ""
    # ClusterServingRuntime names the InferenceServices select (installed by the Helm chart).
    triton_runtime: str = "modelplane-triton"
    python_runtime: str = "modelplane-python"
    # Prometheus the queue-time autoscaler (KEDA external metric) queries.
    prometheus_url: str = "http://prometheus-operated.monitoring.svc:9090"
    # Port of the operator's own Prometheus metrics.
    metrics_port: int = 9090
    # Port of kopf's liveness endpoint (/healthz).
    health_port: int = 8080
    # Registries (comma-separated hosts, optionally with a path prefix) that oci:// model images
    # may come from. Empty: image_registry when set (an air-gapped site pulls only its mirror),
    # else any. Without it, whoever may create a CR could make nodes pull any image they reach.
    model_image_registries: str = ""
    # Labels ("key=value,key=value") on every ServiceMonitor/PrometheusRule the operator renders,
    # so the selector of a stock kube-prometheus-stack (`release: <its release>`) finds them.
    monitoring_labels: str = ""
    # Absolute URL of docs/operations.md; each alert's runbook_url is this + "#<alert lower>".
    runbook_base_url: str = "https://modelplane.example.com/docs/operations.md"
    # gpu-operator's MIG strategy: mixed (nvidia.com/mig-<profile>), single (MIG slices as
    # nvidia.com/gpu on nodes labelled <product>-MIG-<profile>) or none (no MIG slices at all).
    mig_strategy: str = "mixed"
    # "true" when GPUs are time-sliced with renameByDefault false: the device plugin then
    # labels nodes nvidia.com/gpu.product=<product>-SHARED.
    gpu_time_slicing: str = "false"
    # TensorRT version in the engine builder image: part of every engine cache key ("" = the
    # builder image's tag or digest).
    tensorrt_version: str = ""
    # The cluster's GPU node classes (comma-separated nvidia.com/gpu.product values, chart
    # gpu.products): a TensorRT deployment that pins no gpuProduct gets one plan per class.
    gpu_products: str = ""
    # Extra imagePullSecrets per serving namespace ("namespace:secret,namespace:secret"),
    # besides image_pull_secrets, for sites where each team's namespace has its own.
    namespace_pull_secrets: str = ""

    def __post_init__(self) -> None:
        """Reject settings that would render broken objects, naming the variable."""
        checks = {
            "MODELPLANE_MONITORING_LABELS": all(
                "=" in pair for pair in _items(self.monitoring_labels)
            ),
            "MODELPLANE_RUNBOOK_BASE_URL": self.runbook_base_url.startswith(
                ("http://", "https://")
            ),
            "MODELPLANE_MIG_STRATEGY": self.mig_strategy in MIG_STRATEGIES,
            "MODELPLANE_GPU_TIME_SLICING": self.gpu_time_slicing in {"true", "false"},
            "MODELPLANE_NAMESPACE_PULL_SECRETS": all(
                ":" in pair for pair in _items(self.namespace_pull_secrets)
            ),
        }
        for variable, ok in checks.items():
            if not ok:
                raise ConfigError(f"{variable} is not valid: see operator/config.py")

    @property
    def monitoring_label_map(self) -> dict[str, str]:
        return dict(pair.split("=", 1) for pair in _items(self.monitoring_labels))

    @property
    def gpu_product_list(self) -> list[str]:
        return _items(self.gpu_products)

    def runbook_url(self, alert: str) -> str:
        return f"{self.runbook_base_url.split('#', 1)[0]}#{alert.lower()}"

    def pull_secrets_for(self, namespace: str) -> list[dict[str, str]]:
        """The global pull secrets, then the ones of ``namespace``, without repeats."""
        names = [s["name"] for s in self.pull_secrets]
        for pair in _items(self.namespace_pull_secrets):
            ns, secret = pair.split(":", 1)
            if ns == namespace and secret not in names:
                names.append(secret)
        return [{"name": n} for n in names]

    def image(self, reference: str) -> str:
        """``reference`` under ``image_registry`` unless it already names a registry host."""
        if not self.image_registry or names_registry(reference):
            return reference
        return f"{self.image_registry.rstrip('/')}/{reference}"

    def model_image_allowed(self, reference: str) -> bool:
        """Whether an oci:// model image, as it will be pulled, is under an allowed registry."""
        allowed = [r.rstrip("/") for r in _items(self.model_image_registries)] or (
            [self.image_registry.rstrip("/")] if self.image_registry else []
        )
        pulled = self.image(reference)
        return not allowed or any(pulled.startswith(prefix + "/") for prefix in allowed)

    @property
    def pull_secrets(self) -> list[dict[str, str]]:
        return [{"name": name} for name in _items(self.image_pull_secrets)]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Read MODELPLANE_<FIELD> for every field; a non-integer for an int field is an error."""
        env = os.environ if environ is None else environ
        values: dict[str, str | int] = {}
        for f in fields(cls):
            raw = env.get(f"MODELPLANE_{f.name.upper()}")
            if raw is None:
                continue
            if f.type in ("int", int):
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise ConfigError(
                        f"MODELPLANE_{f.name.upper()}={raw!r} is not an integer"
                    ) from None
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]
