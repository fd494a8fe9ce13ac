"""Operator bench: the real ``modelplane-operator`` process against kmock's emulator on loopback.

- create-to-InferenceService latency: ModelDeployments created one by one; the time from the
  API server's answer to the create until the InferenceService appears in the emulator;
- wall time and peak memory to reconcile many at once: all created by 16 concurrent clients,
  timed until every one has its InferenceService; the operator's peak RSS (``VmHWM``) read from
  /proc before it stops, against its RSS after start-up.

Baseline in the same run: the API server alone — the time the same client needs to POST the
same number of InferenceService-sized objects to the emulator, the floor the operator cannot
beat.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.common import ROOT, percentile, progress, ratio

sys.path.insert(0, str(ROOT / "tests"))
import aiohttp.web
import kmock
from helpers import NAMESPACE, make_deployment
from kube import ISVC, ApiServer, call, create, declare_resources, stored, write_kubeconfig
from typing_extensions import override

POLL_S = 0.005
FLOOR_NAMESPACE = "bench-floor"


class BenchApiServer(ApiServer):
    """The tests' emulator without its request history.

    kmock records every request and matches each new one against its reactions by scanning that
    history, so a run of thousands of objects gets quadratically slower in the emulator, not in
    the operator. Only the request being handled is kept (kmock needs it for the match).
    """

    @override
    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        del self._requests[:-1]
        return await super()._handle(request)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int, field: str) -> int:
    """``VmRSS`` / ``VmHWM`` (peak) of a process, in KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


