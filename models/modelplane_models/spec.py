"""One description per model of its tensors, batching and files.

Triton rejects a model whose ``config.pbtxt`` disagrees with the ONNX graph, and TensorRT shape
profiles must agree with ``max_batch_size``. So a :class:`ModelSpec` is the single source: it
writes ``config.pbtxt`` (through the contract package, :mod:`modelplane_api.triton`, i.e. Triton's
own protobuf schema), names the ONNX export's inputs and outputs and gives its ``dynamic_axes``;
:meth:`ModelSpec.from_onnx` derives one from a graph we did not export ourselves (the PP-OCRv4
models). Tensors are the contract's :class:`~modelplane_api.triton.TensorSpec` (V2 datatypes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
from modelplane_api import triton
from modelplane_api.triton import Batching, TensorSpec

__all__ = ["BATCH_AXIS_NAME", "ONNX_TYPES", "ModelSpec", "TensorSpec"]

# V2 datatype -> ONNX TensorProto element type, for the datatypes our exports use.
ONNX_TYPES: dict[str, int] = {
    "FP32": onnx.TensorProto.FLOAT,
    "FP16": onnx.TensorProto.FLOAT16,
    "INT64": onnx.TensorProto.INT64,
    "INT32": onnx.TensorProto.INT32,
    "BOOL": onnx.TensorProto.BOOL,
}
_FROM_ONNX = {onnx_type: name for name, onnx_type in ONNX_TYPES.items()}
BATCH_AXIS_NAME = "batch"


@dataclass(frozen=True)
class ModelSpec:
    """Everything Triton and the exporter need to agree on for one model."""

    name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    max_batch_size: int
    preferred_batch_sizes: tuple[int, ...] = ()
    max_queue_delay_us: int = 2000
    platform: str = "onnxruntime_onnx"
    version: int = 1
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        """``torch.onnx.export`` dynamic axes: the batch axis plus every -1 dim, by tensor."""
        axes: dict[str, dict[int, str]] = {}
        for tensor in (*self.inputs, *self.outputs):
            named = {0: BATCH_AXIS_NAME}
            for index, dim in enumerate(tensor.dims, start=1):
                if dim < 0:
                    named[index] = f"{tensor.name}_{index}"
            axes[tensor.name] = named
        return axes

    @property
    def batching(self) -> Batching:
        return Batching(self.max_batch_size, self.max_queue_delay_us, self.preferred_batch_sizes)

    def model_config(self) -> triton.Message:
        """The Triton ``ModelConfig`` message (dynamic batching on when batching is)."""
        config = triton.new_config(name=self.name, platform=self.platform)
        for tensor in self.inputs:
            tensor.to_config(config.input.add())
        for tensor in self.outputs:
            tensor.to_config(config.output.add())
        self.batching.to_config(config)
        config.version_policy.latest.num_versions = 1
        for key, value in sorted(self.parameters.items()):
            config.parameters[key].string_value = value
        return config

    def pbtxt(self) -> str:
        """``config.pbtxt`` text, as Triton's own text-format printer writes it."""
        return triton.format_config(self.model_config())

    @classmethod
    def from_onnx(cls, path: Path, name: str, max_batch_size: int, **kwargs: Any) -> ModelSpec:
        """Read tensor names, dtypes and dims of a graph file; the first axis is the batch."""
        model = onnx.load(str(path), load_external_data=False)
        return cls.from_onnx_model(model, name, max_batch_size, **kwargs)

    @classmethod
    def from_onnx_model(
        cls, model: onnx.ModelProto, name: str, max_batch_size: int, **kwargs: Any
    ) -> ModelSpec:
        """As :meth:`from_onnx`, for a graph already in memory."""
        graph = model.graph
        initializers = {init.name for init in graph.initializer}
        inputs = [_tensor(v) for v in graph.input if v.name not in initializers]
        outputs = [_tensor(v) for v in graph.output]
        return cls(name, tuple(inputs), tuple(outputs), max_batch_size, **kwargs)


def _tensor(value: onnx.ValueInfoProto) -> TensorSpec:
    tensor_type = value.type.tensor_type
    dims = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in tensor_type.shape.dim)
    return TensorSpec(value.name, _FROM_ONNX[tensor_type.elem_type], dims[1:])
