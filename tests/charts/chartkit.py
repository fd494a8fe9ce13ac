"""Pure helpers of the chart tier: where the chart is, its scenarios, and walking rendered objects.

A module of its own (not conftest) so test modules can import it; tests/charts/conftest.py puts
this folder on sys.path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml
from helpers import ROOT

CHART = ROOT / "charts" / "modelplane"
RELEASE = "modelplane"
NAMESPACE = "modelplane-system"
SCENARIOS = sorted(
    p.name.removesuffix("-values.yaml") for p in (CHART / "ci").glob("*-values.yaml")
)
OPERATIONS_DOC = ROOT / "docs" / "operations.md"

Docs = list[dict[str, Any]]


def scenario_values(scenario: str) -> dict[str, Any]:
    """The values of one ``ci/<scenario>-values.yaml`` file."""
    values: dict[str, Any] = (
        yaml.safe_load((CHART / "ci" / f"{scenario}-values.yaml").read_text()) or {}
    )
    return values


def parse_manifests(rendered: dict[str, str]) -> Docs:
    """Objects of a render, NOTES.txt left out, in template order."""
    docs: Docs = []
    for path in sorted(rendered):
        if path.endswith(".txt"):
            continue
        docs += [d for d in yaml.safe_load_all(rendered[path]) if d]
    return docs


def find(docs: Docs, kind: str, name: str | None = None) -> Docs:
    """Objects of one kind (and name)."""
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def pod_specs(docs: Docs) -> list[tuple[str, dict[str, Any]]]:
    """(owner, pod spec) of every pod the chart renders, and of the pods KServe builds from the
    ClusterServingRuntimes (their spec has the same containers/volumes shape)."""
    out = []
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        if kind == "Deployment":
            out.append((f"{kind}/{name}", doc["spec"]["template"]["spec"]))
        elif kind in {"Pod", "ClusterServingRuntime"}:
            out.append((f"{kind}/{name}", doc["spec"]))
    return out


def images(value: Any) -> Iterator[str]:
    """Every image reference in an object: ``image:`` fields, the operator's *_IMAGE env, and
    the data of the chart's image inventory ConfigMap (KServe's router, agent, initializer)."""
    if isinstance(value, dict) and is_image_inventory(value):
        yield from value.get("data", {}).values()
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "image" and isinstance(item, str):
                yield item
            else:
                yield from images(item)
        name = value.get("name")
        if isinstance(name, str) and name.startswith("MODELPLANE_") and name.endswith("_IMAGE"):
            yield value["value"]
    elif isinstance(value, list):
        for item in value:
            yield from images(item)


def is_image_inventory(obj: dict[str, Any]) -> bool:
    """The ConfigMap listing KServe's images (label ``modelplane.io/image-inventory``)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return obj.get("kind") == "ConfigMap" and labels.get("modelplane.io/image-inventory") == "true"


def alert_anchor(alert: str) -> str:
    """The GitHub-style anchor of a ``### <alert>`` heading in docs/operations.md."""
    return alert.lower()


CERT_MANAGER = "cert-manager.io/v1"


def check_cert_manager(obj: dict[str, Any]) -> None:
    """Structural check of the cert-manager objects the chart renders (Issuer, Certificate):
    tests/schemas/upstream-crds has no cert-manager CRDs, so the fields it needs are asserted here
    (cert-manager.io/v1: an Issuer names exactly one kind, a Certificate a Secret, DNS names
    and an issuer reference)."""
    where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    assert obj["apiVersion"] == CERT_MANAGER, where
    assert set(obj) == {"apiVersion", "kind", "metadata", "spec"}, where
    assert obj["metadata"]["name"] and obj["metadata"]["namespace"], where
    spec = obj["spec"]
    if obj["kind"] == "Issuer":
        kinds = {"selfSigned", "ca", "acme", "vault", "venafi"} & set(spec)
        assert len(kinds) == 1 and set(spec) == kinds, where
        assert spec.get("selfSigned", {}) == {}, where
    elif obj["kind"] == "Certificate":
        assert isinstance(spec["secretName"], str) and spec["secretName"], where
        assert spec["dnsNames"] and all(isinstance(n, str) for n in spec["dnsNames"]), where
        assert set(spec["issuerRef"]) <= {"name", "kind", "group"}, where
        assert spec["issuerRef"]["kind"] in {"Issuer", "ClusterIssuer"}, where
        allowed = {"secretName", "dnsNames", "issuerRef", "duration", "renewBefore", "privateKey"}
        assert set(spec) <= allowed, where
        for key in ("duration", "renewBefore"):
            assert re.fullmatch(r"([0-9]+(ms|s|m|h))+", spec.get(key, "1h")), (where, key)
        key = spec.get("privateKey", {})
        assert key.get("algorithm", "RSA") in {"RSA", "ECDSA", "Ed25519"}, where
        assert key.get("rotationPolicy", "Always") in {"Always", "Never"}, where
    else:
        raise AssertionError(f"unexpected cert-manager kind {where}")


def operator_config(docs: Docs) -> Any:
    """The operator's Config as its pod would load it from the rendered env (a
    ``modelplane_operator.config.Config``; imported here so chartkit stays import-light)."""
    from modelplane_operator.config import Config

    (deployment,) = [
        d
        for d in find(docs, "Deployment")
        if d["metadata"]["labels"].get("app.kubernetes.io/component") == "operator"
    ]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    return Config.from_env(env)
