"""One manifest, two consumers: the operator and ``modelplane serve`` must do the same with it.

Every example manifest and a corpus of broken and edge-case ones go to BOTH sides, each through
its real entry points, and the test compares what actually happens:

- operator: the validating webhook's handlers (``admission.validate_deployment`` /
  ``validate_pipeline``: a 422 and its reason) and the real operator reconciling against kmock
  (a CR that got past admission: ``Ready=False`` and its reason; otherwise the children it
  renders: the ``config.pbtxt`` ConfigMap, the InferenceService's ``--param`` flags, the
  InferenceGraph and the ``SpecExpressed`` condition);
- laptop: ``modelplane serve``'s loader (``load_manifests`` + ``build_models``, strict, over the
  real model repository): a refusal and its reason, or the loaded stages (the typed parameters
  each receives, the Batching its runner runs with) and the pipeline executors.

Compared: accepted or refused, with the same reason; the batching in effect (the ConfigMap parsed
with Triton's ModelConfig against the runner's); the parameters each stage receives (the
transformer's ``--param`` flags converted as ``modelplane-transformer`` converts them, against
the local stage's). Each disagreement issue 22 found has a case: a cycle, weights summing to
90, a condition on a Sequence's first step, ``recBatch: six``, text-recognition without
``spec.batching`` (the laptop ran config.pbtxt's max 16 with (8, 16), the cluster max 8 with none).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kmock
import kopf
import pytest
import yaml
from helpers import EXAMPLES, load_examples
from kube import MD, MP, condition, create, eventually, running_operator, stored, stored_of
from modelplane_api import triton
from modelplane_api.errors import SpecError
from modelplane_api.triton import DEFAULT_REPOSITORY, Batching
from modelplane_inference.cli import key_value
from modelplane_inference.errors import ManifestError
from modelplane_inference.serving.manifests import load_manifests
from modelplane_inference.serving.server import PipelineModel, ServeOptions, build_models
from modelplane_inference.stages.base import Stage
from modelplane_inference.stages.registry import STAGES
from modelplane_operator import admission

GATE = {
    "stage": "quality-gate",
    "model": {"name": "quality-gate", "storageUri": "pvc://modelplane-models/repository"},
}
RECOGNITION = {
    "stage": "text-recognition",
    "model": {"name": "text-recognition", "storageUri": "pvc://modelplane-models/repository"},
}


def deployment(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": name},
        "spec": {**copy.deepcopy(GATE), **spec},
    }


def pipeline(name: str, nodes: list[dict[str, Any]], root: str = "root") -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.io/v1alpha1",
        "kind": "ModelPipeline",
        "metadata": {"name": name},
        "spec": {"root": root, "nodes": nodes},
    }


def seq(*steps: dict[str, Any], name: str = "root", router: str = "Sequence") -> dict[str, Any]:
    return {"name": name, "routerType": router, "steps": list(steps)}


# Broken manifests: (case, the object under test, the reason both sides must give). The
# object is the last document; a pipeline comes with the deployment its steps call.
BROKEN: list[tuple[str, dict[str, Any], str]] = [
    (
        "cycle",
        pipeline(
            "p-cycle",
            [seq({"node": "b"}), seq({"node": "c"}, name="b"), seq({"node": "b"}, name="c")],
        ),
        "PipelineCycle",
    ),
    (
        "weights-90",
        pipeline(
            "p-weights",
            [
                seq(
                    {"deployment": "gate", "weight": 60},
                    {"deployment": "gate", "name": "again", "weight": 30},
                    router="Splitter",
                )
            ],
        ),
        "InvalidWeights",
    ),
    (
        "condition-on-first-step",
        pipeline("p-first", [seq({"deployment": "gate", "condition": "predictions.0"})]),
        "InvalidCondition",
    ),
    (
        "condition-in-ensemble",
        pipeline(
            "p-ensemble",
            [seq({"deployment": "gate", "condition": "instances.0"}, router="Ensemble")],
        ),
        "InvalidCondition",
    ),
    (
        "step-with-two-targets",
        pipeline("p-two", [seq({"deployment": "gate", "node": "root"})]),
        "InvalidStep",
    ),
    (
        "missing-root",
        pipeline("p-root", [seq({"deployment": "gate"}, name="entry")]),
        "MissingRoot",
    ),
    (
        "rec-batch-six",
        deployment("d-six", **RECOGNITION, parameters={"recBatch": "six"}),
        "InvalidParameter",
    ),
    (
        "unknown-parameter",
        deployment("d-unknown", parameters={"rejectDistance": "0.4"}),
        "InvalidParameter",
    ),
    (
        "bad-choice",
        deployment("d-choice", **RECOGNITION, parameters={"recognizer": "neural"}),
        "InvalidParameter",
    ),
    (
        "out-of-range",
        deployment("d-range", **RECOGNITION, parameters={"textScore": "2"}),
        "InvalidParameter",
    ),
    (
        "bad-batching",
        deployment("d-batching", batching={"maxBatchSize": 8, "preferredBatchSizes": [16]}),
        "InvalidBatching",
    ),
    ("unknown-stage", deployment("d-stage", stage="ocr"), "UnknownStage"),
    (
        "bad-storage-uri",
        deployment("d-uri", model={"name": "quality-gate", "storageUri": "models/repository"}),
        "InvalidStorageUri",
    ),
]

# Accepted beyond the examples: the batching and parameter edge cases, and a pipeline with
# step timeouts and retries (which the InferenceGraph cannot carry: the operator says so).
EDGES: list[dict[str, Any]] = [
    deployment("rec-no-batching", **RECOGNITION),
    deployment("rec-typed", **RECOGNITION, parameters={"recBatch": "4", "textScore": "0.25"}),
    deployment("gate", batching={"maxBatchSize": 4}),
    pipeline(
        "p-retried",
        [
            seq(
                {"deployment": "gate", "timeoutSeconds": 5, "retries": 2},
                {
                    "deployment": "gate",
                    "name": "again",
                    "condition": "predictions.0",
                    "timeoutSeconds": 30,
                },
            )
        ],
    ),
]


def write(folder: Path, docs: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifests.yaml").write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    return folder


def laptop(folder: Path) -> tuple[str | None, dict[str, Any]]:
    """``modelplane serve``'s loader: (refusal reason or None, served models by name)."""
    try:
        deployments, pipelines = load_manifests(folder)
        options = ServeOptions(repository=DEFAULT_REPOSITORY, strict=True, raw_models=False)
        models = build_models(deployments, pipelines, options)
    except ManifestError as exc:
        cause = exc.__cause__
        return (cause.reason if isinstance(cause, SpecError) else str(exc)), {}
    return None, {model.name: model for model in models}


