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
import collections
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.common import ROOT, cpu_seconds, percentile, progress, ratio

sys.path.insert(0, str(ROOT / "tests"))
import aiohttp.web
import kmock
from helpers import NAMESPACE, make_deployment
from kube import ISVC, ApiServer, call, create, declare_resources, stored, write_kubeconfig
from typing_extensions import override

ISVC_RESOURCE = kmock.resource(ISVC)

FLOOR_NAMESPACE = "bench-floor"


class CachedMatch(kmock.RawHandler):
    """kmock's reaction matching, remembered per kind of namespaced object request.

    kmock sorts its reactions and evaluates each one's criteria on every request until one
    matches: about ten evaluations for a GET of an object, a quarter of the emulator's CPU. The
    reaction that served a (verb, method, subresource, named) request serves every later one of
    that kind while the reactions stay the same (checked: it must still match, and the cache is
    dropped when reactions are added). Discovery and watch requests take kmock's own path.
    """

    _matches: dict[tuple[Any, ...], Any]

    @override
    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        if (
            request.resource is None
            or request.resource.plural is None
            or request.namespace is None
            or request.action in {None, kmock.action.WATCH}
        ):
            return await super()._handle(request)
        if self._matches.get(("reactions",)) != len(self._payloads):
            self._matches = {("reactions",): len(self._payloads)}
        key = (request.action, request.method, request.subresource, request.name is None)
        payload = self._matches.get(key)
        if payload is None or request not in payload._source or payload._disabled.is_set():
            payload = self._first_match(request)
            if payload is None:
                return await super()._handle(request)
            self._matches[key] = payload
        del payload._requests[:]  # kmock keeps every request a reaction served, for assertions
        response: aiohttp.web.StreamResponse = await payload(request)
        return response

    def _first_match(self, request: kmock.Request) -> Any:
        """The reaction kmock's ``RawHandler._handle`` would serve ``request`` with."""
        priorities = [tuple(-p for p in payload.priorities) for payload in self._payloads]
        width = max((len(p) for p in priorities), default=0)
        padded = [p + (0,) * (width - len(p)) for p in priorities]
        for index in sorted(range(len(padded)), key=lambda i: padded[i]):
            payload = self._payloads[index]
            if request in payload._source and not payload._disabled.is_set():
                return payload
        return None


class BenchApiServer(ApiServer, CachedMatch):
    """The tests' emulator, made to cost the same per request at 10 objects as at 10,000.

    Stock kmock is built for tests of a handful of objects and is quadratic at bench sizes:

    - it records every request and matches each new one against its reactions by scanning that
      history: only the request being handled is kept (kmock needs it for the match);
    - it finds the object of a GET/POST/PATCH/DELETE by scanning every stored object (and
      comparing resources through a Python ``__eq__``): a dict lookup by (resource, namespace,
      name) instead, which is what that scan finds;
    - it formats a traceback into every error answer (the operator's GET before each create is
      a 404): a plain Kubernetes ``Status`` without it.

    The objects, answers and watch events are the stock emulator's. It also counts the requests
    by verb and resource (``calls``) and notes when each InferenceService of ``NAMESPACE`` was
    stored (``isvc_created``), so the bench waits on that instead of polling the store.
    """

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.calls: collections.Counter[str] = collections.Counter()
        self.isvc_created: dict[str, float] = {}
        self.isvc_event = asyncio.Event()
        self._matches = {}

    @override
    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        del self._requests[:-1]
        status = 500
        try:
            response = await super()._handle(request)
            status = response.status
        except kmock.KubernetesError as err:
            status = err.status
            raise
        finally:
            if request.resource is not None:
                self._count(request, status)
        return response

    def _count(self, request: kmock.Request, status: int) -> None:
        assert request.resource is not None
        verb = "WATCH" if request.action == kmock.action.WATCH else request.method.value
        sub = f"/{request.subresource}" if request.subresource else ""
        self.calls[f"{verb} {request.resource.plural}{sub} {status}"] += 1
        if (
            request.action == kmock.action.CREATE
            and status < 300
            and request.resource == ISVC_RESOURCE
            and isinstance(request.data, dict)
            and request.data.get("metadata", {}).get("namespace") == NAMESPACE
        ):
            self.isvc_created.setdefault(request.data["metadata"]["name"], time.perf_counter())
            self.isvc_event.set()

    def _KubernetesEmulator__get_obj(  # kmock's name-mangled lookup
        self, request: kmock.Request, strict: bool
    ) -> Any:
        if not strict or request.name is None:
            return super()._KubernetesEmulator__get_obj(request, strict)
        key = (request.resource, request.namespace, request.name)
        return self.objects._objects.get(key)

    @override
    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        if not isinstance(exc, kmock.KubernetesError):
            return await super()._render_error(exc)
        body = {
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "code": exc.status,
            "status": "Failure",
            "reason": exc.reason or type(exc).__name__,
            "message": exc.message or repr(exc),
            "details": exc.details or {},
        }
        return aiohttp.web.json_response(body, status=exc.status)


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


