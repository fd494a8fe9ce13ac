"""Structured logging for long model builds.

Builds run in CI and in Kubernetes Jobs where nobody watches a terminal, so progress is reported
as one JSON object per line (``event`` plus fields such as ``step``/``total``) that log shippers
can parse; ``plain`` renders the same fields as ``key=value`` for people at a terminal.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOGGER_NAME = "modelplane_models"


class _Formatter(logging.Formatter):
    """Renders ``record.fields`` (set through :func:`event`) as JSON or logfmt."""

    def __init__(self, fmt: str) -> None:
        super().__init__()
        self.fmt = fmt

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        if self.fmt == "json":
            payload = {"ts": round(record.created, 3), "level": record.levelname.lower()}
            payload |= {"logger": record.name, "event": record.getMessage(), **fields}
            return json.dumps(payload, default=str, ensure_ascii=False)
        rendered = " ".join(f"{key}={value}" for key, value in fields.items())
        return f"{record.levelname.lower():5} {record.getMessage()} {rendered}".rstrip()


def setup(fmt: str = "json", level: int = logging.INFO) -> None:
    """Route this package's logs to stderr in ``fmt`` (``json`` or ``plain``)."""
    logger = logging.getLogger(LOGGER_NAME)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(fmt))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def get(name: str) -> logging.Logger:
    """A child logger of the package logger, so :func:`setup` configures all of them."""
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
