"""KServe's ModelServer as modelplane runs it: on a chosen host, with limits, graceful shutdown
and REST interop fixes.

- KServe binds every interface; ``modelplane serve`` must listen on 127.0.0.1 only, so the REST
  and gRPC servers are created here with the host set, otherwise as ``ModelServer.start`` does.
- Limits (``serving/limits.py``): request bodies over ``max_request_bytes`` get 413 before they
  are read (gRPC: the receive size); more than ``max_concurrency`` requests in flight on one
  model get 429 with Retry-After (gRPC RESOURCE_EXHAUSTED); a request past
  ``request_timeout_s`` gets 504 (DEADLINE_EXCEEDED).
- Every REST error is the V2 error body ``{"error": "..."}``, FastAPI's own 404/405/422 included.
- Graceful shutdown on SIGTERM/SIGINT: readiness (server and models, REST and gRPC) turns false
  while requests are still served for ``drain_s``; then both listeners close, in-flight requests
  finish (up to ``grace_s``) and ``start`` returns, so the process exits 0. A second signal
  cancels what is left.
- tritonclient.http posts JSON without a Content-Type; FastAPI then hands KServe raw bytes that
  it rejects. A small ASGI middleware labels such bodies as JSON.
- REST requests with Triton's binary data extension (what ``tritonclient.http`` sends by
  default) are read by ``binary_data``: KServe 0.21 would decode BYTES elements as UTF-8.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import kserve
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from grpc import StatusCode, aio
from kserve.errors import InferenceError, InvalidInput, ModelNotFound, ModelNotReady
from kserve.model_server import args as kserve_args
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc
from kserve.protocol.grpc.interceptors import ExceptionToStatusInterceptor
from kserve.protocol.grpc.server import GRPCServer
from kserve.protocol.grpc.servicer import InferenceServicer
from kserve.protocol.rest.server import RESTServer
from kserve.utils.inference_client_factory import InferenceClientFactory
from starlette.exceptions import HTTPException
from uvicorn.importer import import_from_string

from modelplane_inference.errors import (
    ModelplaneError,
    PredictorUnavailable,
    RequestTimeout,
    answer,
)
from modelplane_inference.serving import binary_data, kserve_internals
from modelplane_inference.serving.limits import InFlight, Limits

log = logging.getLogger(__name__)


class GuardedDataPlane(DataPlane):  # type: ignore[misc]
    """KServe's DataPlane with a per-model in-flight limit, a request timeout and a draining
    state. REST and gRPC inference both pass through ``infer``, so one place enforces both."""

    def __init__(
        self, model_registry: Any, limits: Limits, in_flight: InFlight | None = None
    ) -> None:
        super().__init__(model_registry=model_registry)
        self.limits = limits
        self.draining = False
        # Shared with the pipelines (``build_models``): a stage's cap counts both paths.
        self.in_flight = in_flight or InFlight(limits.max_concurrency)
        # --predictors triton: its failure() says why the predictor stopped (None while it runs)
        self.predictor: Any = None

    def predictor_failure(self) -> str | None:
        return None if self.predictor is None else self.predictor.failure()

    async def ready(self) -> bool:
        if self.draining or self.predictor_failure() is not None:
            return False
        return bool(await super().ready())

    async def model_ready(
        self, model_name: str, disable_predictor_health_check: bool = False
    ) -> bool:
        # KServe passes True for the check an infer request makes; only health probes turn false
        # while draining, so requests that still arrive during the drain are served.
        down = self.draining or self.predictor_failure() is not None
        if down and not disable_predictor_health_check:
            await super().model_ready(model_name, True)  # still 404 for an unknown model
            return False
        return bool(await super().model_ready(model_name, disable_predictor_health_check))

    def decode_inference_request(self, body: Any, headers: dict[str, str], model_name: str) -> Any:
        """A binary-extension body is read here (tensors stay numpy, BYTES stay bytes)."""
        if isinstance(body, bytes):
            return binary_data.parse_request(body, headers, model_name)
        return super().decode_inference_request(body, headers, model_name)

    async def infer(
        self, model_name: str, request: Any, headers: dict[str, str] | None = None
    ) -> Any:
        failure = self.predictor_failure()
        if failure is not None:
            raise PredictorUnavailable(failure)  # 503 / UNAVAILABLE: Triton's exit and last log
        with self.in_flight.slot(model_name):
            try:
                async with asyncio.timeout(self.limits.request_timeout_s):
                    return await super().infer(model_name, request, headers)
            except TimeoutError as exc:
                seconds = self.limits.request_timeout_s
                raise RequestTimeout(
                    f"model {model_name}: request exceeded {seconds:g} s (--request-timeout-s)"
                ) from exc


class _ClientErrorsWithoutTraceback(logging.Filter):
    """KServe logs every 4xx at ERROR with a traceback (~20 lines): a client sending bad
    requests could flood the logs. A client's mistake becomes one WARNING line, message only."""

    CLIENT_ERRORS = (InvalidInput, ModelNotFound, ModelNotReady)

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, self.CLIENT_ERRORS):
            record.msg, record.args = "client error: %s: %s", (type(error).__name__, error)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class ModelplaneServer(kserve.ModelServer):  # type: ignore[misc]
    """KServe's ModelServer on one host (127.0.0.1 locally, every interface in a pod), with the
    limits and shutdown above; the servers are created as ``ModelServer.start`` creates them."""

    def __init__(
        self,
        host: str,
        limits: Limits | None = None,
        predictor: Any = None,
        in_flight: InFlight | None = None,
        **kwargs: Any,
    ) -> None:
        self.limits = limits or Limits()
        super().__init__(grace_period=int(self.limits.grace_s), **kwargs)
        logging.getLogger("kserve").addFilter(_ClientErrorsWithoutTraceback())
        self.host = host
        self.dataplane = GuardedDataPlane(self.registered_models, self.limits, in_flight)
        self.dataplane.predictor = predictor  # TritonPredictors (serving/triton_predictors.py)
        self._stopping: asyncio.Task[None] | None = None

    def start(self, models: list[kserve.Model]) -> None:
        kserve_internals.require()
        kserve_internals.register_models(self, models)
        self.rest = _RESTServer(
            "kserve.model_server:app",
            self.dataplane,
            self.model_repository_extension,
            self.http_port,
            grace_period=self.grace_period,
            event_loop="asyncio",
        )
        self.rest.config.host = self.host
        self.rest.max_request_bytes = self.limits.max_request_bytes
        self.rest.predictor = self.dataplane.predictor
        self.servers.append(self.rest.start())
        self.grpc: _HostGRPCServer | None = None
        if self.enable_grpc:
            self.grpc = _HostGRPCServer(
                self.host,
                self.grpc_port,
                self.dataplane,
                self.model_repository_extension,
                kwargs={**vars(kserve_args), "max_request_bytes": self.limits.max_request_bytes},
                grace_period=self.grace_period,
            )
            self.servers.append(self.grpc.start(self.max_threads))
        kserve_internals.attach_servers(self, self.rest, self.grpc)
        self.setup_event_loop()
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        await asyncio.gather(*self.servers)
        log.info("stopped")

    def _on_signal(self, sig: int) -> None:
        if self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_task(self._shutdown(sig))
            return
        log.warning("second signal: cancelling in-flight requests", extra={"signal": sig})
        uvicorn_server = kserve_internals.uvicorn_of(self.rest)
        uvicorn_server.force_exit = uvicorn_server.should_exit = True
        aio_server = kserve_internals.grpc_aio_of(self.grpc)
        if aio_server is not None:
            asyncio.get_running_loop().create_task(aio_server.stop(0))

    async def _shutdown(self, sig: int) -> None:
        """Readiness false, serve on for ``drain_s``, then close and let in-flight finish."""
        self.dataplane.draining = True
        log.info("draining", extra={"signal": sig, "drain_s": self.limits.drain_s})
        await asyncio.sleep(self.limits.drain_s)
        log.info("closing listeners; finishing in-flight requests", extra={"signal": sig})
        await InferenceClientFactory().close()
        kserve_internals.uvicorn_of(self.rest).should_exit = True
        if self.grpc is not None:
            await self.grpc.stop(sig)


