"""A request abandoned while it waits in the dynamic batcher must not take the model down.

Timeouts (504) and gRPC deadlines cancel the request's future while it is still queued; the
runner's worker thread must drop it and keep serving the requests after it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from modelplane_inference.runtime.repository import load_model_config
from modelplane_inference.runtime.runner import ModelRunner

INPUTS = ("breed", "age_years", "weight_kg", "sex", "neutered", "region")


def _features() -> dict[str, np.ndarray]:
    return {
        name: np.zeros(
            (1, 1), np.int64 if name in ("breed", "sex", "neutered", "region") else np.float32
        )
        for name in INPUTS
    }


def test_cancelled_while_queued_then_served(repository: Path) -> None:
    """Cancel two queued requests, then the next one is still answered by the same worker."""
    config = load_model_config(repository, "premium")
    batching = dataclasses.replace(
        config.batching, max_queue_delay_us=300_000, preferred_batch_sizes=()
    )
    # Triton's fixed delay holds the first request back while the two are cancelled.
    runner = ModelRunner(dataclasses.replace(config, batching=batching), batcher="fixed")
    try:
        abandoned = [runner.submit(_features()) for _ in range(2)]
        assert all(future.cancel() for future in abandoned)
        answer = runner.submit(_features()).result(timeout=30)
        assert answer["premium"].shape == (1, 1)
        assert runner._workers[0].is_alive()
        assert sum(runner.stats.batch_sizes) == 1  # the cancelled two were never computed
    finally:
        runner.close()
