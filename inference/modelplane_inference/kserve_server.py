"""KServe's ModelServer as modelplane runs it: on a chosen host, with two REST interop fixes.

- KServe binds every interface; ``modelplane serve`` must listen on 127.0.0.1 only, so the REST
  and gRPC servers are created here with the host set, otherwise as ``ModelServer.start`` does.
- tritonclient.http posts JSON without a Content-Type; FastAPI then hands KServe raw bytes that
  it rejects. A small ASGI middleware labels such bodies as JSON.
- KServe 0.21 decodes binary-extension BYTES inputs as UTF-8; an encoded image is not text. That
  becomes a 400 that says what to send instead, rather than a 500.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent import futures
from typing import Any

import kserve
from fastapi.responses import JSONResponse
from grpc import aio
from kserve.errors import InferenceError
from kserve.model_server import args as kserve_args
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc
from kserve.protocol.grpc.interceptors import ExceptionToStatusInterceptor, LoggingInterceptor
from kserve.protocol.grpc.server import GRPCServer
from kserve.protocol.grpc.servicer import InferenceServicer
from kserve.protocol.rest.server import RESTServer
from uvicorn.importer import import_from_string

log = logging.getLogger(__name__)
# KServe's gRPC default is 8 MiB; a CTC recognizer's logits for one page (N x T x 6625 FP32) are
# larger. Triton's own limit is about 2 GiB; this server stands in for it, so it accepts 256 MiB.
GRPC_MAX_MESSAGE = 256 * 1024 * 1024


class ModelplaneServer(kserve.ModelServer):  # type: ignore[misc]
    """KServe's ModelServer on one host (127.0.0.1 locally, every interface in a pod), with
    the REST fixes below; the servers are created as ``ModelServer.start`` creates them."""

    def __init__(self, host: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host = host

    def start(self, models: list[kserve.Model]) -> None:
        self._register_and_check_atleast_one_model_is_ready(models)
        self._rest_server = _RESTServer(
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


class _RESTServer(RESTServer):  # type: ignore[misc]
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
        self._server = aio.server(
            futures.ThreadPoolExecutor(max_workers=max_workers),
            interceptors=(LoggingInterceptor(), ExceptionToStatusInterceptor()),
            options=[
                (
                    f"grpc.max_{way}_message_length",
                    max(int(self._kwargs[f"grpc_max_{way}_message_length"]), GRPC_MAX_MESSAGE),
                )
                for way in ("send", "receive")
            ],
        )
        grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(
            InferenceServicer(self._data_plane, self._model_repository_extension), self._server
        )
        self._server.add_insecure_port(f"{self._host}:{self._port}")
        log.info("gRPC listening", extra={"address": f"{self._host}:{self._port}"})
        await self._server.start()
        await self._server.wait_for_termination()