class _Limits:
    """ASGI middleware: a body over ``max_request_bytes`` gets 413 without reaching the app.

    A declared Content-Length is checked before any byte is read; a chunked body is read up to
    the limit. The body is then replayed to the app chunk by chunk, not copied.
    """

    def __init__(self, app: Any, max_request_bytes: int) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_request_bytes:
            await self._too_large(send, int(declared))
            return
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_request_bytes:
                await self._too_large(send, size)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        await self.app(scope, _replay(messages, receive), send)

    async def _too_large(self, send: Any, size: int) -> None:
        text = (
            f"request body of {size}+ bytes exceeds {self.max_request_bytes} (--max-request-bytes)"
        )
        await _send_json(send, 413, {"error": text}, close=True)


def _replay(messages: list[dict[str, Any]], receive: Any) -> Any:
    """A ``receive`` that hands out the buffered messages, then the real ``receive``
    (which reports a client disconnect)."""
    pending = list(messages)

    async def replay() -> dict[str, Any]:
        return pending.pop(0) if pending else await receive()

    return replay


async def _send_json(send: Any, status: int, body: dict[str, Any], close: bool = False) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


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


async def _inference_error_handler(_: Any, exc: InferenceError) -> JSONResponse:
    return JSONResponse(status_code=500, content={"error": str(exc)})


