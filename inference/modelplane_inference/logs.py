"""Structured logs: one JSON object per line, with the ``extra=`` fields of each call.

Log collectors in the cluster (and ``jq`` on a laptop) then filter on ``model``, ``pipeline`` or
``error`` without parsing prose.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure(level: str = "INFO") -> None:
    """JSON lines on stderr for modelplane's loggers; KServe keeps its own format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("modelplane_inference")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
