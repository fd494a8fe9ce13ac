"""Helpers shared by every tier: example manifests, CR factories, schema validators, and the
installed tools the tiers need.

Schema validation is the API server's job in a real cluster; here the upstream KServe and
Prometheus-operator CRDs vendored in tests/schemas/upstream-crds (pinned, PROVENANCE.md) play
that part, and kubernetes-validate checks core kinds. Unknown fields are errors (a real server
would silently prune them, hiding typos).

The Helm engine (``helm_python``) and Prometheus' tools are installed by ``make install`` and
``make system-deps``, which ``make test`` runs first: a missing one is a broken set-up, so the
tests that need it fail with the step to run, never skip.
"""

from __future__ import annotations

import copy
import functools
import importlib
import shutil
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM_CRDS = ROOT / "tests" / "schemas" / "upstream-crds"
EXAMPLES = ROOT / "manifests" / "examples"
OWN_CRDS = ROOT / "manifests" / "crds"
K8S_VERSION = "1.30"
NAMESPACE = "claims"
# Where each tool comes from: the step that installs it is named in the failure.
HELM_STEP = "helm-python-sdk is not installed: run `make install` (the dev extra)"
SYSTEM_STEP = "{tool} is not installed: run `make system-deps` (Debian package {package})"


def helm_python() -> ModuleType:
    """The in-process Helm engine, or a failure naming ``make install``."""
    try:
        return importlib.import_module("helm_python")
    except ImportError:
        pytest.fail(HELM_STEP, pytrace=False)


def system_tool(tool: str, package: str = "prometheus") -> str:
    """The path of a Debian-installed command (promtool, prometheus, ...), or a failure naming
    ``make system-deps``."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(SYSTEM_STEP.format(tool=tool, package=package), pytrace=False)
    return path


def load_examples() -> list[dict[str, Any]]:
    """Every document of every file in manifests/examples, in file order."""
    docs: list[dict[str, Any]] = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def as_stored(manifest: dict[str, Any], namespace: str = NAMESPACE) -> dict[str, Any]:
    """A manifest as the API server would store it: namespace, uid, generation set."""
    obj = copy.deepcopy(manifest)
    meta = obj.setdefault("metadata", {})
    meta.setdefault("namespace", namespace)
    meta.setdefault("uid", str(uuid.uuid4()))
    meta.setdefault("generation", 1)
    meta.setdefault("resourceVersion", "1")
    return obj


def make_deployment(name: str = "gate", **spec: Any) -> dict[str, Any]:
    """A stored ModelDeployment with a working default spec, overridden by ``spec``."""
    body: dict[str, Any] = {
        "stage": "quality-gate",
        "model": {"name": "quality-gate", "storageUri": "pvc://models/repository"},
        "resources": {"gpu": 1},
    }
    body.update(spec)
    return as_stored(
        {
            "apiVersion": "modelplane.io/v1alpha1",
            "kind": "ModelDeployment",
            "metadata": {"name": name},
            "spec": body,
        }
    )


def _strict(schema: Any) -> Any:
    """Disallow fields the schema does not name, as `kubectl apply --validate=strict` does.

    Go regexps may put ``(?i)`` after ``^``; Python wants global flags first.
    """
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        pattern = out.get("pattern")
        if isinstance(pattern, str) and "(?i)" in pattern[1:]:
            out["pattern"] = "(?i)" + pattern.replace("(?i)", "")
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _crd_schemas(folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    schemas = {}
    for path in folder.rglob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schemas[(f"{group}/{version['name']}", kind)] = _strict(
                version["schema"]["openAPIV3Schema"]
            )
    return schemas


@functools.cache
def _validators(folder: Path) -> dict[tuple[str, str], jsonschema.Draft7Validator]:
    return {key: jsonschema.Draft7Validator(schema) for key, schema in _crd_schemas(folder).items()}


def validate_manifest(obj: dict[str, Any]) -> None:
    """Raise if ``obj`` would be rejected: upstream CRD schema, our CRDs, or Kubernetes' own."""
    key = (obj["apiVersion"], obj["kind"])
    group = obj["apiVersion"].split("/")[0]
    if group in {"serving.kserve.io", "monitoring.coreos.com"}:
        validators = _validators(UPSTREAM_CRDS)
    elif group == "modelplane.io":
        validators = _validators(OWN_CRDS)
    else:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        return
    assert key in validators, f"no schema for {key}"
    error = jsonschema.exceptions.best_match(validators[key].iter_errors(obj))
    if error is not None:
        raise error
