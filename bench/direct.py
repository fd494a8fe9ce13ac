"""Baseline process: the same stage code in-process, ONNX Runtime called directly.

This is the "no platform" side of the serving-overhead ratio: the same decode, pre- and
post-processing (the stage classes of ``modelplane_inference``) on the same bytes, but the model
is a bare ``InferenceSession.run`` (no server, no protocol, no dynamic-batching queue). It runs in
its own process because KServe's and tritonclient's gRPC protos cannot share one.

Also measured here: the per-stage split of the document pipeline (decode, detection,
recognition, parse) and the plain ``rapidocr_onnxruntime.RapidOCR()`` call on the same documents.

    python -m bench.direct   # then JSON lines on stdin: {"kind": "measure", "target":
                             # "documents", "conc": 1, "n": 4}, {"kind": "split", "n": 4}, ...
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from modelplane_inference.runtime.repository import ModelConfig, load_model_config
from modelplane_inference.runtime.runner import Sessions, Tensors
from modelplane_inference.serving.manifests import load_manifests
from modelplane_inference.serving.pipeline import PipelineExecutor
from modelplane_inference.stages.base import Stage
from modelplane_inference.stages.documents import page_of
from modelplane_inference.stages.registry import STAGES

from bench.common import ROOT, Sample
from bench.inputs import PAGES, TARGETS

EXAMPLES = ROOT / "manifests" / "examples"
REPOSITORY = ROOT / "models" / "repository"
_RAPIDOCR: Any = None  # one engine for every round, as a user keeps one
Runner = Callable[[dict[str, Any]], Coroutine[Any, Any, Any]]


class DirectBackend:
    """``InferenceSession.run`` and nothing else, in a worker thread (ORT releases the GIL).

    ``cpu_s`` adds up the process CPU spent inside ``run`` (every model): the models' own
    compute when calls run one at a time (the document split), the floor of CPU per page.

    One model running one call at a time (a lock), as the server's model runs with
    ``instance_group count: 1``, with the server's thread policy (``runner.Sessions``: all
    cores for a call that runs alone, one thread under concurrency): the baseline gets the same
    compute, only the platform differs.
    """

    cpu_s = 0.0

    def __init__(self, config: ModelConfig, threads: int = 0) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.sessions = Sessions(str(config.onnx_path), threads)
        self.session = self.sessions.shared
        self.names = [o.name for o in self.session.get_outputs()]

    async def infer(self, inputs: Tensors) -> Tensors:
        values = await asyncio.to_thread(self._run, inputs)
        return dict(zip(self.names, values, strict=True))

    def _run(self, inputs: Tensors) -> list[Any]:
        with self.lock:
            started = time.process_time()
            try:
                return self.sessions.run(inputs)
            finally:
                DirectBackend.cpu_s += time.process_time() - started

    def close(self) -> None:
        """Nothing to release: the session goes with the process."""


def load_stages(folder: Path = EXAMPLES, repository: Path = REPOSITORY) -> dict[str, Stage]:
    """Every deployment of the examples as a stage over a :class:`DirectBackend`."""
    deployments, _ = load_manifests(folder)
    stages: dict[str, Stage] = {}
    for dep in deployments:
        if dep.stage not in STAGES:
            continue

        def factory(dep: Any = dep) -> DirectBackend:
            config = load_model_config(dep.repository(repository), dep.model, dep.version)
            return DirectBackend(config.with_batching(dep.batching))

        stage = STAGES[dep.stage](dep.name, dep.parameters, factory)
        stage.load()
        stages[dep.name] = stage
    return stages


def runner_for(target: str, stages: dict[str, Stage], folder: Path = EXAMPLES) -> Runner:
    """A pipeline executor for a ModelPipeline name, else the stage's ``run``."""
    _, pipelines = load_manifests(folder)
    for pipe in pipelines:
        if pipe.name == target:
            return PipelineExecutor(pipe.name, pipe.spec, stages).run
    return stages[target].run


async def closed_loop_async(run: Runner, inputs: tuple[bytes, ...], conc: int, n: int) -> Sample:
    """The async twin of ``common.closed_loop``: ``conc`` tasks, ``n`` items in all."""
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker() -> None:
        for index in counter:
            started = time.perf_counter()
            await run({"image": inputs[index % len(inputs)]})
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return latencies, time.perf_counter() - started


