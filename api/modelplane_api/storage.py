"""Storage URIs (``spec.model.storageUri``, ``spec.tensorrt.engineCacheUri``), parsed once.

KServe's storage URIs say where a model lives: ``pvc://<claim>/<path>``, ``s3://<bucket>/<key>``,
``oci://<registry>/<repository>:<tag>`` (a modelcar image) and ``file://`` for a path on this
machine. The operator renders init containers and volumes from the parts, ``modelplane serve``
reads a ``file://`` repository from disk; both go through :func:`parse_storage_uri`, so a URI
cannot be split two ways (a regex in one place and ``urlparse`` in another once disagreed on
``file://relative/path``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_URI = re.compile(r"^(?P<scheme>[a-z0-9+]+)://(?P<authority>[^/]*)/?(?P<path>.*)$")


@dataclass(frozen=True)
class StorageUri:
    scheme: str
    authority: str  # PVC name, bucket, registry host or "" for file://
    path: str  # without leading slash, except an absolute file:// path

    def join(self, *parts: str) -> str:
        """A URI below this one (``pvc://engines/a`` joined with ``b`` -> ``pvc://engines/a/b``)."""
        path = "/".join(p.strip("/") for p in (self.path, *parts) if p.strip("/"))
        return (
            f"{self.scheme}://{self.authority}/{path}"
            if path
            else f"{self.scheme}://{self.authority}"
        )

    def local_path(self, relative_to: Path | None = None) -> Path | None:
        """The folder a ``file://`` URI names (a relative one under ``relative_to``, the folder of
        the manifest); ``None`` for a cluster location (pvc, s3, oci)."""
        if self.scheme != "file":
            return None
        path = Path(self.path)
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        return path


def parse_storage_uri(uri: str) -> StorageUri:
    """Split a KServe storage URI; ``file:///abs/path`` keeps the absolute path,
    ``file://models/repo`` is relative. Raises ``ValueError`` for anything else."""
    match = _URI.match(uri)
    if not match:
        raise ValueError(f"not a storage URI: {uri!r}")
    scheme, authority, path = match["scheme"], match["authority"], match["path"]
    if scheme == "file":
        return StorageUri(scheme, "", "/" + path if not authority else f"{authority}/{path}")
    return StorageUri(scheme, authority, path.strip("/"))
