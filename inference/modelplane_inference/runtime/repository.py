"""The Triton model repository, read the way Triton reads it.

A folder per model holds ``config.pbtxt`` (a ``ModelConfig`` in protobuf text format) and numbered
version folders with ``model.onnx``. Parsing goes through the contract package
(:mod:`modelplane_api.triton`, Triton's own protobuf schema) so a field Triton understands is never
misread here; ``modelplane serve`` then lays the ModelDeployment's ``spec.batching`` over it, as the
operator's ConfigMap does in a cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modelplane_api import triton
from modelplane_api.triton import Batching, TensorSpec

from modelplane_inference.errors import RepositoryError

__all__ = [
    "Batching",
    "ModelConfig",
    "RepositoryError",
    "TensorSpec",
    "load_model_config",
    "side_file_lines",
]


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

    def with_batching(self, batching: Batching) -> ModelConfig:
        """This model run with a deployment's batching: the defaulted ``spec.batching`` replaces
        config.pbtxt's, as the operator's rendered config.pbtxt does in a cluster (one meaning of
        an absent field: the CRD's default, see ``modelplane_api.spec``)."""
        return replace(self, batching=batching)


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
    cfg = triton.read_config(folder)
    labels_file = folder / "labels.txt"
    labels = tuple(_lines(labels_file)) if labels_file.is_file() else ()
    extra_file = folder / "modelplane.json"
    extra = json.loads(extra_file.read_text()) if extra_file.is_file() else {}
    return ModelConfig(
        name=cfg.name or model,
        path=folder,
        version=_pick_version(folder, cfg, version),
        inputs=tuple(TensorSpec.from_config(t) for t in cfg.input),
        outputs=tuple(TensorSpec.from_config(t) for t in cfg.output),
        batching=Batching.from_config(cfg),
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
