"""One description per model of its tensors, batching and files.

Triton rejects a model whose ``config.pbtxt`` disagrees with the ONNX graph, and TensorRT shape
profiles must agree with ``max_batch_size``. So a :class:`ModelSpec` is the single source: it
writes ``config.pbtxt`` (through Triton's own protobuf schema), names the ONNX export's inputs and
outputs and gives its ``dynamic_axes``; :meth:`ModelSpec.from_onnx` derives one from a graph we did
not export ourselves (the PP-OCRv4 models).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from google.protobuf import text_format  # type: ignore[import-untyped,unused-ignore]
from tritonclient.grpc import model_config_pb2 as mc

# numpy dtype name -> (Triton config enum, ONNX TensorProto enum)
DTYPES: dict[str, tuple[int, int]] = {
    "float32": (mc.TYPE_FP32, onnx.TensorProto.FLOAT),
    "float16": (mc.TYPE_FP16, onnx.TensorProto.FLOAT16),
    "int64": (mc.TYPE_INT64, onnx.TensorProto.INT64),
    "int32": (mc.TYPE_INT32, onnx.TensorProto.INT32),
    "bool": (mc.TYPE_BOOL, onnx.TensorProto.BOOL),
}
_FROM_ONNX = {onnx_type: name for name, (_, onnx_type) in DTYPES.items()}
BATCH_AXIS_NAME = "batch"


@dataclass(frozen=True)
class TensorSpec:
    """One input or output tensor; ``dims`` exclude the batch axis, -1 marks a dynamic axis."""

    name: str
    dtype: str
    dims: tuple[int, ...]
    label_filename: str | None = None

    @property
    def numpy_dtype(self) -> np.dtype[np.generic]:
        return np.dtype(self.dtype)

    def to_config(self, message: mc.ModelInput | mc.ModelOutput) -> None:
        """Fill a Triton ``ModelInput``/``ModelOutput`` message."""
        message.name = self.name
        message.data_type = DTYPES[self.dtype][0]
        message.dims.extend(self.dims)
        if self.label_filename and isinstance(message, mc.ModelOutput):
            message.label_filename = self.label_filename


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

    def model_config(self) -> mc.ModelConfig:
        """The Triton ``ModelConfig`` message (dynamic batching on when batching is)."""
        config = mc.ModelConfig(
            name=self.name, platform=self.platform, max_batch_size=self.max_batch_size
        )
        for tensor in self.inputs:
            tensor.to_config(config.input.add())
        for tensor in self.outputs:
            tensor.to_config(config.output.add())
        if self.max_batch_size > 0:
            batching = config.dynamic_batching
            batching.preferred_batch_size.extend(self.preferred_batch_sizes)
            batching.max_queue_delay_microseconds = self.max_queue_delay_us
        config.version_policy.latest.num_versions = 1
        for key, value in sorted(self.parameters.items()):
            config.parameters[key].string_value = value
        return config

    def pbtxt(self) -> str:
        """``config.pbtxt`` text, as Triton's own text-format printer writes it."""
        text: str = text_format.MessageToString(self.model_config())
        return text

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


def parse_pbtxt(text: str) -> mc.ModelConfig:
    """Parse ``config.pbtxt`` back into Triton's schema (a typo'd field name raises)."""
    return text_format.Parse(text, mc.ModelConfig())


def dtype_name(triton_type: int) -> str:
    """Triton ``TYPE_*`` enum -> numpy dtype name, the inverse of :data:`DTYPES`."""
    for name, (config_type, _) in DTYPES.items():
        if config_type == triton_type:
            return name
    raise KeyError(f"unsupported Triton data type {triton_type}")


def onnx_dtype_name(onnx_type: int) -> str:
    """ONNX ``TensorProto`` element type -> numpy dtype name."""
    return _FROM_ONNX[onnx_type]
