"""One log format for every modelplane process, and the two flags that choose it.

The operator, the model servers, the transformers and the model builds run side by side, and one
log pipeline (Loki, Elasticsearch, ``jq`` on a laptop) reads them all: if one process writes
``ts`` and another ``time``, every query needs both spellings. So every process logs through
:func:`setup` and each JSON line has the keys :data:`KEYS` first, then the record's own fields
(``extra=`` of the call, or the ``fields`` dict of :mod:`modelplane_models.log`), then
``exception`` when there is one. ``plain`` renders the same fields for people at a terminal.

Frameworks' records (kopf, KServe, uvicorn) go through the same root handler, so they share the
format; the attributes they attach for their own machinery are dropped or renamed here.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import sys
from typing import Any, TextIO

KEYS = ("time", "level", "logger", "event")
FORMATS = ("json", "plain")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
HANDLER_NAME = "modelplane"

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Attributes frameworks put on records for their own handlers: None drops one, a string renames
# it. kopf: the operator's settings and its event-posting flag (internal), the object a record
# is about (kept as ``object``); uvicorn: an ANSI-coloured copy of the message.
_FRAMEWORK: dict[str, str | None] = {
    "settings": None,
    "k8s_skip": None,
    "k8s_ref": "object",
    "color_message": None,
}


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a call attached to ``record``, beyond what every record has."""
    out: dict[str, Any] = {}
    for key, value in vars(record).items():
        if key in _STANDARD or key.startswith("_"):
            continue
        if key == "fields" and isinstance(value, dict):
            out.update(value)
            continue
        renamed = _FRAMEWORK.get(key, key)
        if renamed is not None:
            out[renamed] = value
    return out


def _time(record: logging.LogRecord) -> str:
    """RFC 3339 in UTC with milliseconds: sortable, and the same in every time zone."""
    stamp = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``event``, then fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in record_fields(record).items():
            payload.setdefault(key, value)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """The same content for a terminal: ``time level logger: event key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in record_fields(record).items())
        line = f"{_time(record)} {record.levelname.lower():7} {record.name}: {record.getMessage()}"
        line = f"{line} {fields}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter(fmt: str) -> logging.Formatter:
    """The formatter for ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, got {fmt!r}")
    return JsonFormatter() if fmt == "json" else PlainFormatter()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes, not when it was created: a
    command's ``main`` called in-process (tests) must not keep a stream that was swapped out."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def setup(fmt: str = "json", level: str | int = "INFO", stream: TextIO | None = None) -> None:
    """Route every logger's records to stderr (or ``stream``) in ``fmt``, at ``level`` and up.

    The handler sits on the root logger, so frameworks that propagate (kopf, uvicorn, KServe,
    which leaves logging alone once the root has a handler) use it too. Calling it again
    replaces the earlier handler; handlers others added (pytest's capture) are kept.
    """
    handler = logging.StreamHandler(stream) if stream else _StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != HANDLER_NAME] + [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)


def add_arguments(parser: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    """``--log-format`` and ``--log-level``, the same on every modelplane command.

    With ``defaults=False`` (a sub-command's parser) the flags only override what the main
    parser already set, so both ``cmd --log-level DEBUG sub`` and ``cmd sub --log-level DEBUG``
    work.
    """
    group = parser.add_argument_group("logging")
    group.add_argument(
        "--log-format",
        choices=FORMATS,
        default="json" if defaults else argparse.SUPPRESS,
        help="json: one object per line with the keys time, level, logger, event (default);"
        " plain: the same for a terminal",
    )
    group.add_argument(
        "--log-level",
        type=str.upper,
        choices=LEVELS,
        default="INFO" if defaults else argparse.SUPPRESS,
        help="lowest level logged (default INFO)",
    )


def setup_from_args(args: argparse.Namespace) -> None:
    """:func:`setup` with the values of :func:`add_arguments`' flags."""
    setup(args.log_format, args.log_level)
