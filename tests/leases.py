"""Leases in kmock's emulator: the one API-server guarantee leader election rests on.

kmock stores whatever a PATCH says. A real API server refuses a write whose
``metadata.resourceVersion`` is not the stored one with 409 Conflict (optimistic concurrency,
etcd's compare-and-swap); ``LeasingApiServer`` adds exactly that, and records each refusal so
a test can see that a write was refused rather than never sent.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp.web
import kmock
from kube import VERBS, ApiServer, first_requests, stored
from typing_extensions import override

LEASE = "coordination.k8s.io/v1/leases"
LEASES_PATH = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"


class LeasingApiServer(ApiServer):
    """ApiServer plus resourceVersion preconditions on writes (409 Conflict when stale)."""

    _write_lock = asyncio.Lock()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conflicts: list[int] = []  # ids of the requests answered 409

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
                self.conflicts.append(request.id)
                return aiohttp.web.json_response(
                    {"kind": "Status", "status": "Failure", "reason": "Conflict", "code": 409},
                    status=409,
                )
            return await super()._handle(request)


def serve_leases(emulator: kmock.KubernetesEmulator) -> kmock.KubernetesEmulator:
    """The emulator serving Leases (what the chart's leader-election Role grants)."""
    emulator.resources[LEASE] = kmock.ResourceInfo(kind="Lease", verbs=VERBS, namespaced=True)
    return emulator


def lease_of(emulator: kmock.KubernetesEmulator, name: str, namespace: str) -> dict[str, Any]:
    """The Lease's spec as stored now ({} when there is none)."""
    spec: dict[str, Any] = (stored(emulator, LEASE, name, namespace) or {}).get("spec") or {}
    return spec


def hold_reads(emulator: kmock.KubernetesEmulator, times: int, release: asyncio.Event) -> list[int]:
    """Answer the next ``times`` Lease GETs with the Lease as it was when each arrived, but
    only once ``release`` is set: a slow answer, so whatever is written meanwhile makes the
    reader's copy stale. Returns the ids of the held requests (filled as they arrive)."""
    earlier = {request.id for request in emulator}  # a new filter also sees past requests
    first, held = first_requests(times, "GET", "leases")

    def matching(request: kmock.Request) -> bool:
        return request.id not in earlier and first(request)

    def snapshot(request: kmock.Request) -> Callable[[], Awaitable[dict[str, Any]]]:
        obj = copy.deepcopy(stored(emulator, LEASE, request.name or "", request.namespace))
        assert obj is not None, "hold_reads is for a Lease that exists"

        async def later() -> dict[str, Any]:
            await release.wait()
            return obj

        return later

    emulator[matching] << snapshot
    return held
