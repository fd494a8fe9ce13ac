"""``modelplane serve --predictors triton``: the cluster's serving topology on one machine.

In a cluster every ModelDeployment with ``runtime: triton`` is a KServe transformer (the stage)
calling a Triton predictor over gRPC (``--predictor_host``). Here one real ``tritonserver``
(``runtime/triton_local.py``) serves every such model, loaded from the config.pbtxt the operator
renders into its ConfigMap, and each stage calls it through the same ``TritonBackend`` a
transformer uses. ``runtime: python`` deployments keep ONNX Runtime in this process, as their
KServe python predictor does in a cluster.

The server around it (``serving/kserve_server.py``) asks :meth:`TritonPredictors.failure` for
readiness and before each request: once Triton has exited, ``/v2/health/ready`` is false and
every request is answered 503 with Triton's exit status and last log lines. ``/metrics``
carries Triton's own series (``nv_inference_*``, scraped from its metrics port) after the
server's; the local runner's imitation of those series is then left out, as a python predictor
exports none in a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

from modelplane_api.predictor import render_triton_config
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from modelplane_inference.runtime.backends import TritonBackend
from modelplane_inference.runtime.repository import ModelConfig
from modelplane_inference.runtime.triton_local import (
    ONNX_FILE,
    TritonError,
    TritonModel,
    TritonServer,
    write_repository,
)
from modelplane_inference.serving.manifests import Deployment
from modelplane_inference.serving.metrics import TRITON

log = logging.getLogger(__name__)
PREDICTORS = ("local", "triton")


def served_by_triton(dep: Deployment) -> bool:
    """Whether the cluster runs this deployment's model in a Triton predictor."""
    return dep.runtime == "triton" and dep.spec.model.format == "onnx"


class TritonPredictors:
    """The generated repository, the tritonserver process and the stages' backends to it."""

    def __init__(self, deployments: list[Deployment], repository: Path) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="modelplane-triton-")
        workdir = Path(self._tmp.name)
        self.models = self._plan(deployments, repository)
        self.server = TritonServer(workdir / "repository", workdir)

    @staticmethod
    def _plan(deployments: list[Deployment], repository: Path) -> dict[str, TritonModel]:
        """One Triton model per model name; deployments of one model share it (as they share
        the local runner), loaded with the first one's config."""
        models: dict[str, TritonModel] = {}
        for dep in filter(served_by_triton, deployments):
            onnx = dep.repository(repository) / dep.model / dep.version / ONNX_FILE
            model = TritonModel(dep.model, dep.version, render_triton_config(dep.spec), onnx)
            first = models.setdefault(dep.model, model)
            if first != model:
                log.warning(
                    "model shared by deployments with other settings; the first one's are loaded",
                    extra={"deployment": dep.name, "model": dep.model},
                )
            elif not onnx.is_file():
                log.error("model not in Triton", extra={"model": dep.model, "missing": str(onnx)})
                del models[dep.model]
        return models

    def start(self, wait_s: float = 180.0) -> None:
        """Write the repository, start Triton and wait until every model is ready."""
        write_repository(self.server.repository, list(self.models.values()))
        self.server.start(wait_s)
        with contextlib.suppress(KeyError):  # the imitation would duplicate Triton's names
            REGISTRY.unregister(TRITON)

    def backend(self, dep: Deployment, config: ModelConfig) -> TritonBackend | None:
        """The stage's client to Triton, or None when the model is not served there.

        The stage sees the batching Triton was loaded with (the operator's full, defaulted
        ``spec.batching``), not the repository's."""
        model = self.models.get(dep.model)
        if model is None or model.version != dep.version or not served_by_triton(dep):
            return None
        return TritonBackend(
            self.server.grpc_url,
            dep.model,
            config=replace(config, batching=dep.spec.batching),
            failure=self.failure,
        )

    def failure(self) -> str | None:
        """Why Triton no longer serves (None while it does, or while we stop it ourselves)."""
        return None if self.server.stopping else self.server.failure()

    async def metrics(self) -> bytes:
        """Triton's own exposition text; a comment line instead when it cannot be read."""

        def read() -> bytes:
            with urllib.request.urlopen(self.server.metrics_url, timeout=5) as reply:
                body: bytes = reply.read()
                return body

        try:
            return await asyncio.to_thread(read)
        except OSError as exc:
            return f"# tritonserver metrics unavailable: {exc}\n".encode()

    def stop(self) -> None:
        """Stop Triton (after the server's own in-flight requests) and remove the repository."""
        code = self.server.stop()
        log.info("tritonserver stopped", extra={"code": code})
        self._tmp.cleanup()


class PredictorMetrics:
    """ASGI middleware: ``GET /metrics`` is this process's registry followed by Triton's text
    (each family once: the imitation of Triton's series is unregistered)."""

    def __init__(self, app: Any, predictors: TritonPredictors) -> None:
        self.app, self.predictors = app, predictors

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/metrics" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        body = generate_latest(REGISTRY) + await self.predictors.metrics()
        headers = [
            (b"content-type", CONTENT_TYPE_LATEST.encode()),
            (b"content-length", b"%d" % len(body)),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


__all__ = ["PREDICTORS", "PredictorMetrics", "TritonError", "TritonPredictors", "served_by_triton"]
