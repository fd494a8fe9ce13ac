"""``modelplane_api.logs``: what a record's extra fields become in the one log format."""

from __future__ import annotations

import io
import json
import logging

import pytest
from modelplane_api import logs


def _record(**extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "modelplane_operator", "msg": "reconciled %s"})
    record.args, record.levelname, record.created = ("gate",), "INFO", 1767225600.25
    record.__dict__.update(extra)
    return record


def test_json_line_keys_fields_and_framework_attributes() -> None:
    ref = {"kind": "ModelDeployment", "namespace": "claims", "name": "gate"}
    record = _record(
        deployment="gate",
        fields={"step": 3, "total": 9},  # modelplane_models.log.event's fields
        settings=object(),  # kopf's OperatorSettings: internal
        k8s_skip=False,
        k8s_ref=ref,
        color_message="\x1b[1mreconciled\x1b[0m",  # uvicorn's coloured copy
    )
    line = json.loads(logs.JsonFormatter().format(record))
    assert line == {
        "time": "2026-01-01T00:00:00.250Z",
        "level": "info",
        "logger": "modelplane_operator",
        "event": "reconciled gate",
        "deployment": "gate",
        "step": 3,
        "total": 9,
        "object": ref,
    }


def test_plain_line_has_the_same_content() -> None:
    line = logs.PlainFormatter().format(_record(deployment="gate"))
    assert (
        line
        == "2026-01-01T00:00:00.250Z info    modelplane_operator: reconciled gate deployment=gate"
    )


def test_setup_replaces_its_own_handler_and_applies_level() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        logs.setup("plain", "warning")
        logs.setup("json", "debug", stream=stream)
        ours = [h for h in root.handlers if h.get_name() == logs.HANDLER_NAME]
        assert len(ours) == 1 and root.level == logging.DEBUG
        logging.getLogger("kopf.objects").debug("watching")
        assert json.loads(stream.getvalue())["event"] == "watching"
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="json"):
        logs.formatter("xml")
