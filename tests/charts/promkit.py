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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from chartkit import Docs, find

if TYPE_CHECKING:
    from serving.servers import Server


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
    """Prometheus scraping and evaluating every second, with the groups of every PrometheusRule
    in ``docs`` (the chart's, the operator's) as its rule file; returns once it answers
    ``/-/ready``."""
    groups = [group for rule in find(docs, "PrometheusRule") for group in rule["spec"]["groups"]]
    (folder / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
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


@contextmanager
def scraping(
    binary: str,
    folder: Path,
    docs: Docs,
    job: str,
    target: str,
    labels: Mapping[str, str],
    port: int | None = None,
) -> Iterator[str]:
    """A Prometheus scraping one ``target`` as ``job`` with the target ``labels`` a
    ServiceMonitor or PodMonitor gives it (namespace, pod, ...), rules from ``docs``; yields its
    URL and stops it on exit. ``port`` when a test must know it before the start."""
    port = port or free_port()
    scrape = {"job_name": job, "static_configs": [{"targets": [target], "labels": dict(labels)}]}
    process = start_prometheus(binary, folder, port, docs, [scrape])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@contextmanager
def pet_premium_served(
    repository: Path, folder: Path, ready: list[str], *flags: str
) -> Iterator[Server]:
    """``modelplane serve`` with the pet-premium example (breed -> premium) on free ports,
    ``flags`` added (``--predictors triton``); stopped on exit. The serving helpers are imported
    here, not at the top: the operator-scrape module runs without the inference extras."""
    from serving.servers import EXAMPLES, serve
    from serving.servers import stop as stop_server

    started = serve(EXAMPLES / "pet-premium.yaml", repository, folder / "serve.log", ready, *flags)
    try:
        yield started
    finally:
        stop_server(started)


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