@contextlib.asynccontextmanager
async def cluster_and_operator() -> AsyncIterator[tuple[BenchApiServer, subprocess.Popen[bytes]]]:
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


async def warm_up(emulator: BenchApiServer) -> None:
    """One deployment through end to end: the operator is watching once it is rendered."""
    await create(emulator, make_deployment("warm-up"))
    await wait_for(emulator, ["warm-up"], timeout=60)


async def wait_for(emulator: BenchApiServer, names: list[str], timeout: float) -> dict[str, float]:
    """perf_counter time at which the emulator stored each name's InferenceService."""
    deadline = time.perf_counter() + timeout
    report = time.perf_counter() + 10
    while True:
        missing = [name for name in names if name not in emulator.isvc_created]
        if not missing:
            return {name: emulator.isvc_created[name] for name in names}
        now = time.perf_counter()
        if now > deadline:
            raise TimeoutError(f"{len(missing)} InferenceServices missing")
        if now > report:
            progress(f"operator: {len(names) - len(missing)}/{len(names)} InferenceServices")
            report = now + 10
        emulator.isvc_event.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(emulator.isvc_event.wait(), timeout=1.0)


async def latency(emulator: BenchApiServer, count: int) -> dict[str, Any]:
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


async def quiet(emulator: BenchApiServer, seconds: float, timeout: float) -> float:
    """Wait until the emulator has served no request for ``seconds`` (the operator has written
    every status and event it will); perf_counter time of the last request seen."""
    deadline = time.perf_counter() + timeout
    last_total, last_change = emulator.calls.total(), time.perf_counter()
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        total = emulator.calls.total()
        if total != last_total:
            last_total, last_change = total, time.perf_counter()
        elif time.perf_counter() - last_change >= seconds:
            return last_change
    raise TimeoutError(f"the operator still calls the API server after {timeout} s")


async def bulk(
    emulator: BenchApiServer, process: subprocess.Popen[bytes], count: int
) -> dict[str, Any]:
    """``count`` deployments created at once; wall time to the last ISVC and peak RSS."""
    idle_kib = rss_kib(process.pid, "VmRSS")
    baseline = await api_floor(emulator, count)  # before: afterwards the operator still writes
    names = [f"bulk-{i}" for i in range(count)]
    await quiet(emulator, 1.0, timeout=60)
    emulator.calls.clear()
    cpu_before = cpu_seconds(process.pid)
    own_before = cpu_seconds(os.getpid())  # this process is the emulator (and the clients)
    started = time.perf_counter()
    await create_all(emulator, [make_deployment(n) for n in names])
    created = time.perf_counter()
    await wait_for(emulator, names, timeout=1800)
    wall = time.perf_counter() - started
    cpu = cpu_seconds(process.pid) - cpu_before
    emulator_cpu = cpu_seconds(os.getpid()) - own_before
    # After the last InferenceService the operator still writes statuses and events: its CPU
    # per ModelDeployment counts the whole job, up to its last request.
    settled = await quiet(emulator, 2.0, timeout=1800) - started
    cpu_settled = cpu_seconds(process.pid) - cpu_before
    emulator_settled = cpu_seconds(os.getpid()) - own_before
    calls = {key: value for key, value in sorted(emulator.calls.items())}
    operator_calls = emulator.calls.total() - count  # less the bench's own creates
    return {
        "n": count,
        "wall_s": round(wall, 2),
        "create_s": round(created - started, 2),
        "api_floor_s": round(baseline, 2),
        "ratio_to_api_floor": ratio(wall, baseline),
        # The operator's own CPU (user + system) from the first create to the last ISVC, and
        # to its last API request (statuses, events): per ModelDeployment from the latter.
        "operator_cpu_s": round(cpu, 2),
        "settled_s": round(settled, 2),
        "operator_cpu_settled_s": round(cpu_settled, 2),
        "operator_cpu_ms_per_cr": round(cpu_settled / count * 1e3, 1),
        # The emulator's own CPU in the same windows (kmock + the bench's 16 clients, this
        # process): when it nears the wall time, the emulator, not the operator, bounds it.
        "emulator_cpu_s": round(emulator_cpu, 2),
        "emulator_cpu_settled_s": round(emulator_settled, 2),
        "api_calls_per_cr": round(operator_calls / count, 2),
        "api_calls": calls,
        "operator_rss_idle_mib": round(idle_kib / 1024, 1),
        "operator_rss_peak_mib": round(rss_kib(process.pid, "VmHWM") / 1024, 1),
    }


async def api_floor(emulator: BenchApiServer, count: int) -> float:
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
