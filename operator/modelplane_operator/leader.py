"""One active operator replica at a time: a ``coordination.k8s.io/v1`` Lease, as client-go does.

Why a Lease and not kopf peering: kopf's peering has no per-object locks (its own docstring
says so), pauses *every* replica when two share a priority, lets a newly started replica with a
higher priority work before the old one has seen it and paused, and judges a peer dead by that
peer's wall clock. A Lease gives the guarantee the operator needs: a replica runs kopf only
while it holds the Lease; a standby takes it only after the holder's record stayed unchanged for
``duration_s`` on the *standby's own* clock, and the take-over is a write conditioned on the
``resourceVersion`` it read, so two standbys can never both win.

Timings (client-go's defaults scaled down, the same ratios): the holder renews every
``retry_s``; if it cannot renew for ``renew_deadline_s`` it stops reconciling and exits
(``renew_deadline_s < duration_s``, so it has stopped before anyone may take over). A standby
that finds the holder SIGKILLed takes over at most ``duration_s + retry_s`` after the last renew.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from prometheus_client import Gauge

from modelplane_operator.cluster import Cluster
from modelplane_operator.errors import APIConflictError, APIError, APINotFoundError

log = logging.getLogger(__name__)

LEASES = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
LEADER = Gauge(
    "modelplane_operator_leader",
    "1 while this replica holds the leader Lease and reconciles, 0 on standby.",
    ["identity"],
)


def own_identity() -> str:
    """This replica's name in the Lease: the pod name (set by the chart), else host and pid."""
    pod = os.environ.get("POD_NAME") or os.environ.get("POD_ID")
    return pod or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _now() -> str:
    """MicroTime as the API server writes it (RFC 3339 with microseconds, UTC)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class LeaderElection:
    """State of one replica's election; ``role`` is what /healthz and the gauge report."""

    namespace: str
    name: str
    identity: str = field(default_factory=own_identity)
    duration_s: int = 15
    renew_deadline_s: float = 10.0
    retry_s: float = 2.0
    role: str = "standby"
    # (holder, renewTime) last seen and when (monotonic, our clock): expiry is judged by us.
    _observed: tuple[str, str] | None = None
    _observed_at: float = 0.0
    # When the last successful write of ours was sent (monotonic): the renew deadline's start.
    _renewed_at: float = 0.0

    def __post_init__(self) -> None:
        if not self.renew_deadline_s < self.duration_s:
            raise ValueError("the renew deadline must be shorter than the lease duration")
        LEADER.labels(self.identity).set(0)

    @property
    def lease(self) -> str:
        return f"{self.namespace}/{self.name}"

    def _record(self, transitions: int, acquired: str | None) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.duration_s,
            "renewTime": _now(),
            "leaseTransitions": transitions,
        }
        spec["acquireTime"] = acquired or spec["renewTime"]
        return spec

    def _expired(self, spec: dict[str, Any]) -> bool:
        """Whether the holder let the Lease lapse, by our own clock since its record changed."""
        loop = asyncio.get_running_loop()
        seen = (spec.get("holderIdentity") or "", spec.get("renewTime") or "")
        if seen != self._observed:
            self._observed, self._observed_at = seen, loop.time()
        duration = spec.get("leaseDurationSeconds") or self.duration_s
        return not seen[0] or loop.time() > self._observed_at + duration

    async def try_acquire_or_renew(self, cluster: Cluster) -> bool:
        """One attempt: create the Lease, renew ours, or take over a lapsed one. Never raises
        for a lost race (409) or an unreachable API server; returns whether we hold it now."""
        try:
            return await self._write_record(cluster)
        except APIConflictError:
            pass  # another replica wrote first: it holds the Lease
        except APIError as err:
            log.warning("Lease %s: %s", self.lease, err)
        except (OSError, aiohttp.ClientError, TimeoutError) as err:
            log.warning("Lease %s: API server unreachable: %s", self.lease, err)
        return False

    async def _write_record(self, cluster: Cluster) -> bool:
        path = LEASES.format(namespace=self.namespace)
        try:
            current = await cluster.request("GET", f"{path}/{self.name}")
        except APINotFoundError:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._record(0, None),
            }
            await cluster.request("POST", path, body)  # 409 when another replica was first
            return True
        current = current or {}
        spec = current.get("spec") or {}
        ours = spec.get("holderIdentity") == self.identity
        if not ours and not self._expired(spec):
            return False
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if ours else 1)
        record = self._record(transitions, spec.get("acquireTime") if ours else None)
        await self._patch(cluster, current, record)
        return True

    async def _patch(self, cluster: Cluster, current: dict[str, Any], spec: dict[str, Any]) -> None:
        """Write ``spec`` only if the Lease is still the version we read: a resourceVersion in a
        patch is a precondition for the API server, so a racing replica gets 409 Conflict."""
        version = (current.get("metadata") or {}).get("resourceVersion")
        await cluster.request(
            "PATCH",
            f"{LEASES.format(namespace=self.namespace)}/{self.name}",
            {"metadata": {"resourceVersion": version}, "spec": spec},
            content_type="application/merge-patch+json",
        )

    async def acquire(self, cluster: Cluster) -> None:
        """Wait on standby until this replica holds the Lease."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            if await self.try_acquire_or_renew(cluster):
                break
            await asyncio.sleep(self.retry_s)
        self._renewed_at = started
        self._set_role("active")
        log.info("acquired Lease %s as %s: this replica is active", self.lease, self.identity)

    async def hold(self, cluster: Cluster) -> None:
        """Renew every ``retry_s``; return once renewing failed for ``renew_deadline_s``.

        The deadline counts from when the last successful write was *sent* (others start the
        Lease's duration only once they see it, later), and an attempt the API server does not
        answer is abandoned at the deadline: a hung request must not keep this replica active
        past the moment a standby may take over.
        """
        loop = asyncio.get_running_loop()
        while (left := self._renewed_at + self.renew_deadline_s - loop.time()) > 0:
            await asyncio.sleep(min(self.retry_s, left))
            started = loop.time()
            try:
                async with asyncio.timeout_at(self._renewed_at + self.renew_deadline_s):
                    renewed = await self.try_acquire_or_renew(cluster)
            except TimeoutError:
                renewed = False
            if renewed:
                self._renewed_at = started
        self._set_role("lost")
        log.error("lost Lease %s: not renewed for %ss", self.lease, self.renew_deadline_s)

    async def release(self, cluster: Cluster) -> None:
        """On a clean stop, hand the Lease over at once instead of letting it lapse."""
        if self.role != "active":
            return
        self._set_role("standby")
        path = f"{LEASES.format(namespace=self.namespace)}/{self.name}"
        try:
            current = await cluster.request("GET", path) or {}
            if (current.get("spec") or {}).get("holderIdentity") == self.identity:
                await self._patch(cluster, current, {"holderIdentity": "", "renewTime": _now()})
                log.info("released Lease %s", self.lease)
        except (APIError, OSError, aiohttp.ClientError, TimeoutError) as err:
            log.warning("releasing Lease %s failed (it lapses instead): %s", self.lease, err)

    def _set_role(self, role: str) -> None:
        self.role = role
        LEADER.labels(self.identity).set(1 if role == "active" else 0)
