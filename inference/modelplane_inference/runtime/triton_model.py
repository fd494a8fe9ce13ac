"""Triton python-backend model that runs an ONNX file with ONNX Runtime: the local stand-in for
Triton's ``onnxruntime_onnx`` platform.

The ``tritonserver`` of the ``nvidia-pytriton`` wheel has no ONNX Runtime backend, only the python
backend. ``runtime/triton_local.py`` writes a two-line ``<model>/<version>/model.py`` that
subclasses :class:`OnnxRuntimeModel` next to a link to the real ``model.onnx``, and swaps
``platform: onnxruntime_onnx`` for ``backend: python`` in the ``config.pbtxt`` the operator
renders; everything else in that config (batching, instances, version policy) stays. This module
runs in Triton's python stub process: it imports numpy and onnxruntime, nothing else of
modelplane, and is never imported by the server itself.

What it mirrors of Triton's ONNX Runtime backend:

- auto-complete: the operator's ConfigMap declares no inputs or outputs (Triton reads them from
  the model), so ``auto_complete_config`` reads them from the ONNX graph the same way: the first
  axis is the batch axis when ``max_batch_size`` > 0, symbolic axes become -1;
- dynamic batching: Triton hands ``execute`` the requests its batcher grouped; requests whose
  tensors agree in every axis but the first run as one ONNX Runtime call, and each gets its rows;
- tensors cross the stub by DLPack (``np.from_dlpack``, ``Tensor.from_dlpack``), never by the
  stub's numpy converters: the wheel's stub was built against numpy 1.x, and with this
  environment's numpy 2 ``as_numpy`` reads garbage and ``Tensor(name, array)`` sends empty
  tensors (numpy 2 moved the dtype's item size); DLPack is a C ABI that numpy 2 keeps;
- threads: ONNX Runtime's own default intra-op pool (one thread per core), as the ORT backend
  without ``intra_op_thread_count``; ``$MODELPLANE_ORT_THREADS`` overrides it. Idle threads sleep
  instead of spinning (cores are shared with the transformers here).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils

MODEL_FILE = "model.onnx"
THREADS_ENV = "MODELPLANE_ORT_THREADS"
# ONNX Runtime element type -> Triton datatype (the types the repository's models use).
TRITON_TYPES = {
    "tensor(float)": "TYPE_FP32",
    "tensor(double)": "TYPE_FP64",
    "tensor(float16)": "TYPE_FP16",
    "tensor(int64)": "TYPE_INT64",
    "tensor(int32)": "TYPE_INT32",
    "tensor(int8)": "TYPE_INT8",
    "tensor(uint8)": "TYPE_UINT8",
    "tensor(bool)": "TYPE_BOOL",
    "tensor(string)": "TYPE_STRING",
}


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get(THREADS_ENV, "0"))
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _tensor_config(arg: Any, batched: bool) -> dict[str, Any]:
    """One ONNX input/output as Triton's auto-complete declares it."""
    shape = [d if isinstance(d, int) and d >= 0 else -1 for d in arg.shape]
    return {
        "name": arg.name,
        "data_type": TRITON_TYPES[arg.type],
        "dims": shape[1:] if batched else shape,
    }


class OnnxRuntimeModel:
    """One instance per ``instance_group`` count; each owns an ONNX Runtime session.

    The generated ``model.py`` subclasses it as ``TritonPythonModel`` and sets ``folder`` (the
    version folder holding ``model.onnx``): ``auto_complete_config`` runs before ``initialize``
    and is given no repository path.
    """

    folder = Path()

    @classmethod
    def auto_complete_config(cls, auto_complete_model_config: Any) -> Any:
        """Inputs and outputs from the ONNX graph when the config declares none."""
        config = auto_complete_model_config.as_dict()
        batched = int(config.get("max_batch_size", 0)) > 0
        session = _session(cls.folder / MODEL_FILE)
        if not config.get("input"):
            for arg in session.get_inputs():
                auto_complete_model_config.add_input(_tensor_config(arg, batched))
        if not config.get("output"):
            for arg in session.get_outputs():
                auto_complete_model_config.add_output(_tensor_config(arg, batched))
        return auto_complete_model_config

    def initialize(self, args: dict[str, str]) -> None:
        config = json.loads(args["model_config"])
        self.batched = int(config.get("max_batch_size", 0)) > 0
        folder = Path(args["model_repository"]) / args["model_version"]
        self.session = _session(folder / MODEL_FILE)
        self.inputs = [arg.name for arg in self.session.get_inputs()]
        self.outputs = [arg.name for arg in self.session.get_outputs()]

    def execute(self, requests: list[Any]) -> list[Any]:
        """Requests of one shape run together; a failing group fails only its requests."""
        responses: list[Any] = [None] * len(requests)
        groups: dict[tuple[Any, ...], list[tuple[int, dict[str, np.ndarray]]]] = {}
        for index, request in enumerate(requests):
            feed = {
                name: np.from_dlpack(pb_utils.get_input_tensor_by_name(request, name))
                for name in self.inputs
            }
            key = tuple(
                (name, a.dtype.str, a.shape[1:] if self.batched else a.shape)
                for name, a in feed.items()
            )
            groups.setdefault(key, []).append((index, feed))
        for members in groups.values():
            try:
                for index, outputs in self._run(members):
                    responses[index] = pb_utils.InferenceResponse(output_tensors=outputs)
            except Exception as exc:  # any failure goes back to the callers of this group
                for index, _ in members:
                    responses[index] = pb_utils.InferenceResponse(
                        error=pb_utils.TritonError(f"ONNX Runtime: {exc}")
                    )
        return responses

    def _run(self, members: list[tuple[int, dict[str, np.ndarray]]]) -> list[tuple[int, list[Any]]]:
        if len(members) == 1 or not self.batched:
            return [(index, self._tensors(self.session.run(None, feed))) for index, feed in members]
        feed = {name: np.concatenate([f[name] for _, f in members]) for name in self.inputs}
        results = self.session.run(None, feed)
        answers, start = [], 0
        for index, member in members:
            rows = len(next(iter(member.values())))
            answers.append((index, self._tensors([r[start : start + rows] for r in results])))
            start += rows
        return answers

    def _tensors(self, results: list[np.ndarray]) -> list[Any]:
        return [
            pb_utils.Tensor.from_dlpack(name, np.ascontiguousarray(value))
            for name, value in zip(self.outputs, results, strict=True)
        ]
