"""Local model runner: one ONNX Runtime session per model, behind dynamic batching.

Requests are validated in the caller's thread and queue; a worker takes the oldest and gathers
more of the same per-row shape, never past ``max_batch_size`` or the oldest request's
``max_queue_delay_us``. How long it waits is the batching policy's call, an object
(``runtime/batching.py``: ``AdaptiveBatching``, the default, or Triton's ``FixedBatching``,
picked by ``$MODELPLANE_BATCHER``); the runner records what policies read (execution costs,
arrival gaps). One worker thread per model instance
(``instance_group count``). ONNX Runtime releases the GIL, so workers run truly in parallel with
the event loop. Triton's counters (queue and compute microseconds, executions) are kept under
Triton's names so local numbers read like cluster numbers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnxruntime as ort

from modelplane_inference.errors import RunnerInputError
from modelplane_inference.runtime.batching import (
    BATCHER_ENV,
    BATCHERS,
    Arrivals,
    BatchState,
    CostModel,
    batcher_kind,
    batching_policy,
)
from modelplane_inference.runtime.repository import ModelConfig
from modelplane_inference.serving.metrics import BATCH_SIZE, TRITON

log = logging.getLogger(__name__)
Tensors = dict[str, np.ndarray]
ORT_DTYPES: dict[str, type[np.generic]] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


PROVIDERS_ENV = "MODELPLANE_ORT_PROVIDERS"
__all__ = ["BATCHERS", "BATCHER_ENV", "CostModel", "ModelRunner", "RunnerStats", "batcher_kind"]


@dataclass
class _Pending:
    inputs: Tensors
    rows: int
    key: tuple[Any, ...]
    enqueued: float = field(default_factory=time.perf_counter)
    future: Future[Tensors] = field(default_factory=Future)


@dataclass(frozen=True)
class _InputSpec:
    """One model input as ONNX Runtime declares it, read once: asking the session per request
    builds new NodeArg objects every time (a tenth of a small model's server overhead)."""

    name: str
    dtype: type[np.generic] | None
    shape: tuple[int, ...]  # -1 where any size is allowed


@dataclass(frozen=True)
class ModelInputs:
    """What a request must hold for one model; checked in the caller's thread, so a bad
    request is a 400 (``RunnerInputError``) before it reaches a batch."""

    model: str
    specs: tuple[_InputSpec, ...]
    max_batch_size: int

    @classmethod
    def of(cls, session: ort.InferenceSession, config: ModelConfig) -> ModelInputs:
        specs = tuple(
            _InputSpec(
                meta.name,
                ORT_DTYPES.get(meta.type),
                tuple(d if isinstance(d, int) else -1 for d in meta.shape),
            )
            for meta in session.get_inputs()
        )
        return cls(config.name, specs, config.batching.max_batch_size)

    def check(self, inputs: Tensors) -> tuple[int, tuple[Any, ...]]:
        """Validate names, dtypes and shapes; return (rows, batching key)."""
        batched = self.max_batch_size > 0
        rows: set[int] = set()
        key: list[Any] = []
        for spec in self.specs:
            if spec.name not in inputs:
                raise RunnerInputError(f"model {self.model}: missing input {spec.name!r}")
            array = inputs[spec.name]
            if spec.dtype is not None and array.dtype != spec.dtype:
                raise RunnerInputError(
                    f"model {self.model}: input {spec.name!r} is {array.dtype}, "
                    f"expected {np.dtype(spec.dtype)}"
                )
            if len(array.shape) != len(spec.shape) or any(
                d not in (-1, s) for d, s in zip(spec.shape, array.shape, strict=True)
            ):
                raise RunnerInputError(
                    f"model {self.model}: input {spec.name!r} has shape "
                    f"{list(array.shape)}, expected {list(spec.shape)} (-1 = any)"
                )
            if batched:
                rows.add(array.shape[0])
            key.append((spec.name, array.dtype.str, array.shape[1:] if batched else array.shape))
        if len(rows) > 1:
            raise RunnerInputError(f"model {self.model}: inputs disagree on batch size")
        n = rows.pop() if rows else 1
        limit = self.max_batch_size
        if batched and n > limit:
            raise RunnerInputError(
                f"model {self.model}: batch of {n} exceeds max_batch_size {limit}"
            )
        return n, tuple(key)


@dataclass
class RunnerStats:
    """Executed batch sizes, for tests and benchmarks that must see batching happen."""

    batch_sizes: list[int] = field(default_factory=list)

    @property
    def executions(self) -> int:
        return len(self.batch_sizes)


def session_options(threads: int) -> ort.SessionOptions:
    """ORT options: ``threads`` intra-op threads (0 = ORT's default), quiet logs. Idle pool
    threads sleep instead of spinning: on a shared machine spinning threads burn the cores
    that other sessions and requests need."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if threads != 1:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class Sessions:
    """One model's ONNX Runtime sessions, with the intra-op threads chosen per execution.

    ``threads`` > 0 is that many threads, always. 0 (auto) keeps two sessions: one thread per
    core for an execution that runs alone in this process (a single caller gets every core,
    as plain ``RapidOCR()`` does), one thread while other executions are in flight (requests
    and models then overlap across cores, without thread pools competing for them).
    """

    _running = 0  # executions in flight in this process, every model
    _lock = threading.Lock()

    def __init__(self, path: str, threads: int = 0) -> None:
        providers = execution_providers()
        self.shared = ort.InferenceSession(
            path, session_options(max(threads, 1)), providers=providers
        )
        cores = os.cpu_count() or 1
        self.solo = (
            ort.InferenceSession(path, session_options(cores), providers=providers)
            if threads == 0 and cores > 1
            else None
        )
        self.solo_runs = 0

    def run(self, feed: Tensors) -> list[Any]:
        with Sessions._lock:
            alone = Sessions._running == 0
            Sessions._running += 1
        try:
            if alone and self.solo is not None:
                self.solo_runs += 1
                return list(self.solo.run(None, feed))
            return list(self.shared.run(None, feed))
        finally:
            with Sessions._lock:
                Sessions._running -= 1


def execution_providers() -> list[str]:
    """ONNX Runtime providers, best first: CUDA when this ORT build has it, then CPU.

    TensorRT's provider builds an engine while the session is created (minutes for the
    detector; docs/architecture.md: never at pod start), so it is used only when named in
    ``$MODELPLANE_ORT_PROVIDERS`` (comma-separated, e.g. ``TensorrtExecutionProvider,
    CUDAExecutionProvider``); names this ORT build lacks are dropped, CPU always comes last.
    """
    wanted = [p.strip() for p in os.environ.get(PROVIDERS_ENV, "").split(",") if p.strip()]
    available = ort.get_available_providers()
    chosen = [p for p in wanted or ["CUDAExecutionProvider"] if p in available]
    return [*(p for p in chosen if p != "CPUExecutionProvider"), "CPUExecutionProvider"]


class ModelRunner:
    """Runs one model of the repository with dynamic batching; ``infer`` is awaitable."""

    def __init__(self, config: ModelConfig, threads: int = 0, batcher: str | None = None) -> None:
        self.config = config
        self.stats = RunnerStats()
        self.policy = batching_policy(batcher)
        self.batcher = self.policy.name
        # Observations every policy may read: the cost of executions, the gaps between requests.
        self.cost = CostModel()
        self.arrivals = Arrivals()
        self.sessions = Sessions(str(config.onnx_path), threads)
        self.session = self.sessions.shared  # names, types and metadata
        self.inputs = ModelInputs.of(self.session, config)
        self._inputs = self.inputs.specs
        self.output_names = [o.name for o in self.session.get_outputs()]
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._held: list[_Pending] = []
        self._lock = threading.Lock()
        self._workers = [
            threading.Thread(target=self._work, name=f"runner-{config.name}-{i}", daemon=True)
            for i in range(max(1, config.batching.instance_count))
        ]
        for worker in self._workers:
            worker.start()
        log.info(
            "model loaded",
            extra={
                "model": config.name,
                "version": config.version,
                "batching": str(config.batching),
                "providers": ",".join(self.session.get_providers()),
            },
        )

    def close(self) -> None:
        for _ in self._workers:
            self._queue.put(None)

    def submit(self, inputs: Tensors) -> Future[Tensors]:
        """Queue a request (validated now, in the caller's thread) and return its future."""
        rows, key = self.inputs.check(inputs)
        pending = _Pending(inputs=inputs, rows=rows, key=key)
        self.arrivals.add(pending.enqueued)
        self._queue.put(pending)
        return pending.future

    async def infer(self, inputs: Tensors) -> Tensors:
        return await asyncio.wrap_future(self.submit(inputs))

    def infer_sync(self, inputs: Tensors) -> Tensors:
        return self.submit(inputs).result()

    def _next(self, timeout: float | None) -> _Pending | None:
        """Take a held-back request first (another shape that could not join), then the queue."""
        with self._lock:
            if self._held:
                return self._held.pop(0)
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def _gather(self, first: _Pending) -> list[_Pending]:
        """Grow a batch from ``first`` while :meth:`_wait_for_more` says so."""
        b = self.config.batching
        batch, rows = [first], first.rows
        if b.max_batch_size <= 0:
            return batch
        deadline = first.enqueued + b.max_queue_delay_us / 1e6
        while rows < b.max_batch_size:
            wait = self._wait_for_more(rows, deadline)
            if wait is None:
                break
            try:
                item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)
                break
            if item.key != first.key or rows + item.rows > b.max_batch_size:
                with self._lock:
                    self._held.append(item)
                if item.key != first.key:
                    continue
                break
            batch.append(item)
            rows += item.rows
        return batch

    def _wait_for_more(self, rows: int, deadline: float) -> float | None:
        """Seconds to block for the next request (0: take only what is queued), None: go;
        the batching policy decides (runtime/batching.py)."""
        state = BatchState(rows, deadline, not self._queue.empty(), self.cost, self.arrivals)
        return self.policy.wait_for_more(state, self.config.batching)

    def _work(self) -> None:
        while True:
            first = self._next(timeout=None)
            if first is None:
                return
            batch = self._gather(first)
            self._execute(batch)

    def _execute(self, batch: list[_Pending]) -> None:
        # A request cancelled while queued (timeout, gRPC deadline) is dropped here; the rest
        # are marked running so a late cancel cannot make ``set_result`` kill this worker.
        batch = [item for item in batch if item.future.set_running_or_notify_cancel()]
        if not batch:
            return
        name, version = self.config.name, self.config.version
        started = time.perf_counter()
        queued_us = sum(started - item.enqueued for item in batch) * 1e6
        try:
            outputs = self._run([item.inputs for item in batch])
        except Exception as exc:
            log.exception("model execution failed", extra={"model": name})
            count_failure(name, version, len(batch), queued_us)
            for item in batch:
                item.future.set_exception(exc)
            return
        done = time.perf_counter()
        rows = sum(item.rows for item in batch)
        self.cost.add(rows * self._row_size(batch[0]), done - started)
        self.stats.batch_sizes.append(rows)
        count_success(name, version, rows, [item.enqueued for item in batch], started, done)
        batched = self.config.batching.max_batch_size > 0
        offset = 0
        for item in batch:
            part = (
                {k: v[offset : offset + item.rows] for k, v in outputs.items()}
                if batched
                else outputs
            )
            offset += item.rows
            item.future.set_result(part)

    def _row_size(self, item: _Pending) -> int:
        """Elements per row of the first input: batches of different shapes (text lines of
        different widths) meet in one cost model as work, not as rows."""
        array = item.inputs[self._inputs[0].name]
        return max(1, array.size // max(1, item.rows))

    def _run(self, requests: list[Tensors]) -> Tensors:
        names = [spec.name for spec in self._inputs]
        if len(requests) == 1:
            feed = {n: requests[0][n] for n in names}
        else:
            feed = {n: np.concatenate([r[n] for r in requests], axis=0) for n in names}
        values = self.sessions.run(feed)
        return dict(zip(self.output_names, values, strict=True))


def count_failure(name: str, version: str, requests: int, queued_us: float) -> None:
    """Triton's counters for a failed execution."""
    TRITON.add_all(
        name,
        version,
        {"nv_inference_queue_duration_us": queued_us, "nv_inference_request_failure": requests},
    )


def count_success(
    name: str, version: str, rows: int, enqueued: list[float], started: float, done: float
) -> None:
    """Triton's counters (and the batch-size histogram) for one execution of ``rows`` rows made
    of requests queued at ``enqueued``, run from ``started`` to ``done``."""
    BATCH_SIZE.labels(model=name).observe(rows)
    TRITON.add_all(
        name,
        version,
        {
            "nv_inference_queue_duration_us": sum(started - t for t in enqueued) * 1e6,
            "nv_inference_exec_count": 1,
            "nv_inference_count": rows,
            "nv_inference_compute_infer_duration_us": (done - started) * 1e6,
            "nv_inference_request_success": len(enqueued),
            "nv_inference_request_duration_us": sum(done - t for t in enqueued) * 1e6,
        },
    )
