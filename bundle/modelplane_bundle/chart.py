"""Which images the chart needs, found by rendering it with the real Helm engine.

The list is not read from values.yaml: the chart is rendered (helm-python-sdk, in-process, no
helm binary) and every container image, ``MODELPLANE_*_IMAGE`` env value and image-inventory
ConfigMap entry is collected, so a template added later is carried without touching this module.

A second render pins every image block of the values (a mapping with ``repository`` and
``digest``) to a sentinel registry and a per-block sentinel digest. Pairing the two renders by
location tells, for each image, its source reference, the values block that produced it (where
the bundle writes the resolved digest) and its path under a mirror, exactly as the chart composes
it; an image that ignores ``global.imageRegistry`` or the digest could not be installed offline
and stops the bundle.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from modelplane_api.references import names_registry

from modelplane_bundle import BundleError

RELEASE = "modelplane"
NAMESPACE = "modelplane-system"
# A registry host no site has (RFC 2606 `.invalid`): the pinned render's images start with it.
SENTINEL = "mirror.modelplane.invalid"
INVENTORY_LABEL = "modelplane.io/image-inventory"
INSTALL_HELP = "pip install 'modelplane[bundle]' (helm-python-sdk: the Helm v4 SDK, no helm binary)"
# Pod templates by kind: path from the object to its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    # KServe copies a runtime's containers into each predictor pod.
    "ClusterServingRuntime": ("spec",),
    "ServingRuntime": ("spec",),
}
_PINNED = re.compile(rf"^{re.escape(SENTINEL)}/(?P<path>[^@]+)@sha256:(?P<index>[0-9a-f]{{64}})$")

Location = tuple[str, str]  # (where in the render, image reference)


@dataclass(frozen=True)
class ChartImage:
    """One image the chart renders: where it is pulled from on the connected host, the values
    block that sets it, and its repository path under a mirror (registry prefix excluded)."""

    source: str
    block: tuple[str, ...]
    mirror_path: str
    locations: tuple[str, ...]


def helm() -> Any:
    """helm-python-sdk, imported only here so the rest of the CLI runs without it."""
    try:
        import helm_python
    except ImportError as exc:
        raise BundleError(f"modelplane bundle needs the Helm SDK: {INSTALL_HELP}") from exc
    return helm_python


# --- values -----------------------------------------------------------------------------------


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's ``-f a -f b`` rule: maps merge key by key, anything else is replaced, and a null
    removes the key (so the bundle renders exactly what ``helm install -f ...`` would)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_values(files: Sequence[Path]) -> dict[str, Any]:
    """The values files, merged in order; a clear error for a missing or non-mapping file."""
    values: dict[str, Any] = {}
    for path in files:
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise BundleError(f"cannot read values file {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise BundleError(f"values file {path} is not a mapping")
        values = merge_values(values, loaded)
    return values


def image_blocks(values: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths of the image blocks in (chart default + site) values: mappings with a
    ``repository`` and a ``digest`` key, the shape of the chart's ``modelplane.image`` input."""
    if isinstance(values, dict):
        if "repository" in values and "digest" in values:
            yield path
            return
        for key, item in values.items():
            yield from image_blocks(item, (*path, str(key)))


