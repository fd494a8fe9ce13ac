"""InferenceService, Triton config and engine-build Job rendering, table-driven per stage."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import text_format
from google.protobuf.json_format import MessageToDict
from helpers import make_deployment
from modelplane_api.triton import model_config_pb2
from modelplane_operator.config import Config
from modelplane_operator.render_inference_service import render_inference_service
from modelplane_operator.render_serving import (
    engine_cache_key,
    engine_job_name,
    render_engine_build_job,
    render_triton_config,
    render_triton_config_map,
)
from modelplane_operator.spec import parse_deployment

CONFIG = Config(gpu_products="NVIDIA-L4")  # the class an unpinned TensorRT plan is built for


def render(
    engine_ready: bool = False, canary: int | None = None, config: Config = CONFIG, **spec: Any
) -> dict[str, Any]:
    owner = make_deployment(**spec)
    return render_inference_service(
        owner, parse_deployment(owner["spec"]), config, engine_ready, canary
    )


STAGES = [
    # stage, runtime, format, expected modelFormat, expected runtime name, transformer?
    ("quality-gate", "triton", "onnx", "onnx", "modelplane-triton", True),
    ("text-detection", "triton", "onnx", "onnx", "modelplane-triton", True),
    ("text-recognition", "triton", "torchscript", "pytorch", "modelplane-triton", True),
    ("breed", "triton", "tensorrt", "tensorrt", "modelplane-triton", True),
    ("premium", "triton", "onnx", "onnx", "modelplane-triton", True),
    ("custom", "triton", "onnx", "onnx", "modelplane-triton", False),
    ("document-parse", "python", "python", "modelplane", "modelplane-python", False),
    ("breed", "python", "onnx", "onnx", "modelplane-python", False),
]


@pytest.mark.parametrize(
    ("stage", "runtime", "fmt", "kserve_format", "runtime_name", "has_transformer"), STAGES
)
def test_every_stage_kind(
    stage: str, runtime: str, fmt: str, kserve_format: str, runtime_name: str, has_transformer: bool
) -> None:
    isvc = render(
        stage=stage,
        runtime=runtime,
        model={"name": "m", "format": fmt, "storageUri": "s3://bucket/repo"},
    )
    model = isvc["spec"]["predictor"]["model"]
    assert model["modelFormat"] == {"name": kserve_format}
    assert model["runtime"] == runtime_name
    assert model["storageUri"] == "s3://bucket/repo"
    assert model["protocolVersion"] == "v2"
    assert ("transformer" in isvc["spec"]) is has_transformer
    assert isvc["metadata"]["labels"]["modelplane.io/stage"] == stage
    if runtime == "triton":  # config.pbtxt reaches Triton's model repository through a ConfigMap
        assert model["volumeMounts"][0]["mountPath"] == "/mnt/models/m/config.pbtxt"
        assert isvc["spec"]["predictor"]["volumes"][0]["configMap"]["name"] == "gate-triton-config"
    else:
        assert f"--stage={stage}" in model["args"]


def test_owned_and_labelled_by_the_cr() -> None:
    owner = make_deployment("gate")
    isvc = render_inference_service(owner, parse_deployment(owner["spec"]), CONFIG)
    ref = isvc["metadata"]["ownerReferences"][0]
    assert ref == {
        "apiVersion": "modelplane.io/v1alpha1",
        "kind": "ModelDeployment",
        "name": "gate",
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert isvc["metadata"]["namespace"] == owner["metadata"]["namespace"]
    assert isvc["metadata"]["labels"]["modelplane.io/deployment"] == "gate"
    assert isvc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "modelplane"


@pytest.mark.parametrize(
    ("resources", "resource_name", "selector"),
    [
        ({"gpu": 2}, "nvidia.com/gpu", None),
        # MIG strategy mixed (the Config default): the slice resource alone picks the node.
        ({"gpu": 1, "migProfile": "1g.10gb"}, "nvidia.com/mig-1g.10gb", None),
        (
            {
                "gpu": 1,
                "gpuResourceName": "nvidia.com/mig-3g.40gb",
                "nodeSelector": {"pool": "gpu"},
            },
            "nvidia.com/mig-3g.40gb",
            {"pool": "gpu"},
        ),
    ],
)
def test_gpu_resources_and_placement(
    resources: dict[str, Any], resource_name: str, selector: dict[str, str] | None
) -> None:
    predictor = render(resources=resources)["spec"]["predictor"]
    count = str(resources["gpu"])
    assert predictor["model"]["resources"]["limits"][resource_name] == count
    assert predictor["model"]["resources"]["requests"][resource_name] == count
    assert predictor.get("nodeSelector") == selector
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in predictor[
        "tolerations"
    ]


def test_cpu_model_requests_no_gpu_and_no_gpu_toleration() -> None:
    predictor = render(
        resources={"gpu": 0, "tolerations": [{"key": "pool", "operator": "Exists"}]}
    )["spec"]["predictor"]
    assert "nvidia.com/gpu" not in predictor["model"]["resources"]["limits"]
    assert predictor["tolerations"] == [{"key": "pool", "operator": "Exists"}]


@pytest.mark.parametrize("metric", ["concurrency", "rps", "cpu", "memory"])
def test_kserve_scale_metrics(metric: str) -> None:
    predictor = render(scaling={"minReplicas": 2, "maxReplicas": 5, "metric": metric, "target": 7})[
        "spec"
    ]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 5)
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == (metric, 7)
    assert ("scaleMetricType" in predictor) is (metric in {"cpu", "memory"})


def test_queue_time_scaling_uses_triton_queue_metric_through_keda() -> None:
    isvc = render(scaling={"maxReplicas": 4, "metric": "queue-time", "target": 20000})
    metric = isvc["spec"]["predictor"]["autoScaling"]["metrics"][0]
    assert metric["type"] == "External"
    assert "nv_inference_queue_duration_us" in metric["external"]["metric"]["query"]
    assert 'model="quality-gate"' in metric["external"]["metric"]["query"]
    assert metric["external"]["target"] == {"type": "Value", "value": "20000"}
    assert isvc["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "keda"
    assert "scaleMetric" not in isvc["spec"]["predictor"]


def test_canary_percent_only_when_given() -> None:
    assert "canaryTrafficPercent" not in render()["spec"]["predictor"]
    assert render(canary=0)["spec"]["predictor"]["canaryTrafficPercent"] == 0
    assert render(canary=20)["spec"]["predictor"]["canaryTrafficPercent"] == 20


def test_engine_ready_switches_predictor_to_the_cached_plan() -> None:
    trt = {"enabled": True, "precision": "fp16", "gpuProduct": "NVIDIA-A100-SXM4-80GB"}
    before = render(tensorrt=trt)["spec"]["predictor"]["model"]
    after = render(tensorrt=trt, engine_ready=True)["spec"]["predictor"]["model"]
    assert (
        before["modelFormat"] == {"name": "onnx"}
        and before["storageUri"] == "pvc://models/repository"
    )
    assert after["modelFormat"] == {"name": "tensorrt"}
    assert after["storageUri"] == (
        "pvc://modelplane-engines/quality-gate/v1/fp16/nvidia-a100-sxm4-80gb/trt-0-1-0"
    )


def test_every_image_follows_the_registry_and_pull_secrets() -> None:
    config = Config(
        image_registry="mirror.local:5000", image_pull_secrets="regcred", gpu_products="NVIDIA-L4"
    )
    isvc = render(config=config)
    container = isvc["spec"]["transformer"]["containers"][0]
    assert container["image"] == "mirror.local:5000/modelplane/inference:0.1.0"
    assert isvc["spec"]["transformer"]["imagePullSecrets"] == [{"name": "regcred"}]
    assert isvc["spec"]["predictor"]["imagePullSecrets"] == [{"name": "regcred"}]
    owner = make_deployment(
        tensorrt={"enabled": True}, model={"name": "m", "storageUri": "s3://b/repo"}
    )
    job = render_engine_build_job(owner, parse_deployment(owner["spec"]), config)
    pod = job["spec"]["template"]["spec"]
    images = [c["image"] for c in pod["initContainers"] + pod["containers"]]
    assert images == [
        "mirror.local:5000/kserve/storage-initializer:v0.21.0",
        "mirror.local:5000/modelplane/engine-builder:0.1.0",
    ]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]


MODEL_V3 = {"name": "quality-gate", "storageUri": "pvc://models/repository", "version": "3"}


def parse_pbtxt(text: str) -> Any:
    """What Triton reads: the text parsed with its own ModelConfig schema (unknown fields raise)."""
    return text_format.Parse(text, model_config_pb2().ModelConfig())


@pytest.mark.parametrize(
    ("batching", "gpu", "expected"),
    [
        (
            {
                "maxBatchSize": 16,
                "maxQueueDelayMicroseconds": 3000,
                "preferredBatchSizes": [4, 8],
                "instanceCount": 2,
            },
            1,
            {
                "max_batch_size": 16,
                "dynamic_batching": {
                    "preferred_batch_size": [4, 8],
                    "max_queue_delay_microseconds": "3000",
                },
                "instance_group": [{"count": 2, "kind": "KIND_GPU"}],
            },
        ),
        (
            {"maxBatchSize": 0},
            0,
            {"instance_group": [{"count": 1, "kind": "KIND_CPU"}]},
        ),
        (
            {"maxBatchSize": 8},
            1,
            {
                "max_batch_size": 8,
                "dynamic_batching": {"max_queue_delay_microseconds": "2000"},
                "instance_group": [{"count": 1, "kind": "KIND_GPU"}],
            },
        ),
    ],
)
def test_triton_config(batching: dict[str, Any], gpu: int, expected: dict[str, Any]) -> None:
    """The rendered config.pbtxt parses with Triton's schema and says exactly this."""
    parsed = parse_deployment(
        make_deployment(batching=batching, resources={"gpu": gpu}, model=MODEL_V3)["spec"]
    )
    message = parse_pbtxt(render_triton_config(parsed))
    assert MessageToDict(message, preserving_proto_field_name=True) == {
        "name": "quality-gate",
        "platform": "onnxruntime_onnx",
        "version_policy": {"specific": {"versions": ["3"]}},
        **expected,
    }


