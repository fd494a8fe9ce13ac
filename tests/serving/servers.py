"""Server processes for the serving tests: ``modelplane serve`` and the stage entry points.

Servers run as subprocesses, as a user runs them: KServe's gRPC protos and tritonclient's
register the same ``inference.*`` protobuf symbols, so the two cannot share one Python process
(this test process holds the clients).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "manifests" / "examples"
REAL_REPOSITORY = ROOT / "models" / "repository"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server: its addresses, log file and process."""

    http: str
    grpc: str
    log: Path
    process: subprocess.Popen[bytes]

    def http_client(self) -> httpclient.InferenceServerClient:
        return httpclient.InferenceServerClient(self.http, network_timeout=120)

    def grpc_client(self) -> grpcclient.InferenceServerClient:
        return grpcclient.InferenceServerClient(self.grpc)

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://{self.http}/metrics", timeout=10) as response:
            return str(response.read().decode())

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` in a /metrics text whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match[3])
    return total


def start_process(
    args: list[str],
    log: Path,
    http_port: int,
    grpc_port: int,
    ready_models: list[str],
    timeout_s: float = 120.0,
    env: dict[str, str] | None = None,
) -> Server:
    """Start a server process and wait until every model in ``ready_models`` is ready; ``env``
    is added to this process's environment."""
    handle = log.open("wb")
    process = subprocess.Popen(
        args,
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    server = Server(f"127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}", log, process)
    deadline = time.monotonic() + timeout_s
    pending = list(ready_models)
    while pending:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.tail()}")
        if time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"server not ready after {timeout_s}s:\n{server.tail()}")
        try:
            url = f"http://{server.http}/v2/models/{pending[0]}/ready"
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    pending.pop(0)
                    continue
        except OSError:
            pass
        time.sleep(0.5)
    return server


def stop(server: Server) -> None:
    """SIGTERM the process we started (by its own pid), SIGKILL if it lingers."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


def serve(
    folder: Path,
    repository: Path,
    log: Path,
    ready: list[str],
    *flags: str,
    env: dict[str, str] | None = None,
) -> Server:
    """``modelplane serve FOLDER`` on free loopback ports, ``flags`` added (limits, ...)."""
    http_port, grpc_port = free_port(), free_port()
    args = [
        str(BIN / "modelplane"),
        "serve",
        str(folder),
        "--repository",
        str(repository),
        "--http-port",
        str(http_port),
        "--grpc-port",
        str(grpc_port),
        "--strict",
        *flags,
    ]
    return start_process(args, log, http_port, grpc_port, ready, env=env)


def start_transformer(
    predictor: Server, name: str, stage: str, triton_model: str, log: Path, *flags: str
) -> Server:
    """``modelplane-transformer`` as KServe starts it in front of ``predictor`` (Triton's
    protocol over gRPC), on free loopback ports, ``flags`` added (``--model-dir``, limits)."""
    http_port, grpc_port = free_port(), free_port()
    args = [
        str(BIN / "modelplane-transformer"),
        f"--model_name={name}",
        f"--stage={stage}",
        f"--triton-model={triton_model}",
        "--predictor_protocol=grpc-v2",
        f"--predictor_host={predictor.grpc}",
        f"--http_port={http_port}",
        f"--grpc_port={grpc_port}",
        *flags,
    ]
    return start_process(args, log, http_port, grpc_port, [name])
