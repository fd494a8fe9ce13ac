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

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kserve
from fastapi.responses import JSONResponse
from grpc import aio
from kserve.errors import InferenceError, InvalidInput
from kserve.model_server import args as kserve_args
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc
from kserve.protocol.grpc.interceptors import ExceptionToStatusInterceptor, LoggingInterceptor
from kserve.protocol.grpc.server import GRPCServer
from kserve.protocol.grpc.servicer import InferenceServicer
from kserve.protocol.infer_type import InferRequest, InferResponse
from kserve.protocol.rest.server import RESTServer
from uvicorn.importer import import_from_string

from modelplane_inference import protocol
from modelplane_inference.backends import LocalBackend
from modelplane_inference.manifests import Deployment, Pipeline, load_manifests
from modelplane_inference.pipeline import PipelineExecutor, StepFailed
from modelplane_inference.repository import RepositoryError, load_model_config
from modelplane_inference.runner import RunnerInputError
from modelplane_inference.stage_registry import STAGES
from modelplane_inference.stages import Stage, instrumented, public

log = logging.getLogger(__name__)
REQUEST_INPUTS = ("image", "features", "lines", "boxes")


class PipelineModel(kserve.Model):  # type: ignore[misc]
    """A ModelPipeline as a model: BYTES ``image`` (+ ``features``) in, JSON ``result`` out."""

    def __init__(self, executor: PipelineExecutor) -> None:
        super().__init__(executor.name)
        self.executor = executor
        self.ready = True

    async def __call__(
        self, body: Any, headers: dict[str, str] | None = None, verb: Any = None
    ) -> Any:
        return await instrumented(self.name, super().__call__(body, headers))

    async def preprocess(
        self, payload: Any, headers: dict[str, str] | None = None
    ) -> protocol.Batch:
        if not isinstance(payload, InferRequest):
            raise InvalidInput("use the Open Inference Protocol v2: POST /v2/models/<name>/infer")
        columns: dict[str, list[Any]] = {}
        for name in REQUEST_INPUTS:
            reader = protocol.bytes_items if name == "image" else protocol.json_items
            values = reader(payload, name, required=False)
            if values is not None:
                columns[name] = values
        unknown = [t.name for t in payload.inputs if t.name not in REQUEST_INPUTS]
        if unknown or not columns:
            raise InvalidInput(
                f"pipeline {self.name} takes inputs {list(REQUEST_INPUTS)[:2]} "
                f"(BYTES), got {[t.name for t in payload.inputs]}"
            )
        counts = {len(v) for v in columns.values()}
        if len(counts) != 1:
            raise InvalidInput(
                f"inputs disagree on the number of items: "
                f"{ {k: len(v) for k, v in columns.items()} }"
            )
        count = counts.pop()
        return protocol.Batch.of(
            payload, [{k: v[i] for k, v in columns.items()} for i in range(count)]
        )

    async def predict(
        self,
        payload: protocol.Batch,
        headers: dict[str, str] | None = None,
        response_headers: dict[str, str] | None = None,
    ) -> protocol.Batch:
        try:
            results = await asyncio.gather(*(self.executor.run(item) for item in payload))
        except StepFailed as exc:
            if 400 <= exc.status < 500:
                raise InvalidInput(exc.message) from exc
            raise InferenceError(exc.message) from exc
        return payload.like([public(r) for r in results])

    async def postprocess(
        self,
        result: protocol.Batch,
        headers: dict[str, str] | None = None,
        response_headers: dict[str, str] | None = None,
    ) -> InferResponse:
        return protocol.json_response(self.name, list(result), result)


class RawModel(kserve.Model):  # type: ignore[misc]
    """A repository model served as Triton would: named tensors in, named tensors out."""

    def __init__(self, name: str, backend: LocalBackend) -> None:
        super().__init__(name)
        self.backend = backend
        self.ready = True

    async def __call__(
        self, body: Any, headers: dict[str, str] | None = None, verb: Any = None
    ) -> Any:
        return await instrumented(self.name, super().__call__(body, headers))

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
        try:
            tensors = {t.name: t.as_numpy() for t in payload.inputs}
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"could not decode inputs: {exc}") from exc
        try:
            out = await self.backend.infer(tensors)
        except RunnerInputError as exc:
            raise InvalidInput(str(exc)) from exc
        return protocol.tensor_response(self.name, out, payload)


@dataclass
class ServeOptions:
    repository: Path
    http_port: int = 8080
    grpc_port: int = 8081
    host: str = "127.0.0.1"
    ort_threads: int = 1
    raw_models: bool = True
    strict: bool = False


def build_models(
    deployments: list[Deployment], pipelines: list[Pipeline], options: ServeOptions
) -> list[kserve.Model]:
    """Load every stage (skipping, with a log line, those whose model is missing unless
    ``strict``), then the raw repository models and the pipelines over the loaded stages."""
    stages: dict[str, Stage] = {}
    backends: dict[tuple[Path, str, str], LocalBackend] = {}
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
            models.append(PipelineModel(PipelineExecutor(pipe.name, pipe.spec, stages)))
        except ValueError as exc:
            if options.strict:
                raise
            log.error("pipeline not served", extra={"pipeline": pipe.name, "error": str(exc)})
    return models


