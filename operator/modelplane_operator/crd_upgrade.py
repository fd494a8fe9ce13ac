"""``modelplane-operator --apply-crds DIR``: create or update modelplane's CRDs from files.

Run by the chart's pre-install/pre-upgrade hook Job (Helm never upgrades ``crds/``). A CRD that
exists is merge-patched with the file's ``spec`` (a merge patch replaces lists whole, so
``spec.versions`` becomes exactly the file's) and its labels/annotations; stored objects are
untouched: with a single version (v1alpha1, the storage version) the API server serves them
under the new schema as they are. Adding a version later means keeping v1alpha1 ``served`` and
moving ``storage: true`` to the new one, with a conversion strategy (see docs/operations.md).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from modelplane_operator.cluster import Cluster
from modelplane_operator.errors import APINotFoundError

log = logging.getLogger(__name__)
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def load_crds(folder: Path) -> list[dict[str, Any]]:
    """Every CustomResourceDefinition in ``folder``'s YAML files, in file-name order."""
    crds = []
    for path in sorted(folder.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                crds.append(doc)
    if not crds:
        raise ValueError(f"no CustomResourceDefinition in {folder}/*.yaml")
    return crds


async def apply_crd(cluster: Cluster, crd: dict[str, Any]) -> str:
    """Create ``crd`` or bring the stored one to it; returns "created", "updated" or
    "unchanged"."""
    name = crd["metadata"]["name"]
    try:
        current = await cluster.request("GET", f"{CRDS}/{name}") or {}
    except APINotFoundError:
        await cluster.request("POST", CRDS, crd)
        return "created"
    meta = crd.get("metadata", {})
    wanted = {k: meta[k] for k in ("labels", "annotations") if k in meta}
    current_meta = current.get("metadata", {})
    if current.get("spec") == crd["spec"] and all(
        (current_meta.get(k) or {}) | v == (current_meta.get(k) or {}) for k, v in wanted.items()
    ):
        return "unchanged"
    await cluster.request(
        "PATCH",
        f"{CRDS}/{name}",
        {"metadata": wanted, "spec": crd["spec"]},
        content_type="application/merge-patch+json",
    )
    return "updated"


async def apply_crds(folder: Path) -> dict[str, str]:
    """Apply every CRD in ``folder``; CRD name -> what was done. API errors propagate (the
    hook Job fails, and with it the Helm upgrade, before any operator pod changes)."""
    cluster = await Cluster.connect()
    try:
        done = {}
        for crd in load_crds(folder):
            done[crd["metadata"]["name"]] = action = await apply_crd(cluster, crd)
            log.info("CRD %s %s", crd["metadata"]["name"], action)
        return done
    finally:
        await cluster.close()
