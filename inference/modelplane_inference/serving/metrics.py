"""Prometheus metrics of the local server, on KServe's ``/metrics`` (its default registry).

Where the local runner measures what Triton measures, the series carry Triton's names and labels
(``nv_inference_*``, label ``model`` and ``version``) so the operator's alerts, autoscaling query
and dashboards read a laptop exactly as they read a cluster. Triton exports them as plain
counters without the ``_total`` suffix that prometheus_client's ``Counter`` would add, so they are
kept in a small collector that writes the exact names.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)

REQUESTS = Counter("modelplane_requests", "Requests served, per model or pipeline.", ["model"])
REQUEST_ERRORS = Counter(
    "modelplane_request_errors",
    "Requests that failed, per model or pipeline and reason.",
    ["model", "reason"],
)
REQUEST_DURATION = Histogram(
    "modelplane_request_duration_seconds",
    "End-to-end request latency per model or pipeline.",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
BATCH_SIZE = Histogram(
    "modelplane_batch_size",
    "Rows per executed batch of the local runner (dynamic batching).",
    ["model"],
    buckets=BATCH_BUCKETS,
)
STEP_DURATION = Histogram(
    "modelplane_pipeline_step_duration_seconds",
    "Latency of each pipeline step.",
    ["pipeline", "step"],
    buckets=LATENCY_BUCKETS,
)
STEP_ERRORS = Counter(
    "modelplane_pipeline_step_errors", "Failed pipeline steps.", ["pipeline", "step"]
)
GATE_REJECTS = Counter(
    "modelplane_gate_rejects", "Photos the quality gate rejected, by reason.", ["model", "reason"]
)

TRITON_COUNTERS = {
    "nv_inference_request_success": "Number of successful inference requests, all batch sizes",
    "nv_inference_request_failure": "Number of failed inference requests, all batch sizes",
    "nv_inference_count": "Number of inferences performed (rows, not requests)",
    "nv_inference_exec_count": "Number of model executions performed (batches)",
    "nv_inference_request_duration_us": "Cumulative inference request duration in microseconds",
    "nv_inference_queue_duration_us": "Cumulative inference queuing duration in microseconds",
    "nv_inference_compute_infer_duration_us": "Cumulative compute inference duration in us",
}


class TritonCounters(Collector):
    """Triton's per-model counters, written with Triton's exact names (no ``_total``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str, str], float] = defaultdict(float)

    def add(self, name: str, model: str, version: str, value: float = 1.0) -> None:
        if name not in TRITON_COUNTERS:
            raise KeyError(name)
        with self._lock:
            self._values[(name, model, version)] += value

    def add_all(self, model: str, version: str, values: dict[str, float]) -> None:
        """Several counters of one model at once, under one lock (once per execution)."""
        unknown = values.keys() - TRITON_COUNTERS.keys()
        if unknown:
            raise KeyError(sorted(unknown))
        with self._lock:
            for name, value in values.items():
                self._values[(name, model, version)] += value

    def value(self, name: str, model: str, version: str = "1") -> float:
        with self._lock:
            return self._values.get((name, model, version), 0.0)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            values = dict(self._values)
        for name, doc in TRITON_COUNTERS.items():
            metric = Metric(name, doc, "unknown")
            for (series, model, version), value in sorted(values.items()):
                if series == name:
                    metric.add_sample(name, {"model": model, "version": version}, value)
            yield metric


TRITON = TritonCounters()
REGISTRY.register(TRITON)
