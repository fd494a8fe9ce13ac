"""``KeyedLocks``: reconciles of one CR run one at a time, and a lock lives only while used."""

from __future__ import annotations

import asyncio

from modelplane_operator.reconcile import KeyedLocks


async def test_same_key_waits_other_keys_do_not() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    release = asyncio.Event()

    async def hold(key: str, label: str) -> None:
        async with locks.hold(key):
            order.append(f"{label} in")
            await release.wait()
            order.append(f"{label} out")

    first = asyncio.create_task(hold("a", "a1"))
    second = asyncio.create_task(hold("a", "a2"))
    other = asyncio.create_task(hold("b", "b1"))
    await asyncio.sleep(0.01)
    assert order == ["a1 in", "b1 in"]  # a2 waits for a1; b does not wait for a
    assert len(locks) == 2
    release.set()
    await asyncio.gather(first, second, other)
    assert order.index("a1 out") < order.index("a2 in")
    assert len(locks) == 0


async def test_a_cancelled_waiter_leaves_nothing_behind() -> None:
    locks = KeyedLocks()
    release = asyncio.Event()

    async def hold() -> None:
        async with locks.hold(("ModelDeployment", "claims", "gate")):
            await release.wait()

    holder = asyncio.create_task(hold())
    waiter = asyncio.create_task(hold())
    await asyncio.sleep(0.01)
    waiter.cancel()
    release.set()
    await holder
    assert waiter.cancelled()
    assert len(locks) == 0


async def test_many_crs_come_and_go_without_growth() -> None:
    locks = KeyedLocks()
    for i in range(100):
        async with locks.hold(("ModelDeployment", "claims", f"md-{i}")):
            assert len(locks) == 1
    assert len(locks) == 0