def test_triton_config_is_rejected_by_triton_schema_when_misspelt() -> None:
    """Guard the guard: the parser used above refuses a field Triton does not know."""
    with pytest.raises(text_format.ParseError):
        parse_pbtxt('name: "m"\nmax_batch: 4\n')


def test_triton_config_map_switches_platform_with_the_engine() -> None:
    owner = make_deployment(tensorrt={"enabled": True}, resources={"gpu": 1})
    parsed = parse_deployment(owner["spec"])
    before = parse_pbtxt(render_triton_config_map(owner, parsed)["data"]["config.pbtxt"])
    after = parse_pbtxt(render_triton_config_map(owner, parsed, True)["data"]["config.pbtxt"])
    assert (before.platform, after.platform) == ("onnxruntime_onnx", "tensorrt_plan")


@pytest.mark.parametrize(
    ("storage", "init_names", "model_volume"),
    [
        (
            "pvc://models/repository",
            [],
            {"persistentVolumeClaim": {"claimName": "models", "readOnly": True}},
        ),
        ("s3://bucket/repo", ["storage-initializer"], {"emptyDir": {}}),
        ("oci://registry.local/models/gate:1", ["modelcar"], {"emptyDir": {}}),
    ],
)
def test_engine_job_fetches_the_model_per_scheme(
    storage: str, init_names: list[str], model_volume: dict[str, Any]
) -> None:
    owner = make_deployment(
        tensorrt={
            "enabled": True,
            "precision": "int8",
            "workspaceMiB": 4096,
            "shapes": [
                {"input": "x", "min": [3, 32, 32], "opt": [3, 640, 640], "max": [3, 1280, 1280]}
            ],
        },
        model={"name": "det", "storageUri": storage},
        batching={"maxBatchSize": 4},
    )
    parsed = parse_deployment(owner["spec"])
    job = render_engine_build_job(owner, parsed, CONFIG)
    pod = job["spec"]["template"]["spec"]
    assert [c["name"] for c in pod.get("initContainers", [])] == init_names
    assert {k: v for k, v in pod["volumes"][0].items() if k != "name"} == model_volume
    args = pod["containers"][0]["args"]
    assert args[args.index("--precision") + 1] == "int8"
    assert args[args.index("--workspace-mib") + 1] == "4096"
    assert args[args.index("--max-batch-size") + 1] == "4"
    assert args[args.index("--shape") + 1] == "x:3,32,32:3,640,640:3,1280,1280"
    assert (
        args[args.index("--output") + 1]
        == f"/mnt/engines/{engine_cache_key(parsed, CONFIG)}/det/1/model.plan"
    )
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["restartPolicy"] == "Never"
    assert job["metadata"]["name"] == engine_job_name(owner, parsed, CONFIG)


