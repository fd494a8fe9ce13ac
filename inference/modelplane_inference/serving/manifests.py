"""Reading ModelDeployment and ModelPipeline manifests for ``modelplane serve``.

The CRDs are the one source of the spec's shape and defaults, shared with the operator through
the contract package (:mod:`modelplane_api`), never by importing the operator: a manifest is
defaulted and typed exactly as the operator does it, so it means the same thing on a laptop as in
a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from modelplane_api.crds import GROUP_VERSION
from modelplane_api.pipeline import PipelineSpec, parse_pipeline
from modelplane_api.spec import DeploymentSpec, SpecError, parse_deployment
from modelplane_api.triton import Batching

from modelplane_inference.errors import ManifestError


@dataclass(frozen=True)
class Deployment:
    """A ModelDeployment as the local server serves it: its typed spec and where it was read."""

    name: str
    spec: DeploymentSpec
    source: Path | None = None

    @property
    def stage(self) -> str:
        return self.spec.stage

    @property
    def runtime(self) -> str:
        return self.spec.runtime

    @property
    def model(self) -> str:
        return self.spec.model.name

    @property
    def version(self) -> str:
        return self.spec.model.version

    @property
    def storage_uri(self) -> str:
        return self.spec.model.storage_uri

    @property
    def parameters(self) -> dict[str, str]:
        return self.spec.parameters

    @property
    def batching(self) -> Batching:
        """``spec.batching`` with the CRD's defaults: what the model runs with, as in a cluster."""
        return self.spec.batching

    def repository(self, default: Path) -> Path:
        """``file://`` points at a repository on this machine (relative to the manifest's
        folder); any other scheme (pvc, s3, oci) is a cluster location that the local server
        maps to ``default``."""
        folder = self.source.parent if self.source is not None else None
        return self.spec.model.storage.local_path(folder) or default


@dataclass(frozen=True)
class Pipeline:
    """A ModelPipeline as the local server runs it: the contract's typed, checked graph."""

    name: str
    spec: PipelineSpec


def load_manifests(folder: Path) -> tuple[list[Deployment], list[Pipeline]]:
    """Every ModelDeployment and ModelPipeline in ``folder`` (*.yaml, *.yml), defaulted."""
    deployments: list[Deployment] = []
    pipelines: list[Pipeline] = []
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else [folder]
    for path in files:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(doc, dict) or doc.get("apiVersion") != GROUP_VERSION:
                continue
            name = str(doc.get("metadata", {}).get("name", ""))
            if doc.get("kind") == "ModelDeployment":
                deployments.append(_deployment(name, doc.get("spec") or {}, path))
            elif doc.get("kind") == "ModelPipeline":
                pipelines.append(_pipeline(name, doc.get("spec") or {}, path))
    _check_unique([d.name for d in deployments] + [p.name for p in pipelines])
    return deployments, pipelines


def _deployment(name: str, raw: dict[str, Any], source: Path) -> Deployment:
    try:
        return Deployment(name=name, spec=parse_deployment(raw), source=source)
    except SpecError as exc:
        raise ManifestError(f"ModelDeployment {name} in {source}: {exc.reason}: {exc}") from exc


def _pipeline(name: str, raw: dict[str, Any], source: Path) -> Pipeline:
    try:
        return Pipeline(name=name, spec=parse_pipeline(raw))
    except SpecError as exc:
        raise ManifestError(f"ModelPipeline {name} in {source}: {exc.reason}: {exc}") from exc


def _check_unique(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if not name:
            raise ManifestError("a manifest has no metadata.name")
        if name in seen:
            raise ManifestError(
                f"two objects are named {name!r}; models and pipelines share "
                "one namespace on the local server"
            )
        seen.add(name)