def _load_stage(
    dep: Deployment, options: ServeOptions, backends: dict[tuple[Path, str, str], LocalBackend]
) -> Stage:
    if dep.stage not in STAGES:
        raise ValueError(f"stage {dep.stage!r} has no local implementation")
    repository = dep.repository(options.repository)

    def backend() -> LocalBackend:
        # Deployments of one model share its runner, as they would share a Triton model.
        key = (repository.resolve(), dep.model, dep.version)
        if key not in backends:
            config = load_model_config(repository, dep.model, dep.version)
            backends[key] = LocalBackend(config.with_batching(dep.batching), options.ort_threads)
        return backends[key]

    stage = STAGES[dep.stage](dep.name, dep.parameters, backend)
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


class LoopbackModelServer(kserve.ModelServer):  # type: ignore[misc]
    """KServe's ModelServer listening on one host (127.0.0.1) instead of every interface."""

    def __init__(self, host: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host = host

    def start(self, models: list[kserve.Model]) -> None:
        self._register_and_check_atleast_one_model_is_ready(models)
        self._rest_server = _LoopbackRESTServer(
            "kserve.model_server:app",
            self.dataplane,
            self.model_repository_extension,
            self.http_port,
            grace_period=self.grace_period,
            event_loop="asyncio",
        )
        self._rest_server.config.host = self.host
        self.servers.append(self._rest_server.start())
        if self.enable_grpc:
            self._grpc_server = _HostGRPCServer(
                self.host,
                self.grpc_port,
                self.dataplane,
                self.model_repository_extension,
                kwargs=vars(kserve_args),
                grace_period=self.grace_period,
            )
            self.servers.append(self._grpc_server.start(self.max_threads))
        self.setup_event_loop()
        self.register_signal_handler()
        asyncio.run(self._serve())


class _JsonContentType:
    """ASGI middleware: a POST without Content-Type and without the binary-extension header is
    JSON. tritonclient.http sends none, and FastAPI then hands KServe raw bytes it rejects."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            names = {name for name, _ in scope["headers"]}
            if b"content-type" not in names and b"inference-header-content-length" not in names:
                scope = {
                    **scope,
                    "headers": [*scope["headers"], (b"content-type", b"application/json")],
                }
        await self.app(scope, receive, send)


async def _binary_bytes_handler(_: Any, exc: InferenceError) -> JSONResponse:
    """KServe 0.21 decodes binary-extension BYTES inputs as UTF-8 text; an encoded image is not
    text. That is the client's choice of encoding, so answer 400 with what to send instead."""
    if "Failed to encode" in str(exc):
        return JSONResponse(
            status_code=400,
            content={
                "error": (
                    "BYTES input is not UTF-8 text: over REST send images as base64 text in JSON "
                    "(tritonclient.http: set_data_from_numpy(..., binary_data=False)), or use gRPC"
                )
            },
        )
    return JSONResponse(status_code=500, content={"error": str(exc)})


class _LoopbackRESTServer(RESTServer):  # type: ignore[misc]
    def create_application(self) -> None:
        super().create_application()
        app = import_from_string("kserve.model_server:app")
        app.add_middleware(_JsonContentType)
        app.add_exception_handler(InferenceError, _binary_bytes_handler)


class _HostGRPCServer(GRPCServer):  # type: ignore[misc]
    def __init__(self, host: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._host = host

    async def start(self, max_workers: int) -> None:
        from concurrent import futures

        self._server = aio.server(
            futures.ThreadPoolExecutor(max_workers=max_workers),
            interceptors=(LoggingInterceptor(), ExceptionToStatusInterceptor()),
            options=[
                ("grpc.max_send_message_length", self._kwargs["grpc_max_send_message_length"]),
                (
                    "grpc.max_receive_message_length",
                    self._kwargs["grpc_max_receive_message_length"],
                ),
            ],
        )
        grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(
            InferenceServicer(self._data_plane, self._model_repository_extension), self._server
        )
        self._server.add_insecure_port(f"{self._host}:{self._port}")
        log.info("gRPC listening", extra={"address": f"{self._host}:{self._port}"})
        await self._server.start()
        await self._server.wait_for_termination()


def serve(folder: Path, options: ServeOptions) -> None:
    """Load the manifests in ``folder`` and serve until interrupted."""
    deployments, pipelines = load_manifests(folder)
    models = build_models(deployments, pipelines, options)
    log.info(
        "serving",
        extra={
            "models": [m.name for m in models],
            "http": options.http_port,
            "grpc": options.grpc_port,
            "host": options.host,
        },
    )
    server = LoopbackModelServer(
        options.host,
        http_port=options.http_port,
        grpc_port=options.grpc_port,
        enable_latency_logging=False,
    )
    server.start(models)