async def document_split(stages: dict[str, Stage], docs: tuple[bytes, ...], n: int) -> Any:
    """Milliseconds per document in each step, one document at a time (where the time goes)."""
    steps = {"decode": 0.0, "detection": 0.0, "recognition": 0.0, "parse": 0.0}
    detect, recognise = stages["doc-text-detection"], stages["doc-text-recognition"]
    parse = stages["doc-parse"]
    for index in range(n):
        item: dict[str, Any] = {"image": docs[index % len(docs)]}
        t0 = time.perf_counter()
        page_of(item, detect.max_pixels)
        t1 = time.perf_counter()
        found = await detect.run(item)
        t2 = time.perf_counter()
        lines = await recognise.run(found)
        t3 = time.perf_counter()
        await parse.run(lines)
        t4 = time.perf_counter()
        for key, spent in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            steps[key] += spent
    return {key: round(total / n * 1e3, 2) for key, total in steps.items()}


def rapidocr_baseline(docs: tuple[bytes, ...], n: int) -> Sample:
    """The plain ``RapidOCR()`` call (its own decode, detection, classifier, recognition)."""
    from rapidocr_onnxruntime import RapidOCR

    global _RAPIDOCR
    if _RAPIDOCR is None:
        _RAPIDOCR = RapidOCR()
    engine = _RAPIDOCR
    engine(docs[0])  # warm-up: first-call allocations are not throughput
    latencies = []
    started = time.perf_counter()
    for index in range(n):
        t0 = time.perf_counter()
        engine(docs[index % len(docs)])
        latencies.append(time.perf_counter() - t0)
    return latencies, time.perf_counter() - started


_RAPIDOCR_CLIENTS: list[Any] = []  # one engine per concurrent client, kept across rounds


def rapidocr_concurrent(docs: tuple[bytes, ...], conc: int, n: int) -> Sample:
    """``conc`` clients each with its own plain ``RapidOCR()`` (an engine is not shared between
    threads), ``n`` documents in a closed loop: the baseline at the served endpoint's
    concurrency, where its p99 includes the clients' contention for the same cores."""
    from rapidocr_onnxruntime import RapidOCR

    from bench.common import closed_loop

    while len(_RAPIDOCR_CLIENTS) < conc:
        engine = RapidOCR()
        engine(docs[0])  # warm-up
        _RAPIDOCR_CLIENTS.append(engine)
    engines = iter(_RAPIDOCR_CLIENTS[:conc])
    lock = threading.Lock()

    def make() -> Callable[[int], Any]:
        with lock:
            engine = next(engines)
        return lambda index: engine(docs[index % len(docs)])

    return closed_loop(make, conc, n)


class Baseline:
    """The stages loaded once; commands answered one JSON line each (see :func:`serve_stdin`)."""

    def __init__(self) -> None:
        self.stages = load_stages()
        self.runners: dict[str, Runner] = {}

    async def measure(self, target: str, conc: int, n: int) -> Sample:
        if target not in self.runners:
            self.runners[target] = runner_for(target, self.stages)
            await self.runners[target]({"image": TARGETS[target]()[0]})  # warm-up
        return await closed_loop_async(self.runners[target], TARGETS[target](), conc, n)

    async def command(self, request: dict[str, Any]) -> Any:
        kind = request["kind"]
        if kind == "measure":
            return await self.measure(request["target"], request["conc"], request["n"])
        pages = PAGES[request.get("pages", "documents")]()
        if kind == "split":
            return await document_split(self.stages, pages, request["n"])
        if kind == "preprocess":
            from bench import preprocess

            return preprocess.run(request["repeats"])
        if kind == "rapidocr":
            if request.get("conc", 1) > 1:
                return rapidocr_concurrent(pages, request["conc"], request["n"])
            return rapidocr_baseline(pages, request["n"])
        if kind == "models_cpu":  # CPU seconds inside the models so far (DirectBackend.cpu_s)
            return DirectBackend.cpu_s
        raise ValueError(f"unknown command {kind!r}")


async def serve_stdin() -> None:
    """Answer JSON commands from stdin on stdout, one line each, until stdin closes.

    A long-lived process lets the orchestrator interleave baseline and server rounds, so drift
    in a shared machine's load hits both sides of a ratio alike.
    """
    baseline = Baseline()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        result = await baseline.command(json.loads(line))
        print(json.dumps({"result": result}), flush=True)


def main() -> None:
    asyncio.run(serve_stdin())


if __name__ == "__main__":
    main()
