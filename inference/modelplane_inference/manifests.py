"""Reading ModelDeployment and ModelPipeline manifests for ``modelplane serve``.

The CRDs in ``manifests/crds`` are the one source of the spec's shape and defaults, shared with
the operator without importing it: this module reads the same files (packaged into the wheel, or
from the source tree in an editable install) and applies their ``default`` values the way an API
server does, so a manifest means the same thing on a laptop as in a cluster.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

GROUP_VERSION = "modelplane.io/v1alpha1"
_PACKAGED = Path(__file__).parent / "crds"
_SOURCE_TREE = Path(__file__).resolve().parents[2] / "manifests" / "crds"


class ManifestError(ValueError):
    """A manifest that cannot be served; the message names the object and the problem."""


@functools.cache
def spec_schema(plural: str) -> dict[str, Any]:
    folder = _PACKAGED if _PACKAGED.is_dir() else _SOURCE_TREE
    crd = yaml.safe_load((folder / f"modelplane.io_{plural}.yaml").read_text())
    for version in crd["spec"]["versions"]:
        if version["name"] == "v1alpha1":
            schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
            return schema
    raise ManifestError(f"CRD {plural} has no v1alpha1")


def apply_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """Structural defaulting as the API server applies it (missing property -> ``default``)."""
    value = copy.deepcopy(value)
    if isinstance(value, dict):
        for key, prop in schema.get("properties", {}).items():
            if key not in value and "default" in prop:
                value[key] = copy.deepcopy(prop["default"])
            if key in value:
                value[key] = apply_defaults(value[key], prop)
    elif isinstance(value, list) and "items" in schema:
        value = [apply_defaults(item, schema["items"]) for item in value]
    return value


@dataclass(frozen=True)
class Deployment:
    """The parts of a ModelDeployment the local server uses."""

    name: str
    stage: str
    runtime: str
    model: str
    version: str
    storage_uri: str
    batching: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    source: Path | None = None

    def repository(self, default: Path) -> Path:
        """``file://`` points at a repository on this machine; any other scheme (pvc, s3, oci)
        is a cluster location that the local server maps to ``default``."""
        parsed = urlparse(self.storage_uri)
        if parsed.scheme != "file":
            return default
        path = Path(parsed.netloc + parsed.path) if parsed.netloc else Path(parsed.path)
        if not path.is_absolute() and self.source is not None:
            path = self.source.parent / path
        return path


@dataclass(frozen=True)
class Pipeline:
    name: str
    spec: dict[str, Any]


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
                spec = apply_defaults(doc.get("spec") or {}, spec_schema("modelpipelines"))
                pipelines.append(Pipeline(name=name, spec=spec))
    _check_unique([d.name for d in deployments] + [p.name for p in pipelines])
    return deployments, pipelines


def _deployment(name: str, raw: dict[str, Any], source: Path) -> Deployment:
    spec = apply_defaults(raw, spec_schema("modeldeployments"))
    try:
        model = spec["model"]
        return Deployment(
            name=name,
            stage=spec["stage"],
            runtime=spec["runtime"],
            model=model["name"],
            version=str(model["version"]),
            storage_uri=model["storageUri"],
            batching=dict(spec.get("batching", {})),
            parameters={str(k): str(v) for k, v in (spec.get("parameters") or {}).items()},
            source=source,
        )
    except KeyError as exc:
        raise ManifestError(f"ModelDeployment {name} in {source}: missing {exc}") from exc


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