def admitted(doc: dict[str, Any]) -> str | None:
    """The operator's validating webhook: None when admitted, else the 422's reason."""
    handler = (
        admission.validate_deployment
        if doc["kind"] == "ModelDeployment"
        else admission.validate_pipeline
    )
    try:
        handler(spec=copy.deepcopy(doc["spec"]))
    except kopf.AdmissionError as exc:
        assert exc.code == 422
        return str(exc).split(":", 1)[0]
    return None


def resource(doc: dict[str, Any]) -> str:
    return MD if doc["kind"] == "ModelDeployment" else MP


@pytest.mark.parametrize(("case", "doc", "reason"), BROKEN, ids=[c[0] for c in BROKEN])
def test_both_sides_refuse_with_the_same_reason(
    case: str, doc: dict[str, Any], reason: str, tmp_path: Path
) -> None:
    docs = [deployment("gate"), doc] if doc["kind"] == "ModelPipeline" else [doc]
    local_reason, _ = laptop(write(tmp_path, docs))
    assert (admitted(doc), local_reason) == (reason, reason)


async def test_a_cr_past_admission_is_not_ready_with_the_same_reason(
    cluster: kmock.KubernetesEmulator,
) -> None:
    """A CR stored without the webhook (kmock has none) gets Ready=False with the reason the
    webhook and the laptop give: the operator never renders it and never crashes."""
    async with running_operator():
        for _, doc, _ in BROKEN:
            await create(cluster, doc)
        for case, doc, reason in BROKEN:
            name = doc["metadata"]["name"]
            kind = resource(doc)
            ready = await eventually(
                lambda r=kind, n=name: condition(stored(cluster, r, n)["status"], "Ready"),
                what=f"{case}: Ready of {name}",
            )
            assert (case, ready["status"], ready["reason"]) == (case, "False", reason)
    assert not stored_of(cluster, "inferencegraphs") and not stored_of(cluster, "configmaps")


