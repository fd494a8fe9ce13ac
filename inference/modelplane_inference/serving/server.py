"""``modelplane serve``: every ModelDeployment and ModelPipeline of a folder, in one process.

KServe's ``ModelServer`` serves the Open Inference Protocol (REST and gRPC), so the clients that
talk to Triton (``tritonclient.http`` / ``.grpc``) work unchanged. Registered models:

- each ModelDeployment under its own name (the stage: bytes/JSON in, JSON ``result`` out);
- each ModelPipeline under its own name (executed in-process, see ``pipeline``);
- each repository model under its Triton name (``text-detection``, ...): plain tensors in and
  out, the endpoint a ``modelplane-transformer`` calls, so this server stands in for Triton.

It listens on 127.0.0.1 only: KServe binds every interface, so the two servers are created here
with the host set, otherwise exactly as ``ModelServer.start`` creates them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kserve
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferRequest, InferResponse
from modelplane_api.resources import in_flight_cap

from modelplane_inference.errors import RepositoryError
from modelplane_inference.runtime.backends import Backend, LocalBackend
from modelplane_inference.runtime.repository import load_model_config
from modelplane_inference.serving import protocol
from modelplane_inference.serving.kserve_server import ModelplaneServer
from modelplane_inference.serving.limits import InFlight, Limits, install_limits
from modelplane_inference.serving.manifests import Deployment, Pipeline, load_manifests
from modelplane_inference.serving.pipeline import PipelineExecutor
from modelplane_inference.stages.base import InstrumentedModel, Item, Stage, WireModel
from modelplane_inference.stages.registry import STAGES

log = logging.getLogger(__name__)
REQUEST_INPUTS = ("image", "features", "lines", "boxes")


class PipelineModel(WireModel):
    """A ModelPipeline as a model: BYTES ``image`` (+ JSON ``features``, ``lines``, ``boxes``)
    in, JSON ``result`` out; v2 only (no router posts V1 to a pipeline)."""

    wire_inputs = REQUEST_INPUTS
    first_input_required = False
    speaks_v1 = False

    def __init__(self, executor: PipelineExecutor) -> None:
        super().__init__(executor.name)
        self.executor = executor
        self.ready = True

    def columns_of(self, payload: InferRequest) -> dict[str, list[Any]]:
        """Any of the inputs, at least one, and none other."""
        columns = super().columns_of(payload)
        unknown = [t.name for t in payload.inputs if t.name not in REQUEST_INPUTS]
        if unknown or not columns:
            raise InvalidInput(
                f"pipeline {self.name} takes inputs {list(REQUEST_INPUTS)[:2]} "
                f"(BYTES), got {[t.name for t in payload.inputs]}"
            )
        return columns

    async def run(self, item: Item) -> Item:
        # A StepFailed is answered by errors.answer (the failed stage's status where it has one).
        return await self.executor.run(item)


class RawModel(InstrumentedModel):
    """A repository model served as Triton would: named tensors in, named tensors out."""

    def __init__(self, name: str, backend: Backend) -> None:
        super().__init__(name)
        self.backend = backend
        self.ready = True

    def get_input_types(self) -> list[dict[str, Any]]:
        return [
            {"name": t.name, "datatype": t.datatype, "shape": self._shape(t.dims)}
            for t in self.backend.config.inputs
        ]

    def get_output_types(self) -> list[dict[str, Any]]:
        return [
            {"name": t.name, "datatype": t.datatype, "shape": self._shape(t.dims)}
            for t in self.backend.config.outputs
        ]

    def _shape(self, dims: tuple[int, ...]) -> list[int]:
        return [-1, *dims] if self.backend.config.batching.max_batch_size > 0 else list(dims)

    async def predict(
        self,
        payload: Any,
        headers: dict[str, str] | None = None,
        response_headers: dict[str, str] | None = None,
    ) -> InferResponse:
        if not isinstance(payload, InferRequest):
            raise InvalidInput("use the Open Inference Protocol v2")
        tensors = {}
        for tensor in payload.inputs:
            try:
                tensors[tensor.name] = tensor.as_numpy()
            except (ValueError, TypeError):
                raise protocol.undecodable(tensor) from None  # the cause quotes the data
        out = await self.backend.infer(tensors)  # a RunnerInputError is answered 400
        return protocol.tensor_response(self.name, out, payload)


@dataclass
class ServeOptions:
    repository: Path
    http_port: int = 8080
    grpc_port: int = 8081
    host: str = "127.0.0.1"
    ort_threads: int = 0  # auto: all cores for an execution alone, 1 under concurrency
    raw_models: bool = True
    strict: bool = False
    limits: Limits = field(default_factory=Limits)
    # "triton": runtime-triton models run in one real tritonserver (serving/triton_predictors)
    predictors: str = "local"
    triton: Any = field(default=None, repr=False)  # the started TritonPredictors, if any


def stage_in_flight(deployments: list[Deployment], limits: Limits) -> InFlight:
    """Each stage's in-flight cap (``spec.scaling.maxInFlight``, else its stage kind's default,
    as its transformer has in the cluster), never above ``--max-concurrency``."""
    caps = {d.name: in_flight_cap(d.spec.stage, d.spec.scaling.max_in_flight) for d in deployments}
    return InFlight(limits.max_concurrency, caps)


def build_models(
    deployments: list[Deployment],
    pipelines: list[Pipeline],
    options: ServeOptions,
    in_flight: InFlight | None = None,
) -> list[kserve.Model]:
    """Load every stage (skipping, with a log line, those whose model is missing unless
    ``strict``), then the raw repository models and the pipelines over the loaded stages;
    ``in_flight`` holds the pipelines' calls of a stage to that stage's cap."""
    stages: dict[str, Stage] = {}
    backends: dict[tuple[Path, str, str], Backend] = {}
    for dep in deployments:
        try:
            stages[dep.name] = _load_stage(dep, options, backends)
        except (RepositoryError, RuntimeError, ValueError, OSError) as exc:
            if options.strict:
                raise
            log.error("deployment not served", extra={"deployment": dep.name, "error": str(exc)})
    models: list[kserve.Model] = list(stages.values())
    if options.raw_models:
        taken = set(stages) | {p.name for p in pipelines}
        models += [
            RawModel(key[1], backend) for key, backend in backends.items() if key[1] not in taken
        ]
    for pipe in pipelines:
        try:
            executor = PipelineExecutor(pipe.name, pipe.spec, stages, in_flight)
            models.append(PipelineModel(executor))
        except ValueError as exc:
            if options.strict:
                raise
            log.error("pipeline not served", extra={"pipeline": pipe.name, "error": str(exc)})
    return models


def _load_stage(
    dep: Deployment, options: ServeOptions, backends: dict[tuple[Path, str, str], Backend]
) -> Stage:
    if dep.stage not in STAGES:
        raise ValueError(f"stage {dep.stage!r} has no local implementation")
    repository = dep.repository(options.repository)

    def backend() -> Backend:
        # Deployments of one model share its runner, as they would share a Triton model.
        key = (repository.resolve(), dep.model, dep.version)
        if key not in backends:
            config = load_model_config(repository, dep.model, dep.version)
            remote = options.triton.backend(dep, config) if options.triton else None
            backends[key] = remote or LocalBackend(
                config.with_batching(dep.batching), options.ort_threads
            )
        return backends[key]

    stage = STAGES[dep.stage](dep.name, dep.spec.stage_params, backend)
    stage.load()
    log.info(
        "stage ready",
        extra={
            "deployment": dep.name,
            "stage": dep.stage,
            "model": dep.model,
            "repository": str(repository),
        },
    )
    return stage


def serve(folder: Path, options: ServeOptions) -> None:
    """Load the manifests in ``folder`` and serve until SIGTERM/SIGINT (then drain and exit)."""
    install_limits(options.limits)
    deployments, pipelines = load_manifests(folder)
    if options.predictors == "triton":
        from modelplane_inference.serving.triton_predictors import TritonPredictors

        options.triton = TritonPredictors(deployments, options.repository)
        options.triton.start()
    try:
        _serve(deployments, pipelines, options)
    finally:
        if options.triton is not None:
            options.triton.stop()


def _serve(deployments: list[Deployment], pipelines: list[Pipeline], options: ServeOptions) -> None:
    in_flight = stage_in_flight(deployments, options.limits)
    models = build_models(deployments, pipelines, options, in_flight)
    log.info(
        "serving",
        extra={
            "models": [m.name for m in models],
            "http": options.http_port,
            "grpc": options.grpc_port,
            "host": options.host,
            "predictors": options.predictors,
        },
    )
    server = ModelplaneServer(
        options.host,
        options.limits,
        predictor=options.triton,
        in_flight=in_flight,
        http_port=options.http_port,
        grpc_port=options.grpc_port,
        enable_latency_logging=False,
    )
    server.start(models)
