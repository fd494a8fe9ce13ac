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
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from typing import Any

import gjson

from modelplane_inference.errors import ManifestError, ModelplaneError, StepFailed
from modelplane_inference.serving.metrics import STEP_DURATION, STEP_ERRORS
from modelplane_inference.stages.base import CLIENT_ERRORS, Item, Stage, public

__all__ = ["PipelineExecutor", "StepFailed", "condition_matches", "step_name"]
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


def step_name(step: Mapping[str, Any], index: int) -> str:
    return str(step.get("name") or step.get("deployment") or step.get("node") or index)


class PipelineExecutor:
    """Runs one ModelPipeline over in-process stages (deployment name -> :class:`Stage`)."""

    def __init__(self, name: str, spec: dict[str, Any], stages: Mapping[str, Stage]) -> None:
        self.name = name
        self.nodes = {node["name"]: node for node in spec["nodes"]}
        self.root = spec.get("root", "root")
        self.stages = stages
        self._random = random.Random()
        self._check()

    def _check(self) -> None:
        if self.root not in self.nodes:
            raise ManifestError(f"pipeline {self.name}: root node {self.root!r} not found")
        for node in self.nodes.values():
            for index, step in enumerate(node["steps"]):
                where = f"pipeline {self.name} node {node['name']} step {index}"
                if "deployment" in step and step["deployment"] not in self.stages:
                    raise ManifestError(
                        f"{where}: ModelDeployment {step['deployment']!r} "
                        "is not among the served deployments"
                    )
                if "node" in step and step["node"] not in self.nodes:
                    raise ManifestError(f"{where}: node {step['node']!r} does not exist")
                if node["routerType"] == "Sequence" and index == 0 and step.get("condition"):
                    raise ManifestError(
                        f"{where}: the first step of a Sequence has no previous "
                        "response to test its condition on"
                    )

    async def run(self, request: Item) -> Item:
        return await self._node(self.root, request)

    async def _node(self, name: str, request: Item) -> Item:
        node = self.nodes[name]
        router = node["routerType"]
        steps: list[dict[str, Any]] = node["steps"]
        if router == "Sequence":
            return await self._sequence(steps, request)
        if router == "Ensemble":
            return await self._ensemble(steps, request)
        if router == "Switch":
            view = {"instances": [public(request)]}
            for index, step in enumerate(steps):
                if condition_matches(view, step.get("condition", "")):
                    return await self._step(step, index, request)
            raise StepFailed(404, "None of the routes matched with the switch condition")
        if router == "Splitter":
            point, end = self._random.randrange(100), 0
            for index, step in enumerate(steps):
                end += int(step.get("weight", 0))
                if point < end:
                    return await self._step(step, index, request)
            raise StepFailed(500, f"node {name}: no Splitter route picked (weights < 100)")
        raise StepFailed(500, f"node {name}: invalid router type {router}")

    async def _sequence(self, steps: list[dict[str, Any]], request: Item) -> Item:
        response: Item = {}
        for index, step in enumerate(steps):
            given = response if step.get("data") == "$response" and index > 0 else request
            condition = step.get("condition")
            if condition and not condition_matches({"predictions": [public(response)]}, condition):
                log.info(
                    "sequence stopped by condition",
                    extra={
                        "pipeline": self.name,
                        "step": step_name(step, index),
                        "condition": condition,
                    },
                )
                return response
            response = await self._step(step, index, given)
        return response

    async def _ensemble(self, steps: list[dict[str, Any]], request: Item) -> Item:
        results = await asyncio.gather(
            *(self._step(step, i, request) for i, step in enumerate(steps))
        )
        return {
            step_name(step, i): public(result)
            for i, (step, result) in enumerate(zip(steps, results, strict=True))
        }

    async def _step(self, step: dict[str, Any], index: int, request: Item) -> Item:
        """One step, timed; failures follow the step's Hard/Soft dependency."""
        name = step_name(step, index)
        started = time.perf_counter()
        try:
            if "node" in step:
                return await self._node(step["node"], request)
            return await self.stages[step["deployment"]].run(dict(request))
        except Exception as exc:
            STEP_ERRORS.labels(pipeline=self.name, step=name).inc()
            status = (
                exc.router_status
                if isinstance(exc, StepFailed)
                else exc.status
                if isinstance(exc, ModelplaneError)
                else 400
                if isinstance(exc, CLIENT_ERRORS)
                else 500
            )
            message = exc.reason if isinstance(exc, StepFailed) else f"step {name}: {exc}"
            if status >= 500:
                log.exception("pipeline step failed", extra={"pipeline": self.name, "step": name})
            if step.get("dependency", "Hard") == "Hard":
                raise StepFailed(status, message, exc) from exc
            return {"error": message}
        finally:
            STEP_DURATION.labels(pipeline=self.name, step=name).observe(
                time.perf_counter() - started
            )
