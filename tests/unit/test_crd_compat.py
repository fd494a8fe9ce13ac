"""A CRD upgrade must not break the custom resources clusters already hold.

kmock does not tie stored objects to a CRD, so the hook test (tests/integration) cannot see a
schema change. Here the objects clusters hold -- tests/schemas/stored-crs.yaml, captured from
every earlier version of the examples plus one object setting every field of the 0.1.0 CRD --
are stored as the 0.1.0 API server stores them (its defaults applied), then validated against
the CRDs in manifests/crds with the schemas' own structural rules (jsonschema on
``openAPIV3Schema``, unknown fields refused, since the API server would prune them). The
current examples are checked the same way. The last test feeds deliberately incompatible
CRDs and expects each to be reported, so the check is known to bite.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from helpers import (
    OWN_CRDS,
    ROOT,
    load_examples,
    previous_chart_crd,
    stored_under,
    upgrade_problems,
)

STORED = [d for d in yaml.safe_load_all((ROOT / "tests/schemas/stored-crs.yaml").read_text()) if d]
PLURALS = {"ModelDeployment": "modeldeployments", "ModelPipeline": "modelpipelines"}


@functools.cache
def previous_crd(kind: str) -> dict[str, Any]:
    """The CRD the 0.1.0 chart installed for ``kind`` (read-only: cached)."""
    return previous_chart_crd(PLURALS[kind])


def current_crd(kind: str) -> dict[str, Any]:
    crd: dict[str, Any] = yaml.safe_load(
        (OWN_CRDS / f"modelplane.io_{PLURALS[kind]}.yaml").read_text()
    )
    return crd


@functools.cache
def held_by_clusters() -> list[dict[str, Any]]:
    """The stored objects as a 0.1.0 cluster holds them, defaults of that CRD applied
    (read-only: cached)."""
    return [stored_under(previous_crd(obj["kind"]), obj) for obj in STORED]


def test_the_stored_objects_were_valid_under_the_previous_crd() -> None:
    """Guards the fixture: each object is one the 0.1.0 API server accepted."""
    assert {obj["kind"] for obj in STORED} == set(PLURALS)
    for kind in PLURALS:
        assert upgrade_problems(previous_crd(kind), held_by_clusters()) == []


@pytest.mark.parametrize("kind", sorted(PLURALS))
def test_objects_clusters_hold_stay_valid_under_the_current_crd(kind: str) -> None:
    crd = current_crd(kind)
    examples = [stored_under(crd, obj) for obj in load_examples() if obj["kind"] == kind]
    assert examples
    assert upgrade_problems(crd, held_by_clusters()) == []
    assert upgrade_problems(crd, examples) == []


def spec_schema(crd: dict[str, Any]) -> dict[str, Any]:
    (version,) = [v for v in crd["spec"]["versions"] if v.get("storage")]
    spec: dict[str, Any] = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return spec


def require_owner(crd: dict[str, Any]) -> None:
    spec = spec_schema(crd)
    spec["properties"]["owner"] = {"type": "string"}
    spec.setdefault("required", []).append("owner")


def drop_monitoring(crd: dict[str, Any]) -> None:
    del spec_schema(crd)["properties"]["monitoring"]


def narrow_stages(crd: dict[str, Any]) -> None:
    spec_schema(crd)["properties"]["stage"]["enum"].remove("text-recognition")


def retype_batch_size(crd: dict[str, Any]) -> None:
    spec_schema(crd)["properties"]["batching"]["properties"]["maxBatchSize"] = {"type": "string"}


def stop_serving(crd: dict[str, Any]) -> None:
    for version in crd["spec"]["versions"]:
        version["served"] = False


INCOMPATIBLE: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    # name: (change to the ModelDeployment CRD, object it breaks, what the report says)
    "new required field": (require_owner, "car-quality-gate", "'owner' is a required property"),
    "dropped field": (drop_monitoring, "every-field-0-1-0", "'monitoring' was unexpected"),
    "narrowed enum": (narrow_stages, "doc-text-recognition", "is not one of"),
    "changed type": (retype_batch_size, "every-field-0-1-0", "is not of type 'string'"),
    "version not served": (stop_serving, "car-quality-gate", "is no longer served"),
}


@pytest.mark.parametrize("change", sorted(INCOMPATIBLE))
def test_an_incompatible_crd_change_is_reported(change: str) -> None:
    mutate, breaks, says = INCOMPATIBLE[change]
    crd = copy.deepcopy(current_crd("ModelDeployment"))
    mutate(crd)
    problems = upgrade_problems(crd, held_by_clusters())
    assert any(p.startswith(f"ModelDeployment/{breaks}:") and says in p for p in problems), problems
