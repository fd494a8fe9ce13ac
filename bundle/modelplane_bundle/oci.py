"""Images as OCI content: resolve tags to digests and copy them into the bundle's OCI layout.

skopeo (Debian ``skopeo``) does the registry work: it reads registries without a daemon, copies
manifest lists whole (``--all``) and writes an OCI image layout that registries, skopeo, oras and
umoci read back. The digest recorded for an image is the one its manifest has *in the layout*
(what the site's registry will serve): for OCI sources it equals the upstream digest, for a
Docker v2 manifest skopeo converts it to OCI once, deterministically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelplane_bundle import BundleError

log = logging.getLogger(__name__)

LAYOUT = "images"
REF_NAME = "org.opencontainers.image.ref.name"
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
SKOPEO_TIMEOUT = 1800


@dataclass(frozen=True)
class Locked:
    """One line of ``images.lock``: what the installer pushes and checks."""

    digest: str
    ref: str  # the image's ref name in the bundle's OCI layout
    mirror_path: str  # repository under the site registry
    tag: str  # tag pushed next to the digest (a registry needs one to store a manifest)
    source: str  # where it came from, pinned: upstream@sha256:...

    def line(self) -> str:
        return "\t".join((self.digest, self.ref, self.mirror_path, self.tag, self.source))


def skopeo(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run skopeo; a missing binary or a failure is a BundleError with skopeo's own reason."""
    if shutil.which("skopeo") is None:
        raise BundleError("skopeo is not installed (Debian: apt-get install skopeo)")
    result = subprocess.run(["skopeo", *args], capture_output=True, timeout=SKOPEO_TIMEOUT)
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        raise BundleError(lines[-1] if lines else f"skopeo {args[0]} failed")
    return result


def split_reference(reference: str) -> tuple[str, str, str]:
    """``(repository, tag, digest)`` of ``host/repo[:tag][@sha256:...]``, the tag may be empty."""
    name, _, digest = reference.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ""
    return (name.removesuffix(f":{tag}") if tag else name), tag, digest


def resolve(source: str, tls_verify: bool) -> str:
    """The digest ``source`` has in its registry today (the top-level manifest or list)."""
    try:
        raw = skopeo(
            "inspect", "--raw", f"--tls-verify={str(tls_verify).lower()}", f"docker://{source}"
        ).stdout
    except BundleError as exc:
        raise BundleError(f"cannot resolve image {source}: {exc}") from exc
    digest = f"sha256:{hashlib.sha256(raw).hexdigest()}"
    pinned = split_reference(source)[2]
    if pinned and pinned != digest:
        raise BundleError(f"image {source} is served with digest {digest}")
    return digest


def ref_name(mirror_path: str, tag: str) -> str:
    """A layout ref name (``[A-Za-z0-9._-]``) for one image of the bundle."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", f"{mirror_path}-{tag}")


def layout_index(layout: Path) -> list[dict[str, Any]]:
    """The manifests listed in the layout's ``index.json`` (none for a new layout)."""
    path = layout / "index.json"
    if not path.is_file():
        return []
    manifests: list[dict[str, Any]] = json.loads(path.read_text()).get("manifests", [])
    return manifests


def layout_digest(layout: Path, ref: str) -> str:
    """The digest stored under ``ref`` in the layout."""
    for entry in layout_index(layout):
        if (entry.get("annotations") or {}).get(REF_NAME) == ref:
            return str(entry["digest"])
    raise BundleError(f"{ref} is missing from the OCI layout {layout}")


def copy_into_layout(source: str, digest: str, layout: Path, ref: str, tls_verify: bool) -> str:
    """Copy ``source`` at ``digest`` (all platforms) into the layout as ``ref``; the digest it
    has there."""
    repository = split_reference(source)[0]
    skopeo(
        "copy",
        "--quiet",
        "--all",
        f"--src-tls-verify={str(tls_verify).lower()}",
        f"docker://{repository}@{digest}",
        f"oci:{layout}:{ref}",
    )
    return layout_digest(layout, ref)


def blob_path(layout: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    return layout / "blobs" / algorithm / hexdigest


def write_blob(layout: Path, data: bytes) -> tuple[str, int]:
    """Store bytes as a content-addressed blob; (digest, size)."""
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    path = blob_path(layout, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest, len(data)


def add_to_index(layout: Path, ref: str, descriptor: dict[str, Any]) -> None:
    """List ``descriptor`` under ``ref`` in index.json (replacing an older entry of that name)."""
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    kept = [e for e in layout_index(layout) if (e.get("annotations") or {}).get(REF_NAME) != ref]
    entry = {**descriptor, "annotations": {REF_NAME: ref}}
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [*kept, entry]}
    (layout / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True))


def read_json_blob(layout: Path, digest: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(blob_path(layout, digest).read_bytes())
    return data


def platform_manifest(layout: Path, digest: str) -> dict[str, Any]:
    """The image manifest of ``digest``, the linux/amd64 one if it is an index."""
    document = read_json_blob(layout, digest)
    if "manifests" not in document:
        return document
    for entry in document["manifests"]:
        platform = entry.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return read_json_blob(layout, entry["digest"])
    raise BundleError(f"{digest} has no linux/amd64 image to base the models image on")


def write_lock(path: Path, locked: Sequence[Locked]) -> None:
    """``images.lock``: one tab-separated line per image, read by install.sh."""
    header = "# digest\tlayout-ref\tsite-repository\tsite-tag\tsource\n"
    path.write_text(header + "".join(f"{entry.line()}\n" for entry in locked))
