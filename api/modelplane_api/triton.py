"""Tensors, dynamic batching and ``config.pbtxt``, only through Triton's ``ModelConfig`` protobuf.

Triton rejects a model whose ``config.pbtxt`` disagrees with its graph, and it misreads nothing
that its own schema parses. So every ``config.pbtxt`` here is read with
``text_format.Parse(text, ModelConfig())`` (a typo'd field raises, as in Triton) and written from
the message (``text_format.MessageToString``), never with string formatting: the operator's
ConfigMap, the models' repository writer and the local server's reader all go through this module.

Tensor datatypes use the Open Inference Protocol v2 names (``FP32``, ``BYTES``), which are
Triton's ``TYPE_*`` names without the prefix (``TYPE_STRING`` is ``BYTES``).
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from google.protobuf import text_format

# The repository ``make models`` builds and ``modelplane serve`` reads, relative to the checkout.
DEFAULT_REPOSITORY = Path("models/repository")
CONFIG_FILE = "config.pbtxt"
# V2 datatype -> numpy dtype name (what ONNX Runtime feeds and returns).
NUMPY_NAMES: dict[str, str] = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
_PB2 = "tritonclient.grpc.model_config_pb2"
# A ``ModelConfig`` (or ``ModelInput``/``ModelOutput``) message: the generated classes are untyped.
Message = Any


@functools.cache
def model_config_pb2() -> ModuleType:
    """Triton's ``ModelConfig`` schema, loaded without ``tritonclient.grpc``'s package init.

    That init imports grpcio (which the operator image does not carry) and registers Triton's
    gRPC service protos, whose ``inference.*`` symbols collide with KServe's in the same process;
    the model-config proto alone needs only protobuf.
    """
    if _PB2 in sys.modules:
        return sys.modules[_PB2]
    import tritonclient  # the package init is light: no grpc, no http client

    path = Path(tritonclient.__file__).parent / "grpc" / "model_config_pb2.py"
    spec = importlib.util.spec_from_file_location(_PB2, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_PB2] = module
    spec.loader.exec_module(module)
    return module


def new_config(**fields: Any) -> Message:
    """An empty (or field-initialised) Triton ``ModelConfig`` message."""
    return model_config_pb2().ModelConfig(**fields)


def parse_config(text: str) -> Message:
    """Parse ``config.pbtxt`` text with Triton's schema; unknown fields raise, as in Triton."""
    return text_format.Parse(text, model_config_pb2().ModelConfig())


def format_config(config: Message) -> str:
    """``config.pbtxt`` text from the message, as Triton's own text-format printer writes it."""
    text: str = text_format.MessageToString(config)
    return text


def read_config(folder: Path) -> Message:
    """``<folder>/config.pbtxt`` parsed."""
    return parse_config((folder / CONFIG_FILE).read_text(encoding="utf-8"))


def write_config(folder: Path, config: Message) -> None:
    """Write ``<folder>/config.pbtxt`` from the message."""
    (folder / CONFIG_FILE).write_text(format_config(config), encoding="utf-8")


def triton_type(datatype: str) -> int:
    """V2 datatype (``FP32``) -> Triton's ``DataType`` enum (``TYPE_FP32``)."""
    name = "STRING" if datatype == "BYTES" else datatype
    value: int = model_config_pb2().DataType.Value(f"TYPE_{name}")
    return value


def v2_datatype(data_type: int) -> str:
    """Triton's ``DataType`` enum -> V2 datatype; the inverse of :func:`triton_type`."""
    name: str = model_config_pb2().DataType.Name(data_type).removeprefix("TYPE_")
    return "BYTES" if name == "STRING" else name


@dataclass(frozen=True)
class TensorSpec:
    """One input or output: V2 ``datatype``; ``dims`` exclude the batch axis, -1 is dynamic."""

    name: str
    datatype: str
    dims: tuple[int, ...]
    label_filename: str | None = None

    @property
    def numpy_dtype(self) -> Any:
        """The numpy dtype ONNX Runtime uses for this tensor (numpy is imported only here)."""
        import numpy as np

        return np.dtype(NUMPY_NAMES[self.datatype])

    def to_config(self, message: Message) -> None:
        """Fill a Triton ``ModelInput``/``ModelOutput`` message."""
        message.name = self.name
        message.data_type = triton_type(self.datatype)
        message.dims.extend(self.dims)
        if self.label_filename and hasattr(message, "label_filename"):
            message.label_filename = self.label_filename

    @classmethod
    def from_config(cls, message: Message) -> TensorSpec:
        """The tensor a ``ModelInput``/``ModelOutput`` message declares."""
        return cls(
            name=message.name,
            datatype=v2_datatype(message.data_type),
            dims=tuple(int(d) for d in message.dims),
            label_filename=getattr(message, "label_filename", "") or None,
        )


@dataclass(frozen=True)
class Batching:
    """Triton dynamic batching: how requests are grouped, and model instances per device.

    ``spec.batching`` of a ModelDeployment, the ``dynamic_batching``/``instance_group`` of a
    ``config.pbtxt`` and the local server's batcher all mean this.
    """

    max_batch_size: int = 0
    max_queue_delay_us: int = 0
    preferred_batch_sizes: tuple[int, ...] = ()
    instance_count: int = 1

    def updated(self, spec: Mapping[str, Any]) -> Batching:
        """These settings with a manifest's ``spec.batching`` (CRD key names) laid over them,
        key by key: what the manifest does not say is kept."""
        return Batching(
            max_batch_size=int(spec.get("maxBatchSize", self.max_batch_size)),
            max_queue_delay_us=int(spec.get("maxQueueDelayMicroseconds", self.max_queue_delay_us)),
            preferred_batch_sizes=tuple(
                int(b) for b in spec.get("preferredBatchSizes", self.preferred_batch_sizes)
            ),
            instance_count=int(spec.get("instanceCount", self.instance_count)),
        )

    def to_config(self, config: Message, instance_kind: str | None = None) -> None:
        """Set ``max_batch_size``, ``dynamic_batching`` (when batching) and, given a kind
        (``KIND_GPU``/``KIND_CPU``), one ``instance_group`` of ``instance_count``."""
        config.max_batch_size = self.max_batch_size
        if self.max_batch_size > 0:
            dynamic = config.dynamic_batching
            dynamic.preferred_batch_size.extend(self.preferred_batch_sizes)
            dynamic.max_queue_delay_microseconds = self.max_queue_delay_us
        if instance_kind is not None:
            group = config.instance_group.add()
            group.count = self.instance_count
            group.kind = model_config_pb2().ModelInstanceGroup.Kind.Value(instance_kind)

    @classmethod
    def from_config(cls, config: Message) -> Batching:
        """The batching a ``ModelConfig`` declares (instances summed over its groups)."""
        count = sum(group.count or 1 for group in config.instance_group) or 1
        if not config.HasField("dynamic_batching"):
            return cls(max_batch_size=config.max_batch_size, instance_count=count)
        dynamic = config.dynamic_batching
        return cls(
            max_batch_size=config.max_batch_size,
            max_queue_delay_us=dynamic.max_queue_delay_microseconds,
            preferred_batch_sizes=tuple(dynamic.preferred_batch_size),
            instance_count=count,
        )
