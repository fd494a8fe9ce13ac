"""The operator's own Prometheus metrics (served on ``Config.metrics_port``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from modelplane_operator.status import Phase

RECONCILES = Counter(
    "modelplane_operator_reconciles_total",
    "Reconciles by kind and result (ok, spec_error, retry, error).",
    ["kind", "result"],
)
RECONCILE_SECONDS = Histogram(
    "modelplane_operator_reconcile_duration_seconds",
    "Wall time of one reconcile, API calls included.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RESOURCES_BY_PHASE = Gauge(
    "modelplane_operator_resources",
    "Custom resources the operator last saw, by kind and phase.",
    ["kind", "phase"],
)


class PhaseBook:
    """Remembers each CR's last phase so the by-phase gauge is a count, not a counter; a
    deleted CR is recorded with phase None and leaves the count (and the book)."""

    def __init__(self) -> None:
        self._phases: dict[tuple[str, str, str], Phase] = {}

    def __len__(self) -> int:
        return len(self._phases)

    def record(self, kind: str, namespace: str, name: str, phase: Phase | None) -> None:
        key = (kind, namespace, name)
        if phase is None:
            self._phases.pop(key, None)
        else:
            self._phases[key] = phase
        counts: dict[Phase, int] = {}
        for (k, _, _), p in self._phases.items():
            if k == kind:
                counts[p] = counts.get(p, 0) + 1
        for p in Phase:
            RESOURCES_BY_PHASE.labels(kind, p.value).set(counts.get(p, 0))
