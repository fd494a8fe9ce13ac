"""Structured events and progress for long model builds.

Builds run in CI and in Kubernetes Jobs where nobody watches a terminal, so progress is reported
as events (``event`` plus fields such as ``step``/``total``) in the one log format of every
modelplane process (:mod:`modelplane_api.logs`, set up by the command line): JSON lines for log
shippers, ``--log-format plain`` for people at a terminal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOGGER_NAME = "modelplane_models"


def get(name: str) -> logging.Logger:
    """A child logger of the package logger (``modelplane_models.<name>``)."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}")


def event(logger: logging.Logger, name: str, **fields: Any) -> None:
    """Log one structured event; floats are rounded so lines stay short."""
    clean = {k: round(v, 5) if isinstance(v, float) else v for k, v in fields.items()}
    logger.info(name, extra={"fields": clean})


class Progress:
    """Step/total progress reporter that logs at most every ``every`` seconds (and at the end)."""

    def __init__(self, logger: logging.Logger, name: str, total: int, every: float = 5.0) -> None:
        self.logger, self.name, self.total, self.every = logger, name, total, every
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, step: int, **fields: Any) -> None:
        now = time.monotonic()
        if step < self.total and now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed / step * (self.total - step) if step else 0.0
        event(
            self.logger,
            self.name,
            step=step,
            total=self.total,
            elapsed_s=round(elapsed, 1),
            eta_s=round(eta, 1),
            **fields,
        )


@contextmanager
def timed(logger: logging.Logger, name: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """Log ``<name>.start``/``<name>.done`` with the duration; callers may add result fields."""
    result: dict[str, Any] = {}
    start = time.monotonic()
    event(logger, f"{name}.start", **fields)
    yield result
    event(logger, f"{name}.done", seconds=round(time.monotonic() - start, 2), **fields, **result)
