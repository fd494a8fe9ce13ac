"""How the operator process runs: its scope, its health endpoint, and kopf behind a Lease.

``cli.py`` parses flags; this module decides what they mean at run time. The health endpoint is
served here (not by kopf's liveness endpoint) because a standby replica does not run kopf at all
and must still answer its probes and say that it is on standby.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp.web
import kopf
import yaml

from modelplane_operator.cluster import Cluster
from modelplane_operator.leader import LeaderElection

log = logging.getLogger(__name__)

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class ScopeError(ValueError):
    """No namespace could be determined (no flag, no kubeconfig context, not in a pod)."""


def _kubeconfig_files(environ: Mapping[str, str]) -> list[Path]:
    raw = environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    return [Path(p) for p in raw.split(os.pathsep) if p]


def context_namespace(environ: Mapping[str, str]) -> str | None:
    """The current kubeconfig context's namespace, merged as kubectl merges KUBECONFIG files
    (the first file to set ``current-context`` or a context name wins); "default" when the
    context sets none; None when there is no usable kubeconfig."""
    current: str | None = None
    contexts: dict[str, dict[str, Any]] = {}
    for path in _kubeconfig_files(environ):
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        current = current or doc.get("current-context") or None
        for item in doc.get("contexts") or []:
            contexts.setdefault(item.get("name", ""), item.get("context") or {})
    if current is None or current not in contexts:
        return None
    namespace: str = contexts[current].get("namespace") or "default"
    return namespace


def default_namespace(
    environ: Mapping[str, str] | None = None, pod_file: Path = SERVICE_ACCOUNT_NAMESPACE
) -> tuple[str, str]:
    """(namespace, where it came from) as kubectl picks it: the pod's own namespace inside a
    cluster, else the kubeconfig context's namespace."""
    env = os.environ if environ is None else environ
    if env.get("KUBERNETES_SERVICE_HOST") and pod_file.is_file():
        return pod_file.read_text().strip(), "the pod's namespace"
    namespace = context_namespace(env)
    if namespace is None:
        raise ScopeError("no -n/-A given and no kubeconfig context or pod namespace to default to")
    return namespace, "the kubeconfig context"


@dataclass
class Health:
    """What /healthz reports: this replica's role (active, standby, lost) and identity."""

    role: str = "starting"
    identity: str = ""
    lease: str | None = None
    election: LeaderElection | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        role = self.election.role if self.election else self.role
        return {"status": "ok", "role": role, "identity": self.identity, "lease": self.lease}


async def serve_health(port: int, health: Health) -> aiohttp.web.AppRunner:
    """GET /healthz: 200 with the role while the process runs (a standby is healthy too)."""

    async def healthz(_: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.json_response(health.as_dict())

    app = aiohttp.web.Application()
    app.router.add_get("/healthz", healthz)
    runner = aiohttp.web.AppRunner(app, access_log=None)
    await runner.setup()
    await aiohttp.web.TCPSite(runner, "0.0.0.0", port).start()
    return runner


def _on_signals(stop: asyncio.Event) -> None:
    """SIGTERM/SIGINT set ``stop``: kopf then stops through its stop flag (a deliberate stop,
    so the Lease is released afterwards instead of kopf's own hard exit timer running)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def _kopf_until(stop: asyncio.Event, kopf_kwargs: dict[str, Any]) -> None:
    """Run kopf until ``stop``; our signal handlers replace kopf's once it is up."""
    ready = asyncio.Event()
    task = asyncio.create_task(kopf.operator(stop_flag=stop, ready_flag=ready, **kopf_kwargs))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if not task.done():
        _on_signals(stop)
    await task


async def run(
    kopf_kwargs: dict[str, Any], health_port: int, election: LeaderElection | None
) -> int:
    """Serve health, wait for the Lease (if electing), run kopf; the process's exit code.

    Losing the Lease stops kopf and exits 1, so the pod restarts as a standby: the replica
    never reconciles without holding the Lease.
    """
    health = Health(identity=election.identity if election else "", election=election)
    health.lease = election.lease if election else None
    runner = await serve_health(health_port, health)
    stop = asyncio.Event()
    _on_signals(stop)
    try:
        if election is None:
            health.role = "active"
            await _kopf_until(stop, kopf_kwargs)
            return 0
        return await _run_elected(stop, kopf_kwargs, election)
    finally:
        await runner.cleanup()


async def _run_elected(
    stop: asyncio.Event, kopf_kwargs: dict[str, Any], election: LeaderElection
) -> int:
    cluster = await Cluster.connect()
    try:
        acquiring = asyncio.create_task(election.acquire(cluster))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not acquiring.done():
            acquiring.cancel()
            return 0  # stopped while on standby
        stopping.cancel()
        holding = asyncio.create_task(election.hold(cluster))
        holding.add_done_callback(lambda _: stop.set())
        await _kopf_until(stop, kopf_kwargs)
        lost = holding.done()
        holding.cancel()
        if lost:
            return 1
        await election.release(cluster)
        return 0
    finally:
        await cluster.close()


def describe_scope(
    namespaces: list[str], clusterwide: bool, source: str, election: LeaderElection | None
) -> str:
    """The first log line: what is watched, how, and whether replicas elect a leader."""
    what = (
        "all namespaces (cluster-wide)"
        if clusterwide
        else (f"namespace(s) {', '.join(namespaces)} (namespaced, from {source})")
    )
    mode = (
        f"leader election via Lease {election.lease} as {election.identity}"
        if election
        else "standalone (no leader election: run a single replica)"
    )
    return f"modelplane-operator watching {what}; {mode}"
