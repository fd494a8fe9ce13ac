"""A real Prometheus on loopback for the chart tier: start it, query it, wait for it.

Shared by the modules that scrape a live process (the operator's metrics, ``modelplane serve``)
so each one only says what it scrapes and what it expects.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from chartkit import Docs, find


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM the process we started (by its own handle), SIGKILL if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_prometheus(
    binary: str, folder: Path, port: int, docs: Docs, scrape_configs: list[dict[str, Any]]
) -> subprocess.Popen[str]:
    """Prometheus scraping and evaluating every second, with the chart's PrometheusRule groups
    (from rendered ``docs``) as its rule file; returns once it answers ``/-/ready``."""
    (rule,) = find(docs, "PrometheusRule")
    (folder / "rules.yaml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(folder / "rules.yaml")],
        "scrape_configs": scrape_configs,
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/-/ready")
    except OSError:
        stop(process)
        raise
    return process


def query(url: str, promql: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(
        f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": promql}), timeout=5
    ) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def rules(url: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Every loaded rule with its health, last evaluation and (alerts) active instances."""
    suffix = f"?type={kind}" if kind else ""
    with urllib.request.urlopen(f"{url}/api/v1/rules{suffix}", timeout=5) as response:
        groups = json.load(response)["data"]["groups"]
    return [r for g in groups for r in g["rules"]]


def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll until ``check`` returns something truthy (scrapes and rules run 1 s apart)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)
