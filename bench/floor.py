"""The protocol floor: what a stock gRPC call costs before any server code runs.

A ``grpc.aio`` server -- the server KServe's ModelServer runs on -- whose ``ModelInfer`` answers
every call with a canned response: the bytes of a real answer ``modelplane serve`` gave for the
same input, never parsed, never computed. Stock ``tritonclient.grpc`` calls it exactly as the
serving bench calls ``modelplane serve`` (same payloads, same closed loop). What is left is the
client's request building and answer reading, the gRPC transport and grpc.aio's own per-call
work: a floor no Python gRPC server can go under on this machine.

From it, the best ratio any ``modelplane serve`` could reach against the in-process baseline:

- p50 at concurrency 1: (in-process p50 + floor p50) / in-process p50. Optimistic: an answer
  that is not immediate costs a client more to wake up for (a gRPC server, aio or sync, that
  works 5 ms before answering is answered ~2 ms later than 5 ms + this floor on this machine);
- throughput at concurrency 16, where both sides are CPU-bound on the same cores: in-process
  CPU per request / (in-process CPU per request + floor CPU per request, server and client).

    python -m bench.floor --port P --response FILE   # the canned server (the bench starts it)
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVICE = "inference.GRPCInferenceService"


@dataclass(frozen=True)
class FloorServer:
    """Quacks like ``tests/serving/servers.Server`` for ``bench.serving.caller`` (gRPC only)."""

    grpc: str
    process: subprocess.Popen[bytes]
    http: str = ""


@contextmanager
def canned_server(response: bytes) -> Iterator[FloorServer]:
    """The canned ``ModelInfer`` server in its own process, on a free loopback port."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from serving.servers import free_port

    with tempfile.NamedTemporaryFile(prefix="modelplane-floor-", suffix=".pb") as canned:
        canned.write(response)
        canned.flush()
        port = free_port()
        command = [sys.executable, "-m", "bench.floor", "--port", str(port)]
        command += ["--response", canned.name]
        process = subprocess.Popen(
            command,
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            _wait_for_port(port, process)
            yield FloorServer(f"127.0.0.1:{port}", process)
        finally:
            process.terminate()
            process.wait(timeout=15)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bench.floor exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"bench.floor did not listen on {port} within {timeout_s} s")


async def serve(port: int, response: bytes) -> None:
    """Answer every ``ModelInfer`` with ``response``; requests stay unparsed bytes."""
    import grpc
    from grpc import aio

    async def model_infer(request: bytes, context: object) -> bytes:
        return response

    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"ModelInfer": grpc.unary_unary_rpc_method_handler(model_infer)}
    )
    server = aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--response", type=Path, required=True, help="serialized answer")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.response.read_bytes()))


if __name__ == "__main__":
    main()
