"""Every private KServe name modelplane's server touches, behind one small adapter.

KServe 0.21's ``ModelServer`` has no public hook for what ``kserve_server`` needs: the listen
host, uvicorn without its own signal handlers, the gRPC message limits and interceptors, a
drain before the listeners close. So the server subclasses KServe's REST and gRPC servers and
reaches a few private names; they are all here, nowhere else. :func:`check` lists what the
installed KServe no longer has; ``ModelplaneServer.start`` calls :func:`require` (a clear error
at start, not an ``AttributeError`` mid-shutdown) and ``tests/serving/test_kserve_internals.py``
fails on an upgrade that moves one.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import kserve
import uvicorn
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.grpc.server import GRPCServer
from kserve.protocol.rest import server as rest_server

from modelplane_inference.errors import KServeInternalsMoved

TESTED_WITH = "0.21.0"  # the KServe release these names were read from
# The base of the uvicorn server KServe creates (it refreshes its own config on start).
UvicornServer: type[uvicorn.Server] = getattr(rest_server, "_RefreshingServer", uvicorn.Server)
REGISTER = "_register_and_check_atleast_one_model_is_ready"
MIDDLEWARES = "_add_middlewares"  # RESTServer: adds TimingMiddleware (and an access logger)
# Attributes each class's ``__init__`` sets, by the name this module reads them under.
ATTRIBUTES: dict[type[Any], tuple[str, ...]] = {
    rest_server.RESTServer: ("_server", "config"),
    GRPCServer: ("_server", "_port", "_data_plane", "_model_repository_extension", "_kwargs"),
    kserve.ModelServer: ("_rest_server", "_grpc_server", "servers"),
    uvicorn.Server: ("should_exit", "force_exit"),
}


def register_models(server: kserve.ModelServer, models: list[kserve.Model]) -> None:
    """KServe's own registration (and its at-least-one-ready check) of ``models``."""
    getattr(server, REGISTER)(models)


def attach_servers(server: kserve.ModelServer, rest: Any, grpc: Any) -> None:
    """Tell KServe's ``ModelServer`` about servers created outside its ``start`` (its own
    ``stop`` and ``dataplane`` code read these attributes)."""
    server._rest_server, server._grpc_server = rest, grpc


def without_timing_log(cls: type[rest_server.RESTServer]) -> type[rest_server.RESTServer]:
    """A ``RESTServer`` subclass whose app skips KServe's ``TimingMiddleware``: it logs two
    lines per request (``PrintTimings``) and reads ``getrusage`` twice -- per-request logging on
    the hot path, ~10% of a small model's REST server samples. The Prometheus histograms
    (``modelplane_request_duration_seconds``) time requests instead."""

    def add_middlewares(self: Any, app: Any) -> None:
        """None: KServe adds only the timing log (and an access logger for a format unset here)."""

    setattr(cls, MIDDLEWARES, add_middlewares)
    return cls


def uvicorn_of(rest: rest_server.RESTServer) -> uvicorn.Server:
    """The uvicorn server a ``RESTServer`` runs (its ``should_exit``/``force_exit`` stop it)."""
    server: uvicorn.Server = rest._server
    return server


def set_uvicorn(rest: rest_server.RESTServer, server: uvicorn.Server) -> None:
    rest._server = server


@dataclass(frozen=True)
class GrpcParts:
    """What KServe's ``GRPCServer.__init__`` was given, to build the aio server as it would."""

    port: int
    data_plane: DataPlane
    repository_extension: Any
    kwargs: dict[str, Any]


def grpc_parts(server: GRPCServer) -> GrpcParts:
    return GrpcParts(
        server._port, server._data_plane, server._model_repository_extension, server._kwargs
    )


def grpc_aio_of(server: GRPCServer | None) -> Any:
    """The running ``grpc.aio`` server of a ``GRPCServer``, or None before it started."""
    return None if server is None else server._server


def set_grpc_aio(server: GRPCServer, aio_server: Any) -> None:
    server._server = aio_server


def check() -> list[str]:
    """What the installed KServe no longer has, one line each (empty: all present)."""
    problems = []
    if UvicornServer is uvicorn.Server:
        problems.append("kserve.protocol.rest.server._RefreshingServer is gone")
    method = getattr(kserve.ModelServer, REGISTER, None)
    if method is None or list(inspect.signature(method).parameters)[1:2] != ["models"]:
        problems.append(f"kserve.ModelServer.{REGISTER}(models) is gone or changed")
    for cls, names in ATTRIBUTES.items():
        source = inspect.getsource(cls.__init__)
        problems += [
            f"{cls.__module__}.{cls.__name__}.__init__ no longer sets self.{name}"
            for name in names
            if f"self.{name} =" not in source
        ]
    middlewares = getattr(rest_server.RESTServer, MIDDLEWARES, None)
    if middlewares is None or MIDDLEWARES not in inspect.getsource(
        rest_server.RESTServer.create_application
    ):
        problems.append(f"RESTServer.create_application no longer calls self.{MIDDLEWARES}(app)")
    decode = inspect.signature(DataPlane.decode_inference_request)
    if list(decode.parameters) != ["self", "body", "headers", "model_name"]:
        problems.append(f"DataPlane.decode_inference_request is now {decode}")
    if not hasattr(uvicorn.Server, "capture_signals"):
        problems.append("uvicorn.Server.capture_signals is gone")
    return problems


def require() -> None:
    """Raise :class:`KServeInternalsMoved` naming every missing piece and both versions."""
    problems = check()
    if problems:
        raise KServeInternalsMoved(
            f"kserve {version('kserve')} (modelplane is tested with {TESTED_WITH}) moved "
            "internals modelplane's server uses: " + "; ".join(problems)
        )