@asynccontextmanager
async def cluster_and_operator() -> AsyncIterator[tuple[Any, subprocess.Popen[bytes]]]:
    """The emulator in this loop and ``modelplane-operator -n claims`` as its own process."""
    folder = Path(tempfile.mkdtemp(prefix="modelplane-bench-op-"))
    async with BenchApiServer() as emulator, kmock.Server(emulator):
        declare_resources(emulator)
        command = shutil.which("modelplane-operator", path=str(Path(sys.executable).parent))
        if command is None:
            raise RuntimeError("modelplane-operator is not installed (pip install -e .[operator])")
        env = {**os.environ, "KUBECONFIG": str(write_kubeconfig(str(emulator.url), folder))}
        log = (folder / "operator.log").open("wb")
        process = subprocess.Popen(
            [
                command,
                "-n",
                NAMESPACE,
                "--log-format=plain",
                f"--health-port={free_port()}",
                f"--metrics-port={free_port()}",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            await warm_up(emulator)
            yield emulator, process
        except BaseException:
            log.flush()
            tail = (folder / "operator.log").read_text(errors="replace")[-3000:]
            progress(f"operator log (tail):\n{tail}")
            raise
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()
            shutil.rmtree(folder, ignore_errors=True)


async def warm_up(emulator: Any) -> None:
    """One deployment through end to end: the operator is watching once it is rendered."""
    await create(emulator, make_deployment("warm-up"))
    await wait_for(emulator, ["warm-up"], timeout=60)


async def wait_for(emulator: Any, names: list[str], timeout: float) -> dict[str, float]:
    """perf_counter time at which each name's InferenceService was first seen."""
    seen: dict[str, float] = {}
    deadline = time.perf_counter() + timeout
    report = time.perf_counter() + 10
    while len(seen) < len(names):
        now = time.perf_counter()
        if now > report:
            progress(f"operator: {len(seen)}/{len(names)} InferenceServices")
            report = now + 10
        for name in names:
            if name not in seen and stored(emulator, ISVC, name) is not None:
                seen[name] = now
        if now > deadline:
            raise TimeoutError(f"{len(names) - len(seen)} InferenceServices missing")
        # Polling shares the loop with the emulator: poll many names less often.
        await asyncio.sleep(POLL_S if len(names) == 1 else 0.1)
    return seen


async def latency(emulator: Any, count: int) -> dict[str, Any]:
    """Create ``count`` deployments one at a time; each latency from create to ISVC."""
    latencies = []
    for index in range(count):
        name = f"latency-{index}"
        await create(emulator, make_deployment(name))
        created = time.perf_counter()
        seen = await wait_for(emulator, [name], timeout=60)
        latencies.append(seen[name] - created)
    return {
        "n": count,
        "p50_ms": round(percentile(latencies, 50) * 1e3, 1),
        "p99_ms": round(percentile(latencies, 99) * 1e3, 1),
    }


async def create_all(
    emulator: Any, manifests: list[dict[str, Any]], namespace: str = NAMESPACE, clients: int = 16
) -> None:
    queue = list(manifests)

    async def worker() -> None:
        while queue:
            await create(emulator, queue.pop(), namespace=namespace)

    await asyncio.gather(*(worker() for _ in range(clients)))


async def bulk(emulator: Any, process: subprocess.Popen[bytes], count: int) -> dict[str, Any]:
    """``count`` deployments created at once; wall time to the last ISVC and peak RSS."""
    idle_kib = rss_kib(process.pid, "VmRSS")
    cpu_before = cpu_seconds(process.pid)
    own_before = cpu_seconds(os.getpid())  # this process is the emulator (and the clients)
    baseline = await api_floor(emulator, count)  # before: afterwards the operator still writes
    names = [f"bulk-{i}" for i in range(count)]
    started = time.perf_counter()
    await create_all(emulator, [make_deployment(n) for n in names])
    created = time.perf_counter()
    await wait_for(emulator, names, timeout=1800)
    wall = time.perf_counter() - started
    cpu = cpu_seconds(process.pid) - cpu_before
    emulator_cpu = cpu_seconds(os.getpid()) - own_before
    return {
        "n": count,
        "wall_s": round(wall, 2),
        "create_s": round(created - started, 2),
        "api_floor_s": round(baseline, 2),
        "ratio_to_api_floor": ratio(wall, baseline),
        # kmock scans every stored object per request, so with thousands of objects the
        # emulator, not the operator, sets the wall time: the operator's own CPU says more.
        "operator_cpu_s": round(cpu, 2),
        "operator_cpu_ms_per_cr": round(cpu / count * 1e3, 1),
        # The emulator's own CPU in the same window (incl. the API floor run and the clients):
        # when it nears the wall time, the emulator, not the operator, bounds the wall time.
        "emulator_cpu_s": round(emulator_cpu, 2),
        "operator_rss_idle_mib": round(idle_kib / 1024, 1),
        "operator_rss_peak_mib": round(rss_kib(process.pid, "VmHWM") / 1024, 1),
    }


async def api_floor(emulator: Any, count: int) -> float:
    """Seconds for 16 clients to POST ``count`` ModelDeployments plus ``count`` InferenceServices
    (what the operator must at least cause), copying a rendered one, into a namespace the
    operator does not watch: the API server's cost alone."""
    template = stored(emulator, ISVC, "warm-up")
    assert template is not None
    isvc = {
        "apiVersion": template["apiVersion"],
        "kind": template["kind"],
        "metadata": {"name": "x"},
        "spec": template["spec"],
    }
    manifests = []
    for index in range(count):
        manifests.append({**isvc, "metadata": {"name": f"floor-{index}"}})
        manifests.append(make_deployment(f"floor-md-{index}"))
    started = time.perf_counter()
    await create_all(emulator, manifests, namespace=FLOOR_NAMESPACE)
    return time.perf_counter() - started


async def run(latency_count: int, bulk_count: int) -> dict[str, Any]:
    async with cluster_and_operator() as (emulator, process):
        progress(f"operator: create-to-InferenceService latency, {latency_count} deployments")
        result = {"latency": await latency(emulator, latency_count)}
    async with cluster_and_operator() as (emulator, process):
        progress(f"operator: reconcile {bulk_count} deployments at once")
        result["bulk"] = await bulk(emulator, process, bulk_count)
    return result


__all__ = ["call", "run"]
