"""In-process execution of a ModelPipeline with the semantics of KServe's InferenceGraph router.

The operator renders a ModelPipeline to an InferenceGraph; locally the same graph runs here, with
the router's rules (KServe ``cmd/router``):

- Sequence: each step gets the request (``$request``) or the previous step's response
  (``$response``); a step with a ``condition`` runs only when the GJSON condition exists in the
  previous response, otherwise the sequence stops and returns that response (the gate rejecting a
  photo ends the claim). A failed Hard step stops with its error; a Soft one carries on.
- Switch: the first step whose condition exists in the request runs; none matching is a 404.
- Ensemble: every step gets the request, concurrently; the answer maps step name -> response.
- Splitter: one step picked at random by weight.

Conditions are evaluated with gjson-py, a Python GJSON implementation, on the JSON the router
would see in a cluster, where stages answer on KServe's V1 endpoint: a step's response as
``{"predictions": [result]}`` and a request as ``{"instances": [request]}``. So one condition means
the same in both places: ``predictions.#(estimable==true)`` (the gate accepted the photo),
``instances.#.features.#(region=="jeju")``. gjson-py implements a subset of GJSON (a query tests
one key: reach nested fields with ``#.`` as above); a plain path only tests that a field exists.
Per-step latency and errors are exported (InferenceGraph's router exports none).

The graph is the contract's typed :class:`~modelplane_api.pipeline.PipelineSpec`, checked when the
manifest is read exactly as the operator checks it (cycles, weights, conditions). A step's
``timeoutSeconds`` bounds each attempt (past it: 504, DEADLINE_EXCEEDED) and ``retries`` gives a
failure that is not the client's (5xx, 429, a timeout) further attempts; in a cluster the router
has one timeout for all steps and no retry, which the operator says in the pipeline's status.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Mapping
from typing import Any

import gjson
from modelplane_api.pipeline import Node, PipelineSpec, Step

from modelplane_inference.errors import (
    ManifestError,
    ModelplaneError,
    Overloaded,
    RequestTimeout,
    StepFailed,
)
from modelplane_inference.serving.limits import InFlight
from modelplane_inference.serving.metrics import STEP_DURATION, STEP_ERRORS
from modelplane_inference.stages.base import CLIENT_ERRORS, Item, Stage, public

__all__ = ["PipelineExecutor", "StepFailed", "condition_matches"]
log = logging.getLogger(__name__)


def condition_matches(document: Any, condition: str) -> bool:
    """GJSON ``Exists()``: the path or query yields a value in the document."""
    if not condition:
        return False
    try:
        gjson.get(document, condition)
    except (gjson.GJSONError, gjson.GJSONParseError, ValueError, TypeError):
        return False
    return True


def _router_status(exc: Exception) -> int:
    """The HTTP status KServe's router would answer for a failed step."""
    if isinstance(exc, StepFailed):
        return exc.router_status
    if isinstance(exc, ModelplaneError):
        return exc.status
    return 400 if isinstance(exc, CLIENT_ERRORS) else 500


def _retryable(exc: Exception) -> bool:
    """Worth another attempt: anything but the client's own fault (back-pressure is retried)."""
    return isinstance(exc, Overloaded) or not 400 <= _router_status(exc) < 500