def test_engine_cache_key_changes_with_precision_gpu_and_builder() -> None:
    def key(config: Config = CONFIG, **trt: Any) -> str:
        return engine_cache_key(
            parse_deployment(make_deployment(tensorrt={"enabled": True, **trt})["spec"]), config
        )

    keys = {
        key(),
        key(precision="fp32"),
        key(gpuProduct="NVIDIA-A10G"),
        key(
            Config(
                engine_builder_image="modelplane/engine-builder:trt-10.3", gpu_products="NVIDIA-L4"
            )
        ),
    }
    assert len(keys) == 4
    assert key() == key(), "the same inputs must give the same key (cache hit)"


@pytest.mark.parametrize(
    ("runtime", "fmt", "stage", "parameters"),
    [
        ("triton", "onnx", "text-recognition", {"recognizer": "tesseract", "language": "kor+eng"}),
        ("python", "python", "document-parse", {"maxPixels": "1000000"}),
    ],
)
def test_stage_parameters_reach_the_stage_process(
    runtime: str, fmt: str, stage: str, parameters: dict[str, str]
) -> None:
    """The strings as written, in key order (each was checked against the stage's typed set)."""
    isvc = render(
        stage=stage,
        runtime=runtime,
        model={"name": "m", "format": fmt, "storageUri": "pvc://models/repo"},
        parameters=parameters,
    )
    component = (
        isvc["spec"]["transformer"]["containers"][0]
        if runtime == "triton"
        else isvc["spec"]["predictor"]["model"]
    )
    args = component["args"]
    assert [a for a in args if a.startswith("--param=")] == [
        f"--param={key}={value}" for key, value in sorted(parameters.items())
    ]


def test_transformer_gets_the_model_folder_for_its_side_files() -> None:
    isvc = render(
        stage="breed",
        model={"name": "breed", "storageUri": "pvc://models/repository"},
        tensorrt={"enabled": True},
    )
    container = isvc["spec"]["transformer"]["containers"][0]
    assert "--model-dir=/mnt/models/breed" in container["args"]
    # The ONNX repository, even when the predictor serves a built plan from the engine cache.
    assert {"name": "STORAGE_URI", "value": "pvc://models/repository"} in container["env"]
