"""Batching policies of the local runner: how long a worker waits for more requests.

Requests queue; a worker takes the oldest and gathers more of the same per-row shape, never past
``max_batch_size`` or the oldest request's ``max_queue_delay_us``. Each policy is an object that
answers one question, :meth:`BatchingPolicy.wait_for_more` (seconds to block for the next
request, 0 to take only what is queued, ``None`` to execute now), from the batch so far and the
runner's observations (:class:`CostModel` of executions, :class:`Arrivals` of requests):

- :class:`AdaptiveBatching` (default): whatever is queued joins at once; with nothing queued it
  dispatches at once unless the next request is expected sooner than batching would pay back --
  the rows already waiting times the mean gap between arrivals is under the execution's fixed
  cost. BentoML's adaptive batching rule. Where the fit shows rows costing more in a batch than
  alone (a negative intercept), nothing is merged.
- :class:`FixedBatching`: Triton's dynamic batcher, the baseline: wait until the batch reaches a
  preferred size with nothing else queued or the oldest request has waited its delay.

``$MODELPLANE_BATCHER`` picks one (``adaptive`` or ``fixed``); :func:`batching_policy` builds it.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from modelplane_api.triton import Batching

BATCHER_ENV = "MODELPLANE_BATCHER"
BATCHERS = ("adaptive", "fixed")


class CostModel:
    """Execution seconds ~ fixed + per_unit * work, least squares over recent executions (older
    ones decay), so the batcher knows what one more execution costs beyond its work (the runner
    counts work as rows times elements per row)."""

    def __init__(self, decay: float = 0.97) -> None:
        self.decay = decay
        self.n = self.sx = self.sy = self.sxx = self.sxy = 0.0

    def add(self, work: float, seconds: float) -> None:
        d = self.decay
        self.n, self.sx, self.sy = self.n * d + 1, self.sx * d + work, self.sy * d + seconds
        self.sxx, self.sxy = self.sxx * d + work * work, self.sxy * d + work * seconds

    def _intercept(self) -> float | None:
        """The fitted intercept (negative where rows cost more in a batch than alone); None
        until two batch sizes have been seen."""
        spread = self.n * self.sxx - self.sx * self.sx
        if self.n == 0 or spread <= 1e-9 * self.sx * self.sx:  # one size: rounding only
            return None
        slope = (self.n * self.sxy - self.sx * self.sy) / spread
        return (self.sy - slope * self.sx) / self.n

    @property
    def fixed_s(self) -> float:
        """The intercept; with one batch size seen so far, a quarter of the mean execution."""
        if self.n == 0:
            return 0.0
        intercept = self._intercept()
        if intercept is None:
            return 0.25 * self.sy / self.n
        return max(0.0, intercept)

    @property
    def batching_pays(self) -> bool:
        """False once recent executions show a row costing more in a batch than alone (a
        negative intercept: on CPU, big inputs such as whole pages or wide text lines often
        do, their working set outgrowing the caches). Unknown counts as paying: batches are
        tried, and as old executions decay the question is asked again."""
        intercept = self._intercept()
        return intercept is None or intercept >= 0


@dataclass
class Arrivals:
    """Mean gap between requests (exponentially weighted), as the submitting threads see it."""

    gap_s: float | None = None
    last: float | None = None

    def add(self, now: float) -> None:
        if self.last is not None:
            gap = now - self.last
            self.gap_s = gap if self.gap_s is None else 0.8 * self.gap_s + 0.2 * gap
        self.last = now


def batcher_kind(kind: str | None = None) -> str:
    """``kind`` if given, else ``$MODELPLANE_BATCHER``, else adaptive; anything else raises."""
    kind = (kind or os.environ.get(BATCHER_ENV, "")).strip().lower() or "adaptive"
    if kind not in BATCHERS:
        raise ValueError(f"${BATCHER_ENV} must be one of {BATCHERS}, got {kind!r}")
    return kind


@dataclass(frozen=True)
class BatchState:
    """What a policy decides on: the batch so far and what the runner has observed."""

    rows: int  # rows gathered so far
    deadline: float  # perf_counter() time the oldest request must be dispatched by
    queued: bool  # another request is already waiting in the queue
    cost: CostModel
    arrivals: Arrivals


class BatchingPolicy(ABC):
    """How long a worker waits for more requests before it executes a batch."""

    name: ClassVar[str]

    @abstractmethod
    def wait_for_more(self, state: BatchState, batching: Batching) -> float | None:
        """Seconds to block for the next request (0: take only what is queued), None: go."""


class FixedBatching(BatchingPolicy):
    """Triton's dynamic batcher: a preferred size with nothing queued, or the delay, ends it."""

    name: ClassVar[str] = "fixed"

    def wait_for_more(self, state: BatchState, batching: Batching) -> float | None:
        if state.queued:
            return 0.0
        remaining = state.deadline - time.perf_counter()
        if state.rows in batching.preferred_batch_sizes or remaining <= 0:
            return None
        return remaining


class AdaptiveBatching(BatchingPolicy):
    """Wait only while the next request is due sooner than an execution's fixed cost."""

    name: ClassVar[str] = "adaptive"

    def wait_for_more(self, state: BatchState, batching: Batching) -> float | None:
        if not state.cost.batching_pays:
            return None  # one execution per request costs less than merging them
        if state.queued:
            return 0.0
        remaining = state.deadline - time.perf_counter()
        gap = state.arrivals.gap_s
        if remaining <= 0 or gap is None or state.rows * gap >= state.cost.fixed_s:
            return None
        return min(remaining, 2 * gap)


POLICIES: dict[str, type[BatchingPolicy]] = {
    policy.name: policy for policy in (AdaptiveBatching, FixedBatching)
}


def batching_policy(kind: str | None = None) -> BatchingPolicy:
    """The policy named by ``kind``, else by ``$MODELPLANE_BATCHER``, else adaptive."""
    return POLICIES[batcher_kind(kind)]()
