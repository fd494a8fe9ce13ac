"""Pure helpers of the chart tier: where the chart is, its scenarios, and walking rendered objects.

A module of its own (not conftest) so test modules can import it; tests/charts/conftest.py puts
this folder on sys.path.
"""

from __future__ import annotations

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
    """Every image reference in an object: ``image:`` fields and the operator's *_IMAGE env."""
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


def alert_anchor(alert: str) -> str:
    """The GitHub-style anchor of a ``### <alert>`` heading in docs/operations.md."""
    return alert.lower()
