"""High availability: two real operator processes, started as the chart starts them, share one
``coordination.k8s.io`` Lease in kmock's emulator. Exactly one reconciles; SIGKILL of it hands
over to the other, which then reconciles what is created next.

The emulator is kmock's plus the API server's 409 on a stale ``resourceVersion``
(``leases.LeasingApiServer``); the Lease protocol itself is unit-tested in test_leader.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import kmock
import pytest
from helpers import NAMESPACE, make_deployment
from kube import ISVC, MD, create, eventually, stored, stored_of
from leases import LeasingApiServer, lease_of, serve_leases
from processes import OperatorProcess, chart_container, start_from_container

RELEASE_NAMESPACE = "modelplane-system"
# Two cold Python processes importing kopf on a loaded 2-core machine: a bound, not a figure.
STARTUP_S = 120
CHILDREN = ("inferenceservices", "configmaps", "servicemonitors", "prometheusrules")

# Whole operator processes on a shared 2-core machine: more than the suite default.
pytestmark = pytest.mark.timeout(360)


@pytest.fixture()
def kmock_options() -> dict[str, Any]:
    return {"cls": LeasingApiServer}


@pytest.fixture()
def leases(cluster: kmock.KubernetesEmulator) -> kmock.KubernetesEmulator:
    """The emulator serving Leases too (what the chart's leader-election Role grants)."""
    return serve_leases(cluster)


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
    holder: str = lease_of(cluster, "modelplane", RELEASE_NAMESPACE).get("holderIdentity", "")
    return holder


def standby_polls(cluster: kmock.KubernetesEmulator, since: int) -> int:
    """Lease reads by the standby after request ``since`` (kmock's recorded requests).

    Both replicas read the Lease every retry period, and only the holder then writes it, so
    reads minus writes are the standby's, give or take the holder's one read whose write may
    not have landed yet (counted off).
    """
    reads = writes = 0
    for request in cluster:
        resource = request.resource
        if request.id > since and resource is not None and resource.plural == "leases":
            reads += request.method.value == "GET"
            writes += request.method.value == "PATCH"
    return max(0, reads - writes - 1)


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
    # A second reconciler would have seen the same watch events; once the standby has read the
    # Lease twice since, its loop ran a whole retry period after them, copies made or not.
    reconciled_at = max(request.id for request in cluster)
    await eventually(
        lambda: standby_polls(cluster, reconciled_at) >= 2, timeout=30, what="standby polling"
    )
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
