"""Names, labels and owner references: the one place each of these is built (storage URIs:
``modelplane_api.storage``)."""

from __future__ import annotations

import re
from typing import Any

from modelplane_operator import API_VERSION

MANAGED_BY = "modelplane"
LABEL_DEPLOYMENT = "modelplane.io/deployment"
LABEL_PIPELINE = "modelplane.io/pipeline"
LABEL_STAGE = "modelplane.io/stage"
LABEL_COMPONENT = "app.kubernetes.io/component"


def dns_name(*parts: str, limit: int = 63) -> str:
    """A DNS-1035 name from parts, truncated to ``limit`` characters without a trailing dash."""
    name = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    return name[:limit].rstrip("-")


def child_labels(
    owner_name: str, kind: str, component: str, stage: str | None = None
) -> dict[str, str]:
    """Labels every child carries: standard app.kubernetes.io ones plus the owner's name."""
    labels = {
        "app.kubernetes.io/name": owner_name,
        "app.kubernetes.io/part-of": "modelplane",
        "app.kubernetes.io/managed-by": MANAGED_BY,
        LABEL_COMPONENT: component,
        LABEL_DEPLOYMENT if kind == "ModelDeployment" else LABEL_PIPELINE: owner_name,
    }
    if stage:
        labels[LABEL_STAGE] = stage
    return labels


def owner_reference(owner: dict[str, Any]) -> dict[str, Any]:
    """An ownerReference to a modelplane CR, so Kubernetes' GC deletes children with it."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner.get("apiVersion", API_VERSION),
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def child_metadata(
    owner: dict[str, Any], name: str, component: str, stage: str | None = None
) -> dict[str, Any]:
    """metadata for a namespaced child object of ``owner``."""
    meta = owner["metadata"]
    return {
        "name": name,
        "namespace": meta["namespace"],
        "labels": child_labels(meta["name"], owner["kind"], component, stage),
        "ownerReferences": [owner_reference(owner)],
    }
