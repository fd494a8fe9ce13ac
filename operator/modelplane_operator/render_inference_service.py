"""Pure rendering of a ModelDeployment's KServe InferenceService."""

from __future__ import annotations

from typing import Any

from modelplane_api.resources import in_flight_cap, transformer_resources

from modelplane_operator.config import Config
from modelplane_operator.naming import child_metadata
from modelplane_operator.render_gpu import container_resources, gpu_scheduling
from modelplane_operator.render_placement import topology_spread
from modelplane_operator.render_serving import (
    KSERVE_FORMATS,
    MODEL_ROOT,
    RESTRICTED_CONTAINER,
    engine_storage_uri,
    served_format,
    triton_config_map_name,
)
from modelplane_operator.spec import DeploymentSpec

KSERVE_SCALE_METRICS = {"concurrency", "rps", "cpu", "memory"}


def stage_parameter_args(spec: DeploymentSpec) -> list[str]:
    """``spec.parameters`` as the stage process's ``--param KEY=VALUE`` flags, in key order."""
    return [f"--param={key}={value}" for key, value in sorted(spec.parameters.items())]


def queue_time_query(namespace: str, model: str) -> str:
    """Mean Triton queue time per request (µs) over 1m: what the queue-time autoscaler targets."""
    sel = f'namespace="{namespace}",model="{model}"'
    return (
        f"sum(rate(nv_inference_queue_duration_us{{{sel}}}[1m]))"
        f" / clamp_min(sum(rate(nv_inference_request_success{{{sel}}}[1m])), 1)"
    )


def _scaling(owner: dict[str, Any], spec: DeploymentSpec, config: Config) -> dict[str, Any]:
    scaling = spec.scaling
    out: dict[str, Any] = {"minReplicas": scaling.min_replicas, "maxReplicas": scaling.max_replicas}
    if scaling.metric in KSERVE_SCALE_METRICS:
        out["scaleMetric"] = scaling.metric
        out["scaleTarget"] = scaling.target
        if scaling.metric in {"cpu", "memory"}:
            out["scaleMetricType"] = "Utilization"
        return out
    query = queue_time_query(owner["metadata"]["namespace"], spec.model.name)
    out["autoScaling"] = {
        "metrics": [
            {
                "type": "External",
                "external": {
                    "metric": {
                        "backend": "prometheus",
                        "serverAddress": config.prometheus_url,
                        "query": query,
                    },
                    "target": {"type": "Value", "value": str(scaling.target)},
                },
            }
        ]
    }
    return out