class PipelineExecutor:
    """Runs one ModelPipeline over in-process stages (deployment name -> :class:`Stage`)."""

    def __init__(
        self,
        name: str,
        spec: PipelineSpec,
        stages: Mapping[str, Stage],
        in_flight: InFlight | None = None,
    ) -> None:
        """``in_flight``: the server's per-stage counter, so a step counts against its stage's
        cap (429 passed on) as a router's call of a transformer does; None: no cap."""
        self.name = name
        self.spec = spec
        self.nodes = {node.name: node for node in spec.nodes}
        self.stages = stages
        self.in_flight = in_flight
        self._random = random.Random()
        missing = [d for d in spec.deployments() if d not in stages]
        if missing:  # the local form of the operator's MissingStep
            raise ManifestError(
                f"pipeline {name}: ModelDeployment(s) {', '.join(missing)}"
                " are not among the served deployments"
            )

    async def run(self, request: Item) -> Item:
        return await self._node(self.spec.root, request)

    async def _node(self, name: str, request: Item) -> Item:
        node: Node = self.nodes[name]
        if node.router == "Sequence":
            return await self._sequence(node.steps, request)
        if node.router == "Ensemble":
            return await self._ensemble(node.steps, request)
        if node.router == "Switch":
            view = {"instances": [public(request)]}
            for step in node.steps:
                if condition_matches(view, step.condition or ""):
                    return await self._step(step, request)
            raise StepFailed(404, "None of the routes matched with the switch condition")
        if node.router == "Splitter":
            point, end = self._random.randrange(100), 0
            for step in node.steps:
                end += step.weight or 0
                if point < end:
                    return await self._step(step, request)
        raise StepFailed(500, f"node {name}: invalid router type {node.router}")

    async def _sequence(self, steps: tuple[Step, ...], request: Item) -> Item:
        response: Item = {}
        for index, step in enumerate(steps):
            given = response if step.data == "$response" and index > 0 else request
            condition = step.condition
            if condition and not condition_matches({"predictions": [public(response)]}, condition):
                log.info(
                    "sequence stopped by condition",
                    extra={"pipeline": self.name, "step": step.name, "condition": condition},
                )
                return response
            response = await self._step(step, given)
        return response

    async def _ensemble(self, steps: tuple[Step, ...], request: Item) -> Item:
        results = await asyncio.gather(*(self._step(step, request) for step in steps))
        return {step.name: public(result) for step, result in zip(steps, results, strict=True)}

    async def _attempt(self, step: Step, request: Item) -> Item:
        """One call of the step's target, held to the step's own timeout."""
        call: Awaitable[Item] = (
            self._node(step.node, request)
            if step.node is not None
            else self._stage(str(step.deployment), request)
        )
        if step.timeout_s is None:
            return await call
        try:
            async with asyncio.timeout(step.timeout_s):
                return await call
        except TimeoutError as exc:
            raise RequestTimeout(
                f"step {step.name}: exceeded its timeoutSeconds ({step.timeout_s} s)"
            ) from exc

    async def _stage(self, deployment: str, request: Item) -> Item:
        """A stage's run, in one of its in-flight slots (Overloaded when it has none)."""
        if self.in_flight is None:
            return await self.stages[deployment].run(dict(request))
        with self.in_flight.slot(deployment):
            return await self.stages[deployment].run(dict(request))

    async def _step(self, step: Step, request: Item) -> Item:
        """One step, timed and retried; failures follow the step's Hard/Soft dependency."""
        name = step.name
        started = time.perf_counter()
        try:
            for attempt in range(step.retries + 1):
                try:
                    return await self._attempt(step, request)
                except Exception as exc:
                    if attempt == step.retries or not _retryable(exc):
                        raise
                    STEP_ERRORS.labels(pipeline=self.name, step=name).inc()
                    log.warning(
                        "pipeline step retried",
                        extra={"pipeline": self.name, "step": name, "error": str(exc)},
                    )
            raise AssertionError("unreachable: the last attempt returns or raises")
        except Exception as exc:
            STEP_ERRORS.labels(pipeline=self.name, step=name).inc()
            status = _router_status(exc)
            message = exc.reason if isinstance(exc, StepFailed) else f"step {name}: {exc}"
            if status >= 500 and status != 504:
                log.exception("pipeline step failed", extra={"pipeline": self.name, "step": name})
            if step.dependency == "Hard":
                raise StepFailed(status, message, exc) from exc
            return {"error": message}
        finally:
            STEP_DURATION.labels(pipeline=self.name, step=name).observe(
                time.perf_counter() - started
            )
