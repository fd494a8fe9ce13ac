"""Per-step ``timeoutSeconds`` and ``retries`` in the local executor (serving/pipeline.py), on
the contract's typed pipeline. The stages are tiny ``Stage`` subclasses defined here, as KServe's
own tests keep small models beside protocol tests: what is under test is the executor."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from modelplane_api.pipeline import parse_pipeline
from modelplane_inference.errors import Overloaded, StageInputError, StepFailed, answer
from modelplane_inference.serving.pipeline import PipelineExecutor
from modelplane_inference.stages.base import Item, Stage


class Flaky(Stage):
    """Fails with ``error`` for the first ``failures`` calls, then answers its call count."""

    stage: ClassVar[str] = "custom"
    needs_model: ClassVar[bool] = False

    def __init__(self, failures: int, error: Exception, delay_s: float = 0.0) -> None:
        super().__init__("flaky")
        self.failures, self.error, self.delay_s, self.calls = failures, error, delay_s, 0

    async def run(self, item: Item) -> Item:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.calls <= self.failures:
            raise self.error
        return {"calls": self.calls}


def executor(stage: Stage, **step: Any) -> PipelineExecutor:
    spec = parse_pipeline({"nodes": [{"name": "root", "steps": [{"deployment": "s", **step}]}]})
    return PipelineExecutor("p", spec, {"s": stage})


async def test_retries_give_a_server_failure_more_attempts() -> None:
    stage = Flaky(2, RuntimeError("model crashed"))
    assert await executor(stage, retries=2).run({}) == {"calls": 3}


async def test_back_pressure_is_retried_and_passed_on_when_it_persists() -> None:
    stage = Flaky(5, Overloaded("busy", 2.0))
    with pytest.raises(StepFailed) as info:
        await executor(stage, retries=1).run({})
    assert stage.calls == 2
    assert answer(info.value).http_status == 429 and info.value.retry_after_s == 2.0


async def test_the_clients_fault_is_not_retried() -> None:
    stage = Flaky(1, StageInputError("missing input 'image'"))
    with pytest.raises(StepFailed) as info:
        await executor(stage, retries=3).run({})
    assert stage.calls == 1 and answer(info.value).http_status == 400


async def test_a_step_past_its_timeout_fails_with_504_and_is_retried() -> None:
    slow = Flaky(0, RuntimeError(), delay_s=5.0)
    with pytest.raises(StepFailed) as info:
        await executor(slow, timeoutSeconds=1, retries=1).run({})
    assert slow.calls == 2
    reply = answer(info.value)
    assert (reply.http_status, reply.grpc_code) == (504, "DEADLINE_EXCEEDED")
    assert "timeoutSeconds (1 s)" in reply.reason


async def test_a_soft_step_past_its_timeout_carries_on() -> None:
    slow = Flaky(0, RuntimeError(), delay_s=5.0)
    result = await executor(slow, timeoutSeconds=1, dependency="Soft").run({})
    assert "timeoutSeconds" in result["error"]
