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
import tarfile
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
PREVIOUS_CHART = ROOT / "tests" / "charts" / "data" / "modelplane-0.1.0.tgz"
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


def previous_chart_crd(plural: str) -> dict[str, Any]:
    """modelplane's CRD for ``plural`` (e.g. "modeldeployments") as the packaged 0.1.0 chart
    shipped it: what clusters upgrading from 0.1.0 hold."""
    with tarfile.open(PREVIOUS_CHART) as archive:
        member = archive.extractfile(f"modelplane/crds/modelplane.io_{plural}.yaml")
        assert member is not None
        crd: dict[str, Any] = yaml.safe_load(member.read())
        return crd


def crd_validators(crd: dict[str, Any]) -> dict[tuple[str, str], jsonschema.Draft7Validator]:
    """(apiVersion, kind) -> strict validator, for each version the CRD serves."""
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    return {
        (f"{group}/{version['name']}", kind): jsonschema.Draft7Validator(
            _strict(version["schema"]["openAPIV3Schema"])
        )
        for version in crd["spec"]["versions"]
        if version.get("served", True)
    }


@functools.cache
def _validators(folder: Path) -> dict[tuple[str, str], jsonschema.Draft7Validator]:
    validators = {}
    for path in folder.rglob("*.yaml"):
        validators.update(crd_validators(yaml.safe_load(path.read_text())))
    return validators


def with_defaults(schema: dict[str, Any], value: Any) -> Any:
    """``value`` with the schema's defaults filled in, as the API server stores a custom
    resource: a default applies where its field is absent and its parent object is present,
    and the defaults inside a defaulted object apply too."""
    if isinstance(value, dict) and schema.get("type") == "object":
        out = dict(value)
        properties = schema.get("properties") or {}
        for key, sub in properties.items():
            if key not in out and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
            if key in out:
                out[key] = with_defaults(sub, out[key])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in set(out) - set(properties):
                out[key] = with_defaults(extra, out[key])
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [with_defaults(schema["items"], item) for item in value]
    return value


def stored_under(crd: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as the API server holding ``crd`` stores it (defaults of its version applied)."""
    version = obj["apiVersion"].split("/")[-1]
    (schema,) = [
        v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"] if v["name"] == version
    ]
    stored: dict[str, Any] = with_defaults(schema, obj)
    return stored


def upgrade_problems(new_crd: dict[str, Any], stored: list[dict[str, Any]]) -> list[str]:
    """Why objects stored under an earlier CRD would break under ``new_crd``: their version no
    longer served, or a schema error (a field now required, a narrower type or enum, a field
    dropped -- the API server would prune it, losing what the user wrote)."""
    validators = crd_validators(new_crd)
    kind = new_crd["spec"]["names"]["kind"]
    problems = []
    for obj in (o for o in stored if o["kind"] == kind):
        where = f"{kind}/{obj['metadata']['name']}"
        validator = validators.get((obj["apiVersion"], kind))
        if validator is None:
            problems.append(f"{where}: {obj['apiVersion']} is no longer served")
            continue
        for error in validator.iter_errors(obj):
            path = ".".join(str(p) for p in error.absolute_path) or "(root)"
            problems.append(f"{where}: {path}: {error.message}")
    return problems


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
