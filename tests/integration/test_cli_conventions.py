"""One command-line convention and one log format, checked on the installed console scripts.

Each script of ``[project.scripts]`` runs as its own process, as a user or a pod runs it: a bad
flag is a usage error (exit status 2, the usage line on stderr, which shows ``--log-format`` and
``--log-level``); a well-formed call that cannot work is a failure (exit status 1). The JSON log
lines of the operator (kopf's own records included), ``modelplane serve`` (KServe's and
uvicorn's included), ``modelplane-models`` and ``modelplane-build-engine`` all start with the
same keys.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from processes import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])
BIN = Path(sys.executable).parent
KEYS = ["time", "level", "logger", "event"]
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def run(*argv: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """One console script, to completion (every call here ends on its own within seconds)."""
    return subprocess.run(
        [str(BIN / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
        env={**os.environ, **env},
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of a log; a line that is not a JSON object fails the test."""
    lines = []
    for line in text.splitlines():
        record = json.loads(line)
        assert isinstance(record, dict), line
        lines.append(record)
    return lines


def assert_format(records: list[dict[str, Any]]) -> None:
    assert records, "no log line"
    for record in records:
        assert list(record)[:4] == KEYS, record
        assert RFC3339_MS.match(record["time"]), record
        assert record["level"] in {"debug", "info", "warning", "error", "critical"}, record


# One bad call per script: values argparse cannot check by itself (a JSON flag, KEY=VALUE, a
# limit, a folder, a shape) are usage errors too, not failures (they used to exit 1).
BAD_CALLS = [
    ["modelplane-operator", "--log-level", "LOUD"],
    ["modelplane", "serve", "manifests/examples", "--max-batch", "0"],
    ["modelplane", "predict", "documents", "x.png", "--features", "{not json"],
    ["modelplane-models", "train", "breed", "--data", "/nonexistent/photos"],
    ["modelplane-build-engine", "--onnx", "m.onnx", "--output", "m.plan", "--shape", "x:1"],
    [
        "modelplane-stage",
        "--stage",
        "breed",
        "--model_name",
        "b",
        "--model-dir",
        ".",
        "--param",
        "k",
    ],
    ["modelplane-transformer", "--stage", "breed", "--model_name", "b", "--triton-model", "b"],
    ["modelplane-bundle", "--no-such-flag"],
]


def test_every_script_has_a_bad_call() -> None:
    """Guard the parametrisation: every script pyproject installs is covered below."""
    assert {argv[0] for argv in BAD_CALLS} == set(SCRIPTS)


@pytest.mark.parametrize("argv", BAD_CALLS, ids=lambda argv: argv[0] + ":" + argv[-1])
def test_bad_calls_are_usage_errors_and_log_flags_exist(argv: list[str]) -> None:
    done = run(*argv, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert f"usage: {argv[0]}" in done.stderr
    assert "--log-format {json,plain}" in done.stderr
    assert "--log-level {DEBUG,INFO,WARNING,ERROR,CRITICAL}" in done.stderr


def test_build_engine_failure_is_one_json_line(tmp_path: Path) -> None:
    done = run("modelplane-build-engine", "--onnx", str(tmp_path / "none.onnx"), "--output", "p")
    assert done.returncode == 1
    (record,) = json_lines(done.stderr)
    assert_format([record])
    assert record["level"] == "error" and "no ONNX file" in record["error"]


def test_models_failure_is_a_json_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "photos" / "accept").mkdir(parents=True)
    done = run(
        "modelplane-models",
        "train",
        "quality-gate",
        "--data",
        str(tmp_path / "photos"),
        "--output",
        str(tmp_path / "repo"),
    )
    assert done.returncode == 1, done.stderr
    records = json_lines(done.stderr)
    assert_format(records)
    assert records[-1]["logger"] == "modelplane_models.cli"
    assert "no images for class 'accept'" in records[-1]["error"]


def read_until(process: subprocess.Popen[bytes], log: Path, marker: str) -> str:
    """The log ``process`` writes to ``log`` up to a line containing ``marker``; then stop it."""
    deadline = time.monotonic() + 90
    try:
        while marker not in log.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    text = log.read_text()
    assert marker in text, text[-3000:]
    return text


def start(argv: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    """A console script in the background, its stderr (the log) going to ``log``."""
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [str(BIN / argv[0]), *argv[1:]],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, **env},
        )


def test_serve_logs_kserve_and_uvicorn_in_the_same_format(tmp_path: Path) -> None:
    """``modelplane serve`` of an empty folder starts KServe and uvicorn: all one format."""
    (tmp_path / "empty").mkdir()
    ports = ["--http-port", str(free_port()), "--grpc-port", str(free_port())]
    log = tmp_path / "serve.log"
    process = start(["modelplane", "serve", str(tmp_path / "empty"), *ports], log)
    records = json_lines(read_until(process, log, "Uvicorn running on"))
    assert_format(records)
    loggers = {r["logger"] for r in records}
    assert {"modelplane_inference.serving.server", "kserve", "uvicorn.error"} <= loggers, loggers
    assert not any("color_message" in r for r in records)


def test_operator_logs_kopf_records_in_the_same_format(tmp_path: Path) -> None:
    """kopf's own records ('Activity ... succeeded') share the operator's format and keys."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\n"
    )
    argv = ["modelplane-operator", "-n", "claims", "--metrics-port=0"]
    log = tmp_path / "operator.log"
    process = start([*argv, f"--health-port={free_port()}"], log, KUBECONFIG=str(kubeconfig))
    records = json_lines(read_until(process, log, "Activity 'login' succeeded"))
    assert_format(records)
    loggers = {r["logger"] for r in records}
    assert "modelplane_operator" in loggers and any(n.startswith("kopf.") for n in loggers)
    assert not any("settings" in r or "k8s_skip" in r for r in records)
