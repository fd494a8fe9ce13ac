"""The Triton model repository, read the way Triton reads it.

A folder per model holds ``config.pbtxt`` (a ``ModelConfig`` in protobuf text format) and numbered
version folders with ``model.onnx``. Parsing uses Triton's own protobuf schema (shipped in
``tritonclient``) so a field Triton understands is never misread here; ``modelplane serve`` then
lays the ModelDeployment's ``spec.batching`` over it, as the operator's ConfigMap does in a cluster.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import tritonclient
from google.protobuf import text_format
from tritonclient.utils import triton_to_np_dtype

_PB2 = "tritonclient.grpc.model_config_pb2"


@functools.cache
def model_config_pb2() -> ModuleType:
    """Triton's ``ModelConfig`` schema, loaded without ``tritonclient.grpc``'s package init.

    That init registers Triton's gRPC service protos, whose ``inference.*`` symbols collide
    with KServe's in the same process; the model-config proto alone does not.
    """
    if _PB2 in sys.modules:
        return sys.modules[_PB2]
    path = Path(tritonclient.__file__).parent / "grpc" / "model_config_pb2.py"
    spec = importlib.util.spec_from_file_location(_PB2, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_PB2] = module
    spec.loader.exec_module(module)
    return module


class RepositoryError(RuntimeError):
    """The model repository lacks a model, a version or a readable config."""


@dataclass(frozen=True)
class TensorSpec:
    """One input or output: name, Triton datatype (``FP32``) and dims without the batch axis."""

    name: str
    datatype: str
    dims: tuple[int, ...]

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        dtype: np.dtype[Any] = np.dtype(triton_to_np_dtype(self.datatype))
        return dtype


@dataclass(frozen=True)
class Batching:
    """Triton dynamic batching: the settings that shape how requests are grouped."""

    max_batch_size: int = 0
    max_queue_delay_us: int = 0
    preferred_batch_sizes: tuple[int, ...] = ()
    instance_count: int = 1


@dataclass(frozen=True)
class ModelConfig:
    """What the runner needs from ``config.pbtxt`` plus the folder's side files."""

    name: str
    path: Path
    version: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    batching: Batching
    labels: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def onnx_path(self) -> Path:
        return self.path / self.version / "model.onnx"

    def input(self, name: str) -> TensorSpec:
        for spec in self.inputs:
            if spec.name == name:
                return spec
        raise RepositoryError(f"model {self.name} has no input {name!r}")

    def with_batching(self, overrides: dict[str, Any]) -> ModelConfig:
        """The manifest's ``spec.batching`` wins over config.pbtxt, key by key."""
        b = self.batching
        merged = Batching(
            max_batch_size=int(overrides.get("maxBatchSize", b.max_batch_size)),
            max_queue_delay_us=int(
                overrides.get("maxQueueDelayMicroseconds", b.max_queue_delay_us)
            ),
            preferred_batch_sizes=tuple(
                overrides.get("preferredBatchSizes", b.preferred_batch_sizes)
            ),
            instance_count=int(overrides.get("instanceCount", b.instance_count)),
        )
        return replace(self, batching=merged)


def _tensor(t: Any) -> TensorSpec:
    datatype = model_config_pb2().DataType.Name(t.data_type).removeprefix("TYPE_")
    return TensorSpec(
        name=t.name,
        datatype="BYTES" if datatype == "STRING" else datatype,
        dims=tuple(int(d) for d in t.dims),
    )


def parse_config(text: str) -> Any:
    """Parse config.pbtxt text with Triton's schema; unknown fields are an error, as in Triton."""
    return text_format.Parse(text, model_config_pb2().ModelConfig())


def _batching(cfg: Any) -> Batching:
    count = sum(group.count or 1 for group in cfg.instance_group) or 1
    if not cfg.HasField("dynamic_batching"):
        return Batching(max_batch_size=cfg.max_batch_size, instance_count=count)
    dyn = cfg.dynamic_batching
    return Batching(
        max_batch_size=cfg.max_batch_size,
        max_queue_delay_us=dyn.max_queue_delay_microseconds,
        preferred_batch_sizes=tuple(dyn.preferred_batch_size),
        instance_count=count,
    )


def _pick_version(folder: Path, cfg: Any, wanted: str | None) -> str:
    versions = sorted(
        (p.name for p in folder.iterdir() if p.is_dir() and p.name.isdigit()), key=int
    )
    if wanted is not None:
        if wanted not in versions:
            raise RepositoryError(f"model {folder.name} has no version {wanted} (has {versions})")
        return wanted
    policy = cfg.version_policy
    if policy.HasField("specific") and policy.specific.versions:
        return str(max(policy.specific.versions))
    if not versions:
        raise RepositoryError(f"model {folder.name} has no numbered version folder")
    return versions[-1]


def load_model_config(repository: Path, model: str, version: str | None = None) -> ModelConfig:
    """Read ``<repository>/<model>/config.pbtxt`` and its side files into a :class:`ModelConfig`."""
    folder = repository / model
    config_file = folder / "config.pbtxt"
    if not config_file.is_file():
        raise RepositoryError(f"no {config_file}: is the model repository built (make models)?")
    cfg = parse_config(config_file.read_text())
    labels_file = folder / "labels.txt"
    labels = tuple(_lines(labels_file)) if labels_file.is_file() else ()
    extra_file = folder / "modelplane.json"
    extra = json.loads(extra_file.read_text()) if extra_file.is_file() else {}
    return ModelConfig(
        name=cfg.name or model,
        path=folder,
        version=_pick_version(folder, cfg, version),
        inputs=tuple(_tensor(t) for t in cfg.input),
        outputs=tuple(_tensor(t) for t in cfg.output),
        batching=_batching(cfg),
        labels=labels,
        extra=extra,
    )


def side_file_lines(config: ModelConfig, name: str) -> list[str]:
    """Lines of another side file in the model folder (``regions.txt``), empty when absent."""
    path = config.path / name
    return _lines(path) if path.is_file() else []


def _lines(path: Path) -> list[str]:
    """Lines split on newline only: a character list may hold exotic separators as labels."""
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    return text.removesuffix("\n").split("\n") if text else []
