"""Every field of both CRDs carries a description, so ``kubectl explain`` documents all of them.

The README promises ``kubectl explain modeldeployment.spec.tensorrt`` explains every field; this
walks each served version's openAPIV3Schema (object properties, array items, map values) and
names every field that has no description.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from helpers import ROOT
from modelplane_api.crds import PLURALS, load_crd

CRD_DIR = ROOT / "manifests" / "crds"


def undescribed(schema: dict[str, Any], path: str) -> list[str]:
    """Paths (``spec.tensorrt.enabled``, ``spec.nodes[].name``) of fields with no description."""
    missing: list[str] = []
    for key, prop in (schema.get("properties") or {}).items():
        field = f"{path}.{key}" if path else key
        if not str(prop.get("description", "")).strip():
            missing.append(field)
        missing += undescribed(prop, field)
    if isinstance(schema.get("items"), dict):
        missing += undescribed(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        missing += undescribed(schema["additionalProperties"], f"{path}{{}}")
    return missing


def test_both_crds_are_walked() -> None:
    assert sorted(p.name for p in CRD_DIR.glob("*.yaml")) == [
        f"modelplane.io_{plural}.yaml" for plural in sorted(PLURALS)
    ]


@pytest.mark.parametrize("plural", PLURALS)
def test_every_field_has_a_description(plural: str) -> None:
    crd = yaml.safe_load((CRD_DIR / f"modelplane.io_{plural}.yaml").read_text(encoding="utf-8"))
    versions = crd["spec"]["versions"]
    assert versions
    for version in versions:
        schema = version["schema"]["openAPIV3Schema"]
        assert schema.get("description"), f"{plural} {version['name']}: the kind itself"
        missing = undescribed(schema, "")
        assert not missing, f"{plural} {version['name']}: no description for {missing}"


def test_the_contract_package_loads_these_files() -> None:
    """What the operator and the local server default from is the file checked above."""
    for plural in PLURALS:
        on_disk = yaml.safe_load((CRD_DIR / f"modelplane.io_{plural}.yaml").read_text("utf-8"))
        assert load_crd(plural) == on_disk


def test_the_walk_finds_nested_and_item_fields() -> None:
    """Guard the guard: a missing description deep in an array item and in a map is reported."""
    schema = {
        "properties": {
            "spec": {
                "description": "d",
                "properties": {
                    "steps": {
                        "description": "d",
                        "items": {"properties": {"name": {"type": "string"}}},
                    },
                    "labels": {"description": "d", "additionalProperties": {"properties": {}}},
                    "ok": {"description": "  "},
                },
            }
        }
    }
    assert undescribed(schema, "") == ["spec.steps[].name", "spec.ok"]
