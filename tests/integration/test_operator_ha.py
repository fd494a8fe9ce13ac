"""High availability: two real operator processes, started as the chart starts them, share one
``coordination.k8s.io`` Lease in kmock's emulator. Exactly one reconciles; SIGKILL of it hands
over to the other, which then reconciles what is created next.

The emulator is kmock's, plus the one API-server guarantee leader election rests on and kmock
does not model: a write carrying ``metadata.resourceVersion`` is refused with 409 Conflict when
the stored object has moved on (optimistic concurrency, as the real API server does).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp.web
import kmock
import pytest
from helpers import NAMESPACE, make_deployment
from kube import ISVC, MD, VERBS, ApiServer, create, eventually, stored, stored_of
from processes import OperatorProcess, chart_container, start_from_container
from typing_extensions import override

RELEASE_NAMESPACE = "modelplane-system"
LEASE = "coordination.k8s.io/v1/leases"
# Two cold Python processes importing kopf on a loaded 2-core machine: a bound, not a figure.
STARTUP_S = 120
CHILDREN = ("inferenceservices", "configmaps", "servicemonitors", "prometheusrules")

# Whole operator processes on a shared 2-core machine: more than the suite default.
pytestmark = pytest.mark.timeout(360)


class LeasingApiServer(ApiServer):
    """ApiServer plus resourceVersion preconditions on writes (409 Conflict when stale)."""

    _write_lock = asyncio.Lock()

    @override
    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        data = request.data
        wanted = (
            (data.get("metadata") or {}).get("resourceVersion") if isinstance(data, dict) else None
        )
        if request.action != kmock.action.UPDATE or not wanted or request.resource is None:
            return await super()._handle(request)
        async with self._write_lock:  # check and write as one step, as etcd's compare-and-swap
            try:
                current = self.objects[request.resource, request.namespace, request.name]
                version = (
                    None if current.deleted else current.raw["metadata"].get("resourceVersion")
                )
            except KeyError:
                version = None
            if version is not None and version != wanted:
                return aiohttp.web.json_response(
                    {"kind": "Status", "status": "Failure", "reason": "Conflict", "code": 409},
                    status=409,
                )
            return await super()._handle(request)


@pytest.fixture()
def kmock_options() -> dict[str, Any]:
    return {"cls": LeasingApiServer}


@pytest.fixture()
def leases(cluster: kmock.KubernetesEmulator) -> kmock.KubernetesEmulator:
    """The emulator serving Leases too (what the chart's leader-election Role grants)."""
    cluster.resources[LEASE] = kmock.ResourceInfo(kind="Lease", verbs=VERBS, namespaced=True)
    return cluster


@pytest.fixture()
async def replicas(
    leases: kmock.KubernetesEmulator, kubeconfig: Path, tmp_path: Path
) -> AsyncIterator[list[OperatorProcess]]:
    """Two operator pods of the chart (replicaCount 2, watching NAMESPACE), as processes."""
    values = {
        "operator": {"replicaCount": 2, "watch": {"clusterWide": False, "namespaces": [NAMESPACE]}}
    }
    container = chart_container(values, RELEASE_NAMESPACE)
    pods = [
        start_from_container(container, kubeconfig, tmp_path / f"{pod}.log", pod, RELEASE_NAMESPACE)
        for pod in ("modelplane-abc12", "modelplane-def34")
    ]
    try:
        yield pods
    finally:
        for pod in pods:  # off the loop: the emulator keeps answering their last calls
            await asyncio.to_thread(pod.stop)


async def roles(pods: list[OperatorProcess]) -> dict[str, str]:
    """Each live replica's role as its /healthz reports it ("down" before it listens); off the
    event loop, which serves the emulator the replicas talk to."""
    out = {}
    for pod in pods:
        assert pod.process.poll() is None, pod.log.read_text()[-3000:]
        try:
            out[pod.name] = (await asyncio.to_thread(pod.health))["role"]
        except OSError:
            out[pod.name] = "down"
    return out


async def one_active(pods: list[OperatorProcess]) -> tuple[OperatorProcess, OperatorProcess]:
    """Wait until one replica is active and the other on standby; (active, standby)."""
    deadline = asyncio.get_running_loop().time() + STARTUP_S
    while sorted((current := await roles(pods)).values()) != ["active", "standby"]:
        assert asyncio.get_running_loop().time() < deadline, f"roles stuck at {current}"
        await asyncio.sleep(0.5)
    active = next(p for p in pods if current[p.name] == "active")
    return active, next(p for p in pods if p is not active)


def lease_holder(cluster: kmock.KubernetesEmulator) -> str:
    lease = stored(cluster, LEASE, "modelplane", RELEASE_NAMESPACE) or {}
    holder: str = (lease.get("spec") or {}).get("holderIdentity", "")
    return holder


def creates(cluster: kmock.KubernetesEmulator, plural: str, name: str) -> int:
    """POSTs that created ``name`` of ``plural`` (kmock's recorded requests)."""
    return sum(
        1
        for request in cluster["post"]
        if request.resource is not None
        and request.resource.plural == plural
        and isinstance(request.data, dict)
        and request.data.get("metadata", {}).get("name", "").startswith(name)
    )


async def reconciled(cluster: kmock.KubernetesEmulator, name: str, timeout: float) -> None:
    await eventually(
        lambda: (stored(cluster, MD, name) or {}).get("status", {}).get("phase"),
        timeout=timeout,
        what=f"ModelDeployment {name} reconciled",
    )


async def test_one_active_replica_and_failover_after_sigkill(
    leases: kmock.KubernetesEmulator, replicas: list[OperatorProcess]
) -> None:
    cluster = leases
    active, standby = await one_active(replicas)
    assert lease_holder(cluster) == active.name

    names = ["gate-a", "gate-b"]
    for name in names:
        await create(cluster, make_deployment(name))
    for name in names:
        await reconciled(cluster, name, timeout=60)
    await asyncio.sleep(3)  # a second reconciler, if any, would have created its copies by now
    for name in names:
        for plural in CHILDREN:
            assert creates(cluster, plural, name) == 1, (plural, name)

    active.process.kill()  # SIGKILL: no Lease release, no goodbye
    active.process.wait()
    killed_at = time.monotonic()
    await create(cluster, make_deployment("gate-after"))
    await eventually(
        lambda: lease_holder(cluster) == standby.name, timeout=30, what="the standby's take-over"
    )
    took_over = time.monotonic() - killed_at
    print(f"failover: Lease taken {took_over:.1f} s after SIGKILL")
    await reconciled(cluster, "gate-after", timeout=30 - took_over)
    failover = time.monotonic() - killed_at
    print(f"failover: Lease taken {took_over:.1f} s after SIGKILL, reconciled at {failover:.1f} s")

    assert (await asyncio.to_thread(standby.health))["role"] == "active"
    assert lease_holder(cluster) == standby.name
    assert len(stored_of(cluster, "inferenceservices")) == len(names) + 1
    assert creates(cluster, "inferenceservices", "gate-after") == 1
    assert stored(cluster, ISVC, "gate-after", NAMESPACE) is not None


async def test_sigterm_hands_the_lease_over(
    leases: kmock.KubernetesEmulator, replicas: list[OperatorProcess]
) -> None:
    """A roll-out's SIGTERM releases the Lease, so the standby need not wait for it to lapse."""
    active, standby = await one_active(replicas)
    await asyncio.to_thread(active.stop)  # the emulator must keep answering meanwhile
    assert active.process.returncode == 0, active.log.read_text()[-2000:]
    assert "released Lease" in active.log.read_text()
    await eventually(
        lambda: lease_holder(leases) == standby.name, timeout=15, what="the standby holds it"
    )