def cluster_parameters(stage: str, args: list[str], name: str) -> Any:
    """What ``modelplane-transformer`` (or ``modelplane-stage``) does with the rendered flags:
    ``--param KEY=VALUE`` split by the CLI's own type, then the stage class built from them."""
    given = dict(key_value(a.removeprefix("--param=")) for a in args if a.startswith("--param="))
    return STAGES[stage](name, given).stage_params


def cluster_batching(cluster: kmock.KubernetesEmulator, name: str) -> Batching:
    """The batching Triton runs in the cluster: the rendered ConfigMap read with ModelConfig."""
    config_map = stored(cluster, "v1/configmaps", f"{name}-triton-config")
    assert config_map is not None, f"no config.pbtxt ConfigMap for {name}"
    return Batching.from_config(triton.parse_config(config_map["data"]["config.pbtxt"]))


def stage_args(isvc: dict[str, Any]) -> list[str]:
    spec = isvc["spec"]
    component = (spec.get("transformer") or {}).get("containers", [{}])[0]
    return list(component.get("args") or spec["predictor"]["model"].get("args", []))


async def test_accepted_manifests_mean_the_same_on_both_sides(
    cluster: kmock.KubernetesEmulator, tmp_path: Path, validate: Callable[[dict[str, Any]], None]
) -> None:
    """Examples and edge cases: admitted and loaded; each stage gets the same typed
    parameters and its model runs with the same batching; pipelines carry the same steps."""
    examples = load_examples()
    for doc in [*examples, *EDGES]:
        assert admitted(doc) is None, doc["metadata"]["name"]
    reason, examples_served = laptop(EXAMPLES)
    assert reason is None
    reason, edges_served = laptop(write(tmp_path, EDGES))
    assert reason is None
    served = {**examples_served, **edges_served}

    async with running_operator():
        for doc in [*examples, *EDGES]:
            await create(cluster, doc)
        for doc in [*examples, *EDGES]:
            name = doc["metadata"]["name"]
            kind = resource(doc)
            await eventually(
                lambda r=kind, n=name: stored(cluster, r, n)["status"]["phase"],
                what=f"status of {name}",
            )
    isvcs = {i["metadata"]["name"]: i for i in stored_of(cluster, "inferenceservices")}
    compared_batching = []
    for doc in [*examples, *EDGES]:
        name = doc["metadata"]["name"]
        if doc["kind"] == "ModelPipeline":
            continue
        stage: Stage = served[name]
        args = stage_args(isvcs[name])
        assert cluster_parameters(doc["spec"]["stage"], args, name) == stage.stage_params, name
        if stage._backend is None:  # no model to batch (Tesseract alone, the parser)
            continue
        if doc["spec"].get("runtime", "triton") == "triton":
            runner_batching = stage.backend.runner.config.batching  # type: ignore[attr-defined]
            assert cluster_batching(cluster, name) == runner_batching, name
            compared_batching.append(name)
    assert "rec-no-batching" in compared_batching
    assert served["rec-no-batching"].backend.runner.config.batching == Batching(8, 2000, (), 1)
    assert served["rec-typed"].stage_params.rec_batch == 4

    graph = stored(cluster, "serving.kserve.io/v1alpha1/inferencegraphs", "p-retried")
    assert graph is not None and graph["spec"]["routerTimeouts"] == {"serviceClient": 30}
    validate(graph)  # KServe's own InferenceGraph schema takes the router timeout
    expressed = condition(stored(cluster, MP, "p-retried")["status"], "SpecExpressed")
    assert expressed["status"] == "False" and "retries" in expressed["message"]
    executor = served["p-retried"]
    assert isinstance(executor, PipelineModel)
    steps = executor.executor.spec.nodes[0].steps
    assert [(s.timeout_s, s.retries) for s in steps] == [(5, 2), (30, 0)]
    for doc in examples:
        if doc["kind"] == "ModelPipeline":
            status = stored(cluster, MP, doc["metadata"]["name"])["status"]
            assert condition(status, "SpecExpressed")["status"] == "True"