def _log_error(error: ModelplaneError, where: str) -> None:
    """A 5xx with its traceback; anything else (the client's fault, back-pressure, a deadline)
    as one WARNING line, so a client sending bad requests cannot flood the logs."""
    if error.status >= 500 and error.status != 504:
        log.error("request failed: %s", error, exc_info=error, extra={"where": where})
    else:
        log.warning("client error: %s: %s", type(error).__name__, error, extra={"where": where})


async def _modelplane_error_handler(_: Any, exc: ModelplaneError) -> JSONResponse:
    """Every error of the tower (errors.py), answered by its one mapping."""
    _log_error(exc, "rest")
    reply = answer(exc)
    return JSONResponse(
        status_code=reply.http_status, content={"error": reply.reason}, headers=reply.headers()
    )


async def _http_error_handler(_: Any, exc: HTTPException) -> JSONResponse:
    """FastAPI's own 404 (no such route), 405 and body errors, as V2 error JSON."""
    return JSONResponse(
        status_code=exc.status_code, content={"error": str(exc.detail)}, headers=exc.headers
    )


async def _validation_handler(_: Any, exc: RequestValidationError) -> JSONResponse:
    """A body that is not a V2 request: 400 naming where, without echoing the client's data."""
    problems = [
        f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()[:5]
    ]
    return JSONResponse(
        status_code=400, content={"error": "invalid request body: " + "; ".join(problems)}
    )


class _Server(kserve_internals.UvicornServer):  # type: ignore[misc,valid-type]
    """Uvicorn without its own signal handlers: ``ModelplaneServer`` owns SIGTERM/SIGINT and
    drains before it sets ``should_exit`` (uvicorn would stop accepting at once)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@kserve_internals.without_timing_log
class _RESTServer(RESTServer):  # type: ignore[misc]
    max_request_bytes = Limits().max_request_bytes
    predictor: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kserve_internals.set_uvicorn(self, _Server(self.config))

    def create_application(self) -> None:
        super().create_application()
        app = import_from_string("kserve.model_server:app")
        app.add_middleware(_JsonContentType)
        app.add_middleware(_Limits, max_request_bytes=self.max_request_bytes)
        if self.predictor is not None:  # /metrics: this process's series, then Triton's
            from modelplane_inference.serving.triton_predictors import PredictorMetrics

            app.add_middleware(PredictorMetrics, predictors=self.predictor)
        app.add_exception_handler(InferenceError, _inference_error_handler)
        app.add_exception_handler(ModelplaneError, _modelplane_error_handler)
        app.add_exception_handler(HTTPException, _http_error_handler)
        app.add_exception_handler(RequestValidationError, _validation_handler)


class _StatusInterceptor(ExceptionToStatusInterceptor):  # type: ignore[misc]
    """KServe's exception -> gRPC status mapping for KServe's errors; the tower's own by
    errors.answer, with the retry hint as ``retry-after`` trailing metadata."""

    async def handle_exception(
        self, ex: Exception, request_or_iterator: Any, context: Any, method_name: str
    ) -> None:
        if isinstance(ex, ModelplaneError):
            _log_error(ex, method_name)
            reply = answer(ex)
            metadata = tuple((key.lower(), value) for key, value in reply.headers().items())
            await context.abort(StatusCode[reply.grpc_code], reply.reason, metadata)
        else:
            await super().handle_exception(ex, request_or_iterator, context, method_name)


class _HostGRPCServer(GRPCServer):  # type: ignore[misc]
    """KServe's gRPC server on one host, with the limits' status mapping. No per-request
    logging interceptor: KServe's logs every call at INFO (5% of a small model's server time)."""

    def __init__(self, host: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._host = host

    def _message_limits(self, parts: kserve_internals.GrpcParts) -> list[tuple[str, int]]:
        """KServe's send limit as is (8 MiB by default, what a cluster's transformers run
        with): the recognizer answers class indices, so a page's answer is kilobytes."""
        return [
            ("grpc.max_send_message_length", int(parts.kwargs["grpc_max_send_message_length"])),
            ("grpc.max_receive_message_length", int(parts.kwargs["max_request_bytes"])),
        ]

    async def start(self, max_workers: int) -> None:
        parts = kserve_internals.grpc_parts(self)
        server = aio.server(
            futures.ThreadPoolExecutor(max_workers=max_workers),
            interceptors=(_StatusInterceptor(),),
            options=self._message_limits(parts),
        )
        kserve_internals.set_grpc_aio(self, server)
        grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(
            InferenceServicer(parts.data_plane, parts.repository_extension), server
        )
        server.add_insecure_port(f"{self._host}:{parts.port}")
        log.info("gRPC listening", extra={"address": f"{self._host}:{parts.port}"})
        await server.start()
        await server.wait_for_termination()
