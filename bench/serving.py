"""Load against ``modelplane serve`` over REST and gRPC with tritonclient, as a Triton user.

The server is started exactly as the serving tests start it (``tests/serving/servers.py``: a
subprocess on free loopback ports, ready when every named model answers ready). Encoded images
go as BYTES, as stock clients send them with their defaults: raw over gRPC, and over REST with
Triton's binary data extension (``tritonclient.http``'s default; no base64).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
import yaml

from bench.common import ROOT, Sample, closed_loop, progress

sys.path.insert(0, str(ROOT / "tests"))
from serving.servers import Server, serve, stop

EXAMPLES = ROOT / "manifests" / "examples"
REPOSITORY = ROOT / "models" / "repository"
READY = ["car-claims", "documents", "pet-premium"]


def caller(server: Server, protocol: str, target: str, inputs: tuple[bytes, ...]) -> Any:
    """A factory of per-thread callers: one client per thread, one request per call."""

    def make() -> Callable[[int], Any]:
        if protocol == "grpc":
            client: Any = grpcclient.InferenceServerClient(server.grpc)
            module: Any = grpcclient
        else:
            client = httpclient.InferenceServerClient(server.http, network_timeout=300)
            module = httpclient
        payloads = [np.array([b], dtype=np.object_) for b in inputs]

        def call(index: int) -> Any:
            tensor = module.InferInput("image", [1], "BYTES")
            tensor.set_data_from_numpy(payloads[index % len(payloads)])  # the client's default
            result = client.infer(target, [tensor])
            return result.as_numpy("result")

        return call

    return make


def measure(
    server: Server, protocol: str, target: str, inputs: tuple[bytes, ...], conc: int, n: int
) -> Sample:
    make = caller(server, protocol, target, inputs)
    make()(0)  # warm-up: connection, first-call allocations
    progress(f"serve {protocol} {target} concurrency {conc} ({n} requests)")
    return closed_loop(make, conc, n)


def batching_off(folder: Path) -> Path:
    """A copy of the examples with ``maxBatchSize: 0`` everywhere (Triton without batching)."""
    target = folder / "examples-no-batching"
    target.mkdir()
    for path in sorted(EXAMPLES.glob("*.yaml")):
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        for doc in docs:
            if doc["kind"] == "ModelDeployment":
                doc["spec"]["batching"] = {"maxBatchSize": 0}
        (target / path.name).write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    return target


def model_of(target: str) -> str:
    """The repository model a target ModelDeployment of the examples serves."""
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] == "ModelDeployment" and doc["metadata"]["name"] == target:
                return str(doc["spec"]["model"]["name"])
    raise KeyError(target)


# The serving bench measures overhead with up to 16 closed-loop clients on one replica; a stage's
# default in-flight cap (spec.scaling.maxInFlight, 8 for the small models) would answer the rest
# 429, which is back-pressure working, not a serving figure (tests/reliability covers it).
BENCH_IN_FLIGHT = 64


def uncapped(examples: Path, folder: Path) -> Path:
    """A copy of ``examples`` (a folder or one file) with every ModelDeployment's in-flight cap
    raised to :data:`BENCH_IN_FLIGHT`."""
    target = folder / "examples"
    target.mkdir()
    for path in sorted(examples.glob("*.yaml")) if examples.is_dir() else [examples]:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        for doc in docs:
            if doc["kind"] == "ModelDeployment":
                doc["spec"].setdefault("scaling", {})["maxInFlight"] = BENCH_IN_FLIGHT
        (target / path.name).write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    return target


@contextmanager
def running(
    examples: Path = EXAMPLES, label: str = "serve", flags: tuple[str, ...] = ()
) -> Iterator[Server]:
    """``modelplane serve`` (with ``flags``) of ``examples`` with their in-flight caps raised
    (:func:`uncapped`), on free ports for the duration; its log kept in a temp folder while it
    runs."""
    folder = Path(tempfile.mkdtemp(prefix="modelplane-bench-"))
    progress(f"starting modelplane serve ({label})")
    server = serve(uncapped(examples, folder), REPOSITORY, folder / "serve.log", READY, *flags)
    try:
        yield server
    finally:
        stop(server)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def running_examples(
    files: tuple[str, ...], ready: list[str], parameters: dict[str, dict[str, str]] | None = None
) -> Iterator[Server]:
    """``modelplane serve`` of some of the example manifests, as shipped (a bench of one
    pipeline does not need the others' models built, nor their load on the machine);
    ``parameters`` (stage -> name -> value) are set on that stage's deployments."""
    folder = Path(tempfile.mkdtemp(prefix="modelplane-bench-"))
    wanted = parameters or {}
    try:
        for name in files:
            docs = [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]
            for doc in docs:
                stage = doc.get("spec", {}).get("stage")
                if doc["kind"] == "ModelDeployment" and stage in wanted:
                    doc["spec"].setdefault("parameters", {}).update(wanted[stage])
            (folder / name).write_text(yaml.safe_dump_all(docs), encoding="utf-8")
        progress(f"starting modelplane serve ({', '.join(ready)})")
        server = serve(folder, REPOSITORY, folder / "serve.log", ready)
        try:
            yield server
        finally:
            stop(server)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def running_with_fixed_batcher() -> Iterator[Server]:
    """The same examples, batched by Triton's rule (fixed queue delay): the batcher baseline."""
    previous = os.environ.get("MODELPLANE_BATCHER")
    os.environ["MODELPLANE_BATCHER"] = "fixed"  # the server subprocess inherits it
    try:
        with running(label="serve, fixed-delay batcher") as server:
            yield server
    finally:
        if previous is None:
            os.environ.pop("MODELPLANE_BATCHER", None)
        else:
            os.environ["MODELPLANE_BATCHER"] = previous


@contextmanager
def running_without_batching() -> Iterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="modelplane-bench-"))
    try:
        with running(batching_off(folder), "serve, batching off") as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)