def nest(path: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    """``{"a": {"b": leaf}}`` for path ``("a", "b")``: one block as a values override."""
    out: dict[str, Any] = leaf
    for key in reversed(path):
        out = {key: out}
    return out


# --- renders ----------------------------------------------------------------------------------


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _container_images(where: str, container: dict[str, Any]) -> Iterator[Location]:
    """A container's image and the images the operator is told to use (``MODELPLANE_*_IMAGE``
    env: the engine-build Job, transformers, storage initializer it renders later)."""
    if isinstance(container.get("image"), str):
        yield f"{where}.image", container["image"]
    for env in container.get("env") or []:
        name = env.get("name", "")
        if name.startswith("MODELPLANE_") and name.endswith("_IMAGE") and env.get("value"):
            yield f"{where}.env.{name}", str(env["value"])


def rendered_images(docs: Sequence[dict[str, Any]]) -> list[Location]:
    """(location, image) of every container of every pod the objects make and of the image
    inventory ConfigMap, in render order; the location names object and field."""
    found: list[Location] = []
    for doc in docs:
        meta = doc.get("metadata") or {}
        owner = f"{doc.get('kind')}/{meta.get('namespace', '')}/{meta.get('name', '')}"
        if (meta.get("labels") or {}).get(INVENTORY_LABEL) == "true":
            found += [(f"{owner}.data.{k}", str(v)) for k, v in (doc.get("data") or {}).items()]
        path = POD_SPEC_PATHS.get(doc.get("kind", ""))
        spec = _dig(doc, path) if path else None
        if not isinstance(spec, dict):
            continue
        for field in ("initContainers", "containers"):
            for container in spec.get(field) or []:
                where = f"{owner}.{field}[{container.get('name', '')}]"
                found += _container_images(where, container)
    return found


def parse_rendered(rendered: dict[str, str]) -> list[dict[str, Any]]:
    """Objects of a render (template path -> text), NOTES.txt left out."""
    docs: list[dict[str, Any]] = []
    for path in sorted(rendered):
        if not path.endswith(".txt"):
            docs += [d for d in yaml.safe_load_all(rendered[path]) if isinstance(d, dict)]
    return docs


def render_images(chart: Any, values: dict[str, Any]) -> list[Location]:
    """The images of one install render of the loaded chart."""
    rendered = chart.render(values=values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return rendered_images(parse_rendered(rendered))


def sentinel_digest(index: int) -> str:
    """A digest that names block number ``index`` (never a real image's)."""
    return f"sha256:{index:064x}"


def pin_blocks(values: dict[str, Any], blocks: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    """The values with the sentinel registry and block ``i`` pinned to ``sentinel_digest(i)``."""
    pinned = merge_values(values, {"global": {"imageRegistry": SENTINEL}})
    for index, block in enumerate(blocks, start=1):
        pinned = merge_values(pinned, nest(block, {"digest": sentinel_digest(index)}))
    return pinned


def pair_images(
    plain: Sequence[Location], pinned: Sequence[Location], blocks: Sequence[tuple[str, ...]]
) -> list[ChartImage]:
    """Each rendered image with its values block and mirror path, from the pinned render; an
    image that ignores ``global.imageRegistry`` or its block's digest is refused."""
    by_location = dict(pinned)
    grouped: dict[tuple[str, tuple[str, ...], str], list[str]] = {}
    for location, source in plain:
        match = _PINNED.match(by_location.get(location, ""))
        index = int(match["index"], 16) if match else 0
        if not match or not 1 <= index <= len(blocks):
            raise BundleError(
                f"{location}: image {source!r} does not follow global.imageRegistry and its "
                "values block's digest, so it could not be pulled offline"
            )
        grouped.setdefault((source, blocks[index - 1], match["path"]), []).append(location)
    return [ChartImage(s, b, p, tuple(where)) for (s, b, p), where in grouped.items()]


def chart_images(chart: Any, values: dict[str, Any]) -> list[ChartImage]:
    """Render the chart as asked and pinned, and pair the images (see the module docstring)."""
    defaults = chart.values if isinstance(chart.values, dict) else {}
    # The chart's own blocks (a site's null may remove a block's digest key) and any new ones.
    blocks = sorted({*image_blocks(defaults), *image_blocks(merge_values(defaults, values))})
    plain = render_images(chart, values)
    return pair_images(plain, render_images(chart, pin_blocks(values, blocks)), blocks)


def require_registry(images: Sequence[ChartImage]) -> None:
    """Refuse a reference with no registry host: docker and skopeo would look it up on Docker
    Hub, where modelplane's own images are not published (and the site has no route to it)."""
    for image in images:
        if not names_registry(image.source):
            raise BundleError(
                f"image {image.source} names no registry ({'.'.join(image.block)}): set its "
                f"`{'.'.join(image.block)}.registry` or `global.imageRegistry` in the values"
            )