def _predictor_model(
    owner: dict[str, Any], spec: DeploymentSpec, config: Config, engine_ready: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The predictor's ``model`` block and the volumes it needs."""
    fmt = served_format(spec, engine_ready)
    use_engine = spec.tensorrt.enabled and engine_ready
    model: dict[str, Any] = {
        "modelFormat": {"name": KSERVE_FORMATS[fmt]},
        "storageUri": engine_storage_uri(spec, config) if use_engine else spec.model.storage_uri,
        "protocolVersion": "v2",
        "resources": container_resources(spec, config, spec.resources.gpu),
    }
    volumes: list[dict[str, Any]] = []
    if spec.runtime == "triton":
        model["runtime"] = config.triton_runtime
        model["volumeMounts"] = [
            {
                "name": "triton-config",
                "mountPath": f"{MODEL_ROOT}/{spec.model.name}/config.pbtxt",
                "subPath": "config.pbtxt",
                "readOnly": True,
            }
        ]
        volumes.append(
            {"name": "triton-config", "configMap": {"name": triton_config_map_name(owner)}}
        )
    else:
        model["runtime"] = config.python_runtime
        model["args"] = [
            f"--model_name={owner['metadata']['name']}",
            f"--stage={spec.stage}",
            f"--model-dir={MODEL_ROOT}/{spec.model.name}",
            f"--max-batch-size={spec.batching.max_batch_size}",
            f"--max-queue-delay-us={spec.batching.max_queue_delay_us}",
            # Every batching key: the model's own config.pbtxt never decides (modelplane_api.spec)
            "--preferred-batch-sizes=" + ",".join(map(str, spec.batching.preferred_batch_sizes)),
            f"--instance-count={spec.batching.instance_count}",
            *stage_parameter_args(spec),
        ]
    return model, volumes


def _transformer(owner: dict[str, Any], spec: DeploymentSpec, config: Config) -> dict[str, Any]:
    """modelplane pre/post-processing in front of Triton; KServe adds --predictor_host."""
    container = {
        "name": "kserve-container",
        "image": config.image(config.inference_image),
        "command": ["modelplane-transformer"],
        "args": [
            f"--model_name={owner['metadata']['name']}",
            f"--stage={spec.stage}",
            f"--triton-model={spec.model.name}",
            "--predictor_protocol=grpc-v2",
            f"--model-dir={MODEL_ROOT}/{spec.model.name}",
            # Back-pressure: past this many requests in flight, 429 instead of memory growth.
            f"--max-concurrency={in_flight_cap(spec.stage, spec.scaling.max_in_flight)}",
            *stage_parameter_args(spec),
        ],
        # KServe's storage initializer fills MODEL_ROOT for any container carrying STORAGE_URI:
        # the transformer needs the model folder's side files (labels, modelplane.json).
        "env": [{"name": "STORAGE_URI", "value": spec.model.storage_uri}],
        # Per stage kind from measurement (modelplane_api.resources.STAGE_SIZING), with
        # spec.transformer.resources laid over it key by key.
        "resources": transformer_resources(spec.stage, spec.transformer_resources),
        "securityContext": RESTRICTED_CONTAINER,
    }
    out: dict[str, Any] = {
        "minReplicas": spec.scaling.min_replicas,
        "maxReplicas": spec.scaling.max_replicas,
        "containers": [container],
    }
    spread = topology_spread(owner, spec, "transformer")
    if spread:
        out["topologySpreadConstraints"] = spread
    secrets = config.pull_secrets_for(owner["metadata"]["namespace"])
    if secrets:
        out["imagePullSecrets"] = secrets
    return out


def render_inference_service(
    owner: dict[str, Any],
    spec: DeploymentSpec,
    config: Config,
    engine_ready: bool = False,
    canary_traffic: int | None = None,
) -> dict[str, Any]:
    """The InferenceService serving ``spec``.

    ``engine_ready`` switches a TensorRT-enabled model from its ONNX file to the built plan;
    ``canary_traffic`` (None = no canary) is the share routed to the latest revision, decided by
    the caller from the revision's readiness.
    """
    model, volumes = _predictor_model(owner, spec, config, engine_ready)
    predictor: dict[str, Any] = {"model": model, **_scaling(owner, spec, config)}
    predictor.update(gpu_scheduling(spec, config))
    spread = topology_spread(owner, spec, "predictor")
    if spread:
        predictor["topologySpreadConstraints"] = spread
    if volumes:
        predictor["volumes"] = volumes
    secrets = config.pull_secrets_for(owner["metadata"]["namespace"])
    if secrets:
        predictor["imagePullSecrets"] = secrets
    if canary_traffic is not None:
        predictor["canaryTrafficPercent"] = canary_traffic
    isvc_spec: dict[str, Any] = {"predictor": predictor}
    if spec.runtime == "triton" and spec.transformer:
        isvc_spec["transformer"] = _transformer(owner, spec, config)
    metadata = child_metadata(owner, owner["metadata"]["name"], "inference-service", spec.stage)
    metadata["annotations"] = {"modelplane.io/model-version": spec.model.version}
    if spec.scaling.metric == "queue-time":
        metadata["annotations"] |= {
            "serving.kserve.io/deploymentMode": "RawDeployment",
            "serving.kserve.io/autoscalerClass": "keda",
        }
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": metadata,
        "spec": isvc_spec,
    }
