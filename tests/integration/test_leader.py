"""``leader.py`` against kmock's emulator with the API server's write preconditions.

The Lease protocol's safety rests on three things, each tested here with the interleaving made
deterministic (reads held and answered late, ``leases.hold_reads``) instead of hoped for:

- a write based on a stale read is refused 409, and the writer then knows it is not leader;
- two standbys racing for a lapsed Lease: exactly one wins;
- a holder that cannot renew (API server refusing, or not answering at all) stops before its
  Lease's duration has run out on anyone else's clock, so no standby can be active beside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import kmock
import pytest
from kube import call, eventually, inject
from leases import LEASES_PATH, LeasingApiServer, hold_reads, lease_of, serve_leases
from modelplane_operator.cluster import Cluster
from modelplane_operator.leader import LeaderElection
from prometheus_client import REGISTRY

NAMESPACE = "modelplane-system"
NAME = "modelplane"
PATH = LEASES_PATH.format(namespace=NAMESPACE)


@pytest.fixture()
def kmock_options() -> dict[str, Any]:
    """The emulator with 409 Conflict on a stale ``resourceVersion``, as the API server."""
    return {"cls": LeasingApiServer}


@pytest.fixture()
async def api(cluster: kmock.KubernetesEmulator) -> AsyncIterator[Cluster]:
    """The operator's own API client (the one leader.py is given), pointed at the emulator."""
    serve_leases(cluster)
    client = await Cluster.connect()
    yield client
    await client.close()


def replica(identity: str, **timings: Any) -> LeaderElection:
    """One replica's election; short timings so a lapse takes a second, not fifteen."""
    settings: dict[str, Any] = {"duration_s": 1, "renew_deadline_s": 0.5, "retry_s": 0.1}
    return LeaderElection(NAMESPACE, NAME, identity=identity, **(settings | timings))


def leader_gauge(identity: str) -> float | None:
    return REGISTRY.get_sample_value("modelplane_operator_leader", {"identity": identity})


async def test_a_write_on_a_stale_read_is_refused_409_and_means_not_leader(
    cluster: LeasingApiServer, api: Cluster
) -> None:
    """The holder reads its Lease; before its renewal lands, another replica takes the Lease
    over (as after a long pause of the holder). The renewal carries the version it read, so the
    API server refuses it, and the old holder reports that it does not hold the Lease."""
    old = replica("old-holder")
    assert await old.try_acquire_or_renew(api)  # creates the Lease
    release = asyncio.Event()
    held = hold_reads(cluster, 1, release)
    renewing = asyncio.create_task(old.try_acquire_or_renew(api))
    await eventually(lambda: held, what="the holder's read, held")
    taken = {"holderIdentity": "new-holder", "leaseTransitions": 1}
    await call(cluster, "PATCH", f"{PATH}/{NAME}", {"spec": taken})
    release.set()

    assert await renewing is False
    assert lease_of(cluster, NAME, NAMESPACE)["holderIdentity"] == "new-holder"
    assert len(cluster.conflicts) == 1  # the renewal was sent and refused, not skipped


async def test_two_standbys_race_for_a_lapsed_lease_and_exactly_one_wins(
    cluster: LeasingApiServer, api: Cluster
) -> None:
    await call(
        cluster,
        "POST",
        PATH,
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
            "spec": {"holderIdentity": "crashed", "leaseDurationSeconds": 1, "leaseTransitions": 3},
        },
    )
    standbys = [replica("standby-a"), replica("standby-b")]
    for standby in standbys:  # first sight of the record: its duration starts on our clock
        assert await standby.try_acquire_or_renew(api) is False
    await asyncio.sleep(standbys[0].duration_s + 0.2)  # the holder stays silent for a duration

    release = asyncio.Event()
    held = hold_reads(cluster, 2, release)  # both read the lapsed record before either writes
    race = asyncio.gather(*(s.try_acquire_or_renew(api) for s in standbys))
    await eventually(lambda: len(held) == 2, what="both standbys' reads, held")
    release.set()
    won = await race

    assert sorted(won) == [False, True], won
    winner, loser = standbys if won[0] else standbys[::-1]
    lease = lease_of(cluster, NAME, NAMESPACE)
    assert lease["holderIdentity"] == winner.identity
    assert lease["leaseTransitions"] == 4  # one take-over, not two
    assert len(cluster.conflicts) == 1
    assert await loser.try_acquire_or_renew(api) is False  # the new holder is fresh
    assert await winner.try_acquire_or_renew(api) is True  # and renews


def refuse(cluster: kmock.KubernetesEmulator) -> Callable[[], None]:
    """Every Lease request answered 503 (the API server overloaded); nothing to undo."""
    inject(cluster, 10_000, "GET", "leases", 503, "ServiceUnavailable")
    return lambda: None


def hang(cluster: kmock.KubernetesEmulator) -> Callable[[], None]:
    """Every Lease request left unanswered (a partition); the returned call answers them."""
    stalled = asyncio.Event()
    cluster[kmock.resource("coordination.k8s.io", "v1", "leases")] << stalled.wait
    return stalled.set


@pytest.mark.parametrize("failure", [refuse, hang], ids=["refused", "unanswered"])
async def test_a_holder_that_misses_its_renew_deadline_stops_before_the_lease_lapses(
    cluster: LeasingApiServer,
    api: Cluster,
    failure: Callable[[kmock.KubernetesEmulator], Callable[[], None]],
) -> None:
    """What a standby relies on: once it has seen the record unchanged for the Lease's
    duration, the holder has stopped. So ``hold`` (whose return stops kopf, runner.py) must
    return within the duration of the last renewal that was sent, even if no answer comes."""
    holder = replica("holder", duration_s=10, renew_deadline_s=1.0)
    loop = asyncio.get_running_loop()
    await holder.acquire(api)
    assert holder.role == "active" and leader_gauge("holder") == 1
    last_sent = loop.time()  # the acquiring write was sent before this
    undo = failure(cluster)
    try:
        holding = asyncio.create_task(holder.hold(api))
        lapses_in = last_sent + holder.duration_s - loop.time()
        done, _ = await asyncio.wait({holding}, timeout=lapses_in)
        assert holding in done, "still active when a standby may take the Lease over"
    finally:
        undo()
    assert holder.role == "lost" and leader_gauge("holder") == 0
