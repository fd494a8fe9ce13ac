"""The CRDs are the one source of the spec's shape and defaults.

A real API server applies the CRD's ``default`` values before the operator sees an object; the
operator applies them again itself so that objects stored without defaulting (an older CRD, an
emulator in tests) are reconciled exactly as a defaulted object would be, and ``modelplane serve``
applies them to manifests read from disk, so a manifest means the same on a laptop as in a cluster.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

GROUP = "modelplane.io"
VERSION = "v1alpha1"
GROUP_VERSION = f"{GROUP}/{VERSION}"
PLURALS = ("modeldeployments", "modelpipelines")
_PACKAGED = Path(__file__).parent / "crds"
_SOURCE_TREE = Path(__file__).resolve().parents[2] / "manifests" / "crds"


def crd_dir() -> Path:
    """Where the CRD files are: inside the wheel, or in the source tree for editable installs."""
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE_TREE


@functools.cache
def load_crd(plural: str) -> dict[str, Any]:
    """The CRD manifest of one modelplane kind, by plural (``modeldeployments``)."""
    path = crd_dir() / f"{GROUP}_{plural}.yaml"
    crd: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return crd


def object_schema(plural: str, version: str = VERSION) -> dict[str, Any]:
    """The whole openAPIV3Schema of one served version."""
    for served in load_crd(plural)["spec"]["versions"]:
        if served["name"] == version:
            schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
            return schema
    raise KeyError(f"{plural} has no version {version}")


def spec_schema(plural: str, version: str = VERSION) -> dict[str, Any]:
    """The openAPIV3Schema of ``.spec`` for one served version."""
    schema: dict[str, Any] = object_schema(plural, version)["properties"]["spec"]
    return schema


def apply_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """Return a copy of ``value`` with the schema's defaults filled in, as the API server does.

    Structural defaulting: a missing property gets its ``default``; objects that are present
    (or defaulted) are descended into; array items are defaulted item by item.
    """
    return _default_in_place(copy.deepcopy(value), schema)


def _default_in_place(value: Any, schema: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        for key, prop in schema.get("properties", {}).items():
            if key not in value and "default" in prop:
                value[key] = copy.deepcopy(prop["default"])
            if key in value:
                value[key] = _default_in_place(value[key], prop)
    elif isinstance(value, list) and "items" in schema:
        return [_default_in_place(item, schema["items"]) for item in value]
    return value
