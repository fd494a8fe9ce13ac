"""Where a stage's tensors are computed: in this process, or in a Triton predictor.

The same stage class runs as ``modelplane serve``'s in-process stage (``LocalBackend``: ONNX
Runtime with dynamic batching) and as the KServe transformer in front of Triton
(``TritonBackend``: Open Inference Protocol over gRPC, the fast path docs/architecture.md
measured). A stage only sees ``infer(tensors) -> tensors`` and the model's declared
inputs/outputs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import grpc
import numpy as np
from kserve.errors import InferenceError
from kserve.inference_client import InferenceGRPCClient
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb2
from kserve.protocol.grpc.grpc_predict_v2_pb2_grpc import GRPCInferenceServiceStub
from kserve.protocol.infer_type import InferInput, InferRequest, RequestedOutput
from tritonclient.utils import np_to_triton_dtype

from modelplane_inference.errors import Overloaded, PredictorUnavailable, RunnerInputError
from modelplane_inference.runtime.repository import (
    Batching,
    ModelConfig,
    TensorSpec,
    load_model_config,
)
from modelplane_inference.runtime.runner import ModelRunner, Tensors

log = logging.getLogger(__name__)
MAX_REMOTE_BATCH = 32  # recognition chunk size when the predictor's own limit is unknown


class Backend(Protocol):
    """What a stage needs from the model it wraps."""

    config: ModelConfig

    async def infer(self, inputs: Tensors) -> Tensors: ...

    def close(self) -> None: ...


class LocalBackend:
    """ONNX Runtime in this process, batched like Triton (see ``runner``)."""

    def __init__(self, config: ModelConfig, threads: int = 0) -> None:
        self.config = config
        self.runner = ModelRunner(config, threads=threads)

    async def infer(self, inputs: Tensors) -> Tensors:
        return await self.runner.infer(inputs)

    def close(self) -> None:
        self.runner.close()


class TritonBackend:
    """A Triton predictor over gRPC (``--predictor_host``), model ``--triton_model``.

    Uses KServe's own gRPC client and protocol stubs: ``tritonclient.grpc`` registers the same
    ``inference.*`` protobuf symbols as KServe and the two cannot share a process. The tensor
    layout comes from the predictor's model metadata (Triton and KServe both serve it), read
    once at load with retries while the predictor starts; side files (labels, the CTC character
    list) come from ``labels_file`` or from ``model_dir`` when the repository is mounted.
    ``modelplane serve --predictors triton`` passes the ``config`` it loaded Triton with, and a
    ``failure`` callable that says why its tritonserver stopped.

    Triton's answers map as its status does: ``INVALID_ARGUMENT`` is the request's fault (400),
    ``UNAVAILABLE`` means the predictor is gone (503, with ``failure``'s reason), the rest 500.
    """

    def __init__(
        self,
        host: str,
        model: str,
        model_dir: Path | None = None,
        labels_file: Path | None = None,
        wait_s: float = 300.0,
        config: ModelConfig | None = None,
        failure: Callable[[], str | None] | None = None,
    ) -> None:
        self.host, self.model = host, model
        self._client: InferenceGRPCClient | None = None
        self._failure = failure
        if config is not None:
            self.config = config
        elif model_dir is not None and (model_dir / "config.pbtxt").is_file():
            self.config = load_model_config(model_dir.parent, model_dir.name)
        else:
            self.config = self._from_metadata(wait_s)
        if labels_file is not None:
            lines = labels_file.read_text(encoding="utf-8").removesuffix("\n").split("\n")
            self.config = replace(self.config, labels=tuple(lines))

    def _from_metadata(self, wait_s: float) -> ModelConfig:
        deadline = time.monotonic() + wait_s
        with grpc.insecure_channel(self.host) as channel:
            stub = GRPCInferenceServiceStub(channel)
            while True:
                try:
                    meta = stub.ModelMetadata(pb2.ModelMetadataRequest(name=self.model), timeout=10)
                    break
                except grpc.RpcError as exc:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"predictor {self.host} has no model {self.model}: {exc}"
                        ) from exc
                    log.info("waiting for predictor", extra={"host": self.host})
                    time.sleep(2.0)

        def spec(t: Any) -> TensorSpec:
            shape = [int(d) for d in t.shape]
            dims = shape[1:] if shape and shape[0] == -1 else shape
            return TensorSpec(t.name, t.datatype, tuple(dims))

        batched = any(list(t.shape)[:1] == [-1] for t in meta.inputs)
        return ModelConfig(
            name=self.model,
            path=Path("."),
            version=(list(meta.versions) or ["1"])[-1],
            inputs=tuple(spec(t) for t in meta.inputs),
            outputs=tuple(spec(t) for t in meta.outputs),
            batching=Batching(max_batch_size=MAX_REMOTE_BATCH if batched else 0),
        )

    async def infer(self, inputs: Tensors) -> Tensors:
        if self._client is None:  # created on the serving event loop, not at load
            self._client = InferenceGRPCClient(url=self.host, retries=2)
        tensors = []
        for name, array in inputs.items():
            tensor = InferInput(name, list(array.shape), np_to_triton_dtype(array.dtype))
            tensor.set_data_from_numpy(array, binary_data=True)
            tensors.append(tensor)
        request = InferRequest(
            model_name=self.model,
            infer_inputs=tensors,
            request_outputs=[RequestedOutput(o.name) for o in self.config.outputs] or None,
        )
        try:
            response = await self._client.infer(request)
        except grpc.RpcError as exc:
            raise self._error(exc) from exc
        return {o.name: np.asarray(o.as_numpy()) for o in response.outputs}

    def _error(self, exc: grpc.RpcError) -> Exception:
        """The predictor's gRPC status as the error this server answers with."""
        code = exc.code() if hasattr(exc, "code") else None
        detail = exc.details() if hasattr(exc, "details") else str(exc)
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            return RunnerInputError(f"predictor {self.model}: {detail}")
        if code == grpc.StatusCode.UNAVAILABLE:
            reason = (self._failure() if self._failure else None) or detail
            return PredictorUnavailable(f"predictor {self.host} unavailable: {reason}")
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED and "larger than max" not in str(detail):
            # The predictor's back-pressure (its in-flight cap), not gRPC's message-size limit:
            # passed on as this stage's 429, with the predictor's retry hint.
            return Overloaded(f"predictor {self.model} is at capacity: {detail}", _retry_after(exc))
        error: Exception = InferenceError(f"predictor {self.model} ({code}): {detail}")
        return error

    def close(self) -> None:
        log.info("closing predictor client", extra={"host": self.host})


def _retry_after(exc: grpc.RpcError, default_s: float = 1.0) -> float:
    """The ``retry-after`` trailing metadata a modelplane server sends with RESOURCE_EXHAUSTED
    (seconds), else ``default_s``."""
    trailing = exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else None
    for key, value in trailing or ():
        if key == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                break
    return default_s
