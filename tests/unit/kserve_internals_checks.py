"""KServe's private names that modelplane's server relies on are still where the adapter reads
them (``modelplane_inference.serving.kserve_internals``). A KServe upgrade that moves one fails
here, naming it, before any server test reports a confusing AttributeError.
"""

from __future__ import annotations

from importlib.metadata import version

import kserve
import pytest
from kserve.protocol.grpc.server import GRPCServer
from kserve.protocol.rest.server import RESTServer
from modelplane_inference.serving import kserve_internals


def test_installed_kserve_has_every_internal_the_server_uses() -> None:
    problems = kserve_internals.check()
    assert not problems, (
        f"kserve {version('kserve')} moved internals (tested with "
        f"{kserve_internals.TESTED_WITH}); update kserve_internals.py: {problems}"
    )


def test_the_adapter_reads_and_writes_the_real_objects() -> None:
    """The accessors work on KServe's own classes, built as ``ModelServer.start`` builds them."""
    server = kserve.ModelServer(http_port=0, grpc_port=0)
    rest = RESTServer("kserve.model_server:app", server.dataplane, None, 0)
    assert isinstance(kserve_internals.uvicorn_of(rest), kserve_internals.UvicornServer)
    grpc = GRPCServer(7, server.dataplane, "ext", kwargs={"k": 1})
    parts = kserve_internals.grpc_parts(grpc)
    assert (parts.port, parts.data_plane, parts.repository_extension, parts.kwargs) == (
        7,
        server.dataplane,
        "ext",
        {"k": 1},
    )
    assert kserve_internals.grpc_aio_of(grpc) is None  # not started
    kserve_internals.attach_servers(server, rest, grpc)
    assert (server._rest_server, server._grpc_server) == (rest, grpc)


def test_rest_app_without_the_timing_log_middleware() -> None:
    """KServe's app gets its TimingMiddleware (two log lines per request) from the hook the
    adapter replaces: a subclass built with it adds none."""
    import fastapi

    @kserve_internals.without_timing_log
    class Quiet(RESTServer):  # type: ignore[misc]
        pass

    server = kserve.ModelServer(http_port=0, grpc_port=0)
    stock, quiet = fastapi.FastAPI(), fastapi.FastAPI()
    RESTServer("kserve.model_server:app", server.dataplane, None, 0)._add_middlewares(stock)
    Quiet("kserve.model_server:app", server.dataplane, None, 0)._add_middlewares(quiet)
    assert "TimingMiddleware" in [getattr(m.cls, "__name__", "") for m in stock.user_middleware]
    assert quiet.user_middleware == []


def test_a_moved_internal_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a user sees on a KServe without the registration method: one error naming it and
    both versions, at server start."""
    monkeypatch.delattr(kserve.ModelServer, kserve_internals.REGISTER)
    with pytest.raises(kserve_internals.KServeInternalsMoved) as error:
        kserve_internals.require()
    message = str(error.value)
    assert kserve_internals.REGISTER in message and kserve_internals.TESTED_WITH in message
